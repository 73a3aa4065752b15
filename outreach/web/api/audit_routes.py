"""GET /api/v1/audit: the audit log, newest first, cursor-paged, by action and time (admin only)."""

from __future__ import annotations

from outreach.web.api.cursors import decode_audit_cursor, encode_audit_cursor
from outreach.web.api.errors import ApiError
from outreach.web.api.models import AuditActor, AuditPage, AuditQuery, AuditRecord, AuditTarget
from outreach.web.api.registry import ApiRoute, Call
from storage.audit import AuditFilter, AuditRepository
from storage.db import read_session
from storage.tables import AuditEntry


def audit_record(entry: AuditEntry) -> AuditRecord:
    assert entry.id is not None
    kind = entry.actor_kind
    assert kind in ("token", "cli", "official", "service", "visitor")
    target = None if entry.target_kind is None else AuditTarget(kind=entry.target_kind, id=entry.target_id)
    return AuditRecord(
        id=entry.id,
        at=entry.at,
        actor=AuditActor(kind=kind, id=entry.actor_id, label=entry.actor_label),
        action=entry.action,
        target=target,
        details=entry.details,
    )


async def list_audit(call: Call) -> AuditPage:
    query = call.query_as(AuditQuery)
    for name, moment in (("since", query.since), ("until", query.until)):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(400, "invalid_parameter", f"give '{name}' with its offset, e.g. 2027-01-28T09:00:00Z")
    before_id = decode_audit_cursor(query.cursor) if query.cursor is not None else None
    which = AuditFilter(action=query.action, since=query.since, until=query.until)
    async with read_session(call.services.sessions) as session:
        entries = await AuditRepository(session).page(which, before_id=before_id, limit=query.limit + 1)
    more = len(entries) > query.limit
    entries = entries[: query.limit]
    last = entries[-1].id if entries else None
    next_cursor = encode_audit_cursor(last) if more and last is not None else None
    return AuditPage(data=[audit_record(entry) for entry in entries], next_cursor=next_cursor)


AUDIT_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/audit",
        list_audit,
        "listAuditLog",
        "Read the audit log",
        "audit",
        scope="admin",
        query=AuditQuery,
        response=AuditPage,
        unbound_only=True,
        description="Every recorded action of officials, operators and tokens (imports, campaign commands,"
        " exports, tokens made and revoked, every API write), newest first: who, when, what and on what,"
        " never the data itself.",
    ),
]
