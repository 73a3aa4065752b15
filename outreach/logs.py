"""Logging set-up: our messages carry ids and pseudonyms only, so third-party request logs that
could carry addresses or tokens are kept at WARNING."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_third_party_logs()


def quiet_third_party_logs() -> None:
    for noisy in ("httpx", "aiohttp.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A lifecycle tick that outlasts its interval is skipped (coalesced) by design: not a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
