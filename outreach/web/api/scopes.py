"""What an API token may be allowed to do, each scope with its meaning: apart from outreach.web.api.auth,
so that `outreach token --help` lists them without loading the database (tests/outreach/cli/test_lazy.py)."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "campaigns:read": "list and read campaigns and their status",
    "responses:read": "read results (counts, small cells suppressed) and data dictionaries (includes campaigns:read)",
    "responses:rows": "read answers row by row: the answer feed and the exports (includes responses:read)",
    "campaigns:write": "create and launch campaigns (includes campaigns:read)",
    "residents:write": "add or update residents (never read them back)",
    "admin": "everything, including managing tokens",
}
