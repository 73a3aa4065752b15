"""The environment of a bench's `outreach` processes: one place, so a new setting that stops a bench's
commands (as the launch approval did) is answered once for every bench."""

from __future__ import annotations

import os

# The benches launch to their own fake registers: no approver to ask (a launch to more than
# OUTREACH_ADMIN_APPROVAL_THRESHOLD residents waits for one).
NO_APPROVAL_NEEDED = str(10**9)


def outreach_cli_env(database_url: str, **settings: str) -> dict[str, str]:
    """PATH, HOME and PYTHONPATH from here (a worktree's code, not the installed checkout's, when
    PYTHONPATH names one), the database, warnings only, no approval; `settings` are further
    OUTREACH_* variables by their names without the prefix (spool_dir="...")."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_LOG_LEVEL": "WARNING",
        "OUTREACH_ADMIN_APPROVAL_THRESHOLD": NO_APPROVAL_NEEDED,
    }
    env.update({f"OUTREACH_{name.upper()}": value for name, value in settings.items()})
    return env
