"""The refusal of a request about webhook subscribers, apart from the work (which loads aiohttp), so
that the CLI names it at start-up without loading the web client."""

from __future__ import annotations


class SubscriptionError(Exception):
    """A request about subscribers that cannot be done; `kind` is not_found, invalid or conflict."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
