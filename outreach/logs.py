"""Logging set-up: our messages carry ids and pseudonyms only, so third-party request logs that
could carry addresses or tokens are kept at WARNING."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_third_party_logs()


def quiet_third_party_logs() -> None:
    """Libraries that log addresses, answers or tokens below WARNING: request URLs (httpx, aiohttp's
    access log: link tokens are in the path), SQL with its values and result rows (SQLAlchemy at
    INFO/DEBUG, aiosqlite at DEBUG). The service calls this wherever it is wired (`bootstrap`)."""
    for noisy in ("httpx", "aiohttp.access", "sqlalchemy.engine", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A lifecycle tick that outlasts its interval is skipped (coalesced) by design: not a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
