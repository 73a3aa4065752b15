"""`outreach audit [--since WHEN] [--action ACTION] [--limit N]`: the audit log, newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, fail, run_with_services

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from storage.tables import AuditEntry


def _moment(text: str) -> datetime:
    """A day (YYYY-MM-DD, its midnight) or a time (ISO 8601); UTC unless it names its offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--since takes a day (2027-01-28) or a time (2027-01-28T09:00, +01:00), not {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def audit_line(entry: AuditEntry) -> str:
    target = f"{entry.target_kind} {entry.target_id or ''}".strip() if entry.target_kind else "-"
    details = json.dumps(entry.details, ensure_ascii=False, separators=(",", ":")) if entry.details else ""
    actor = f"{entry.actor_kind}:{entry.actor_id}"
    if entry.actor_label != entry.actor_id:
        actor += f" ({entry.actor_label})"
    at = entry.at.isoformat(timespec="seconds")
    return "  ".join(part for part in (str(entry.id), at, actor, entry.action, target, details) if part)


def audit(
    since: Annotated[str | None, typer.Option("--since", help="From this day or time on (UTC unless offset).")] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="One action (campaign.launch), or a prefix ending in '.' (campaign.)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many entries, newest first.", min=1)] = 100,
) -> None:
    """Who did what, when: imports, campaign commands, exports, tokens, API writes (never the data)."""
    from storage.audit import AuditFilter, AuditRepository
    from storage.db import read_session

    which = AuditFilter(action=action, since=_moment(since) if since is not None else None)

    async def work(services: Services) -> None:
        async with read_session(services.sessions) as session:
            entries = await AuditRepository(session).page(which, before_id=None, limit=limit)
        if not entries:
            console.print("no audit entries" + (" match" if since or action else " yet"))
        for entry in entries:
            typer.echo(audit_line(entry))

    run_with_services(work)
