"""The error a command an official or operator gave cannot be carried out, said in plain words."""

from __future__ import annotations


class CommandError(Exception):
    """Shown as it is (no traceback) by the CLI, as 4xx by the API."""
