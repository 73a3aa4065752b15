"""What each official's role may do on the pages (issue 21). One table, read by the pages and the docs.

- viewer: read campaigns, their progress and results (aggregates only).
- editor: also download answers row by row (CSV, JSON Lines, Flow Results: pseudonymous rows can
  still name a person, see docs/API.md), compose, preview and test-send campaigns, pause, resume
  and close them, and launch one small enough to need no
  approval (OUTREACH_ADMIN_APPROVAL_THRESHOLD); a larger launch waits for an approver.
- approver: an editor who may also approve a launch someone else asked for.
- admin: everything, including officials' accounts.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "editor", "approver", "admin"]
Permission = Literal["view", "export", "edit", "approve", "manage_officials"]

ROLES: tuple[Role, ...] = ("viewer", "editor", "approver", "admin")
PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({"view"}),
    "editor": frozenset({"view", "export", "edit"}),
    "approver": frozenset({"view", "export", "edit", "approve"}),
    "admin": frozenset({"view", "export", "edit", "approve", "manage_officials"}),
}


def may(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())
