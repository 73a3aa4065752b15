"""The error a command an official or operator gave cannot be carried out, said in plain words."""

from __future__ import annotations

import os
import socket

from flows.explanation import Explanation

__all__ = ["CommandError", "Explanation", "system_reason"]


class CommandError(Exception):
    """Shown as it is (no traceback) by the CLI, as 4xx by the API."""

    def __init__(self, message: str | Explanation) -> None:
        self.explanation = message if isinstance(message, Explanation) else None
        super().__init__(message.text if isinstance(message, Explanation) else message)


def system_reason(error: OSError) -> str:
    """The system's words for why a socket call failed, in lower case: asyncio's own message repeats
    the address ("connect call failed ('127.0.0.1', 1)") and a name lookup's errno is not the C one."""
    if isinstance(error, socket.gaierror):
        return str(error.strerror or error).lower()
    if error.errno:
        return os.strerror(error.errno).lower()
    return "no answer in time" if isinstance(error, TimeoutError) else type(error).__name__
