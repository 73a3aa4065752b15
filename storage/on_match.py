"""What an import row does to a resident who already owns one of its addresses: an option of the
CLI and the API, kept apart from storage.residents so that parsing a command line needs no database."""

from __future__ import annotations

from enum import StrEnum


class OnMatch(StrEnum):
    """What a row does to the resident who already owns one of its addresses."""

    SKIP = "skip"  # nothing: the row is taken as known, and that resident is left as they were
    UPDATE = "update"  # language, attributes and the consent of the addresses they already own
    MERGE = "merge"  # as update, and the row's new addresses are attached to that resident
