"""Logging set-up: our messages carry ids and pseudonyms only, so third-party request logs that
could carry addresses or tokens are kept at WARNING.

Two formats (OUTREACH_LOG_FORMAT): `text`, a line a person reads, and `json`, one JSON object per line
for a log collector: time, level, logger, message, process id, and a traceback where there is one.
Only those fields: a record's extra attributes are never written, so whatever a library attaches to a
record (a request, a message) cannot carry an address into the log."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (a traceback's newlines are escaped inside its string)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    quiet_third_party_logs()


def configure_command_logging(level: str, log_format: LogFormat = "text") -> None:
    """A one-shot command's logging: warnings and errors only (what it did is its own output), in
    OUTREACH_LOG_FORMAT, so a command run by cron or a unit writes JSON lines as `serve` does rather
    than Python's bare last-resort lines."""
    asked = logging.getLevelNamesMapping().get(level.upper(), logging.WARNING)
    configure_logging(logging.getLevelName(max(asked, logging.WARNING)), log_format)


def quiet_third_party_logs() -> None:
    """Libraries that log addresses, answers or tokens below WARNING: request URLs (httpx, aiohttp's
    access log: link tokens are in the path), SQL with its values and result rows (SQLAlchemy at
    INFO/DEBUG, aiosqlite at DEBUG). The service calls this wherever it is wired (`bootstrap`)."""
    for noisy in ("httpx", "aiohttp.access", "sqlalchemy.engine", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A lifecycle tick that outlasts its interval is skipped (coalesced) by design: not a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
