"""The two-person rule of a large launch (issue 21), in one place for the pages, the API and the CLI.

A launch that would ask more residents than OUTREACH_ADMIN_APPROVAL_THRESHOLD needs an approval of
the campaign's current version by an official with the approver role who is not the official who
asked for it. The version is the sha256 of the stored definition, so any edit voids an approval.
`launch_campaign` calls `require_approval`, which is why no way of launching goes around it; asking
and deciding are `request_launch` and `decide`. An approval does not launch: whoever may edit
launches when the team is ready, on the page, through the API or at the CLI.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.campaign import Campaign
from outreach import audit
from outreach.audit import Actor
from outreach.campaigns.fatigue import Fatigue, fatigue_split
from outreach.campaigns.sampling import preview_plan, seed_of
from outreach.clock import Clock
from outreach.errors import CommandError, Explanation
from outreach.officials.roles import Permission, may
from outreach.survey.sampling import draw
from storage.campaigns import CampaignRepository
from storage.db import SessionFactory, read_session
from storage.launch_request_tables import COMMENT_LENGTH, LaunchRequest
from storage.launch_requests import LaunchRequestRepository
from storage.official_tables import Official
from storage.officials import OfficialRepository
from storage.residents import ResidentRepository
from storage.tables import CampaignRecord

THRESHOLD_SETTING = "OUTREACH_ADMIN_APPROVAL_THRESHOLD"

# Audit actions (outreach.audit): each step of the rule, and a launch it refused.
LAUNCH_REQUEST = "launch.request"
LAUNCH_APPROVE = "launch.approve"
LAUNCH_REJECT = "launch.reject"
LAUNCH_REFUSED = "launch.refused"


def version_hash(definition: Mapping[str, Any]) -> str:
    """The campaign's version: the sha256 of its stored definition in one canonical JSON form."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def needs_approval(audience: int, threshold: int) -> bool:
    return audience > threshold


APPROVAL_REQUIRED = (
    "campaign '%(slug)s' would ask %(audience)s residents, more than %(setting)s (%(threshold)s): it needs an"
    " approver's approval of this version (%(reason)s). Ask on its page (Request launch) or with `outreach"
    " campaign request-launch %(slug)s --as YOUR_EMAIL`; another official with the approver role approves it"
    " there or with `outreach campaign approve REQUEST --as THEIR_EMAIL`"
)


class LaunchApprovalError(CommandError):
    """A step of the rule refused, in words an official can act on."""


class ApprovalRequired(LaunchApprovalError):
    """A launch refused for want of an approval of this version; `request` is the latest request of
    the campaign (waiting, rejected, or of an older version), if any."""

    def __init__(self, record: CampaignRecord, audience: int, threshold: int, request: LaunchRequest | None) -> None:
        self.audience = audience
        self.threshold = threshold
        self.request = request
        self.current = request is not None and request.version_hash == version_hash(record.definition)
        if request is not None and self.current and request.state == "waiting":
            reason = Explanation(
                "request_waiting", "launch request %(id)s is waiting for an approver", {"id": request.id}
            )
        elif request is not None and self.current and request.state == "rejected":
            reason = Explanation(
                "request_rejected",
                "launch request %(id)s was rejected; ask again once the campaign is changed",
                {"id": request.id},
            )
        elif request is not None and not self.current:
            reason = Explanation(
                "request_of_older_version",
                "the campaign changed since launch request %(id)s: this version needs its own approval",
                {"id": request.id},
            )
        else:
            reason = Explanation("request_none", "nobody asked an approver yet")
        params = {"slug": record.slug, "audience": audience, "setting": THRESHOLD_SETTING, "threshold": threshold}
        super().__init__(Explanation("approval_required", APPROVAL_REQUIRED, params | {"reason": reason}))


class ApprovalForbidden(LaunchApprovalError):
    """The official may not take this step: the wrong role, a closed account, or their own request."""


async def launch_audience(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, *, now: datetime, fatigue: Fatigue
) -> set[int]:
    """The residents a launch now would ask: the sample it would draw, or the audience less those
    fatigue holds back (outreach.survey.sampling.SampleError when the sample cannot be drawn)."""
    assert record.id is not None
    sample = flow.audience.sample
    if sample is None:
        return (await fatigue_split(sessions, record.id, flow, now=now, fatigue=fatigue)).eligible
    plan = await preview_plan(sessions, record.id, flow, now=now, fatigue=fatigue)
    return {drawn.resident_id for drawn in draw(plan, seed_of(sample, record.id))}


async def require_approval(
    sessions: SessionFactory,
    record: CampaignRecord,
    audience: int,
    threshold: int,
    *,
    now: datetime,
    actor: Actor | None,
    recount: Callable[[], Awaitable[int]] | None = None,
) -> LaunchRequest | None:
    """The approval that lets this launch go ahead (None: small enough to need none); ApprovalRequired,
    recorded in the audit log, when it needs one it lacks. `recount`: `audience` was counted only up
    to the threshold + 1, and a refusal says the exact figure, which this counts."""
    if not needs_approval(audience, threshold):
        return None
    assert record.id is not None
    async with read_session(sessions) as session:
        requests = LaunchRequestRepository(session)
        approval = await requests.approved(record.id, version_hash(record.definition))
        latest = await requests.latest_of(record.id)
    if approval is not None:
        return approval
    if recount is not None:
        audience = await recount()
    refused = ApprovalRequired(record, audience, threshold, latest)
    if actor is not None:
        details: dict[str, audit.DetailValue] = {
            "slug": record.slug,
            "audience": audience,
            "threshold": threshold,
            "request": latest.id if latest is not None else None,
        }
        await audit.record_apart(sessions, actor, LAUNCH_REFUSED, "campaign", record.id, details, at=now)
    raise refused


async def approval_of_launch(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    drawn: set[int] | None,
    threshold: int,
    *,
    now: datetime,
    fatigue: Fatigue,
    actor: Actor | None,
) -> LaunchRequest | None:
    """`require_approval` of a launch now, whose audience is `drawn` (a sampled campaign's draw) or
    the eligible. Those are counted only as far as the rule needs: not at all when the register is no
    larger than the threshold (one query), else up to the threshold + 1; the exact figure only for a
    refusal's message. A city-wide launch does not read its whole audience twice."""
    assert record.id is not None
    campaign_id = record.id

    async def eligible(stop_above: int | None = None) -> int:
        split = await fatigue_split(sessions, campaign_id, flow, now=now, fatigue=fatigue, stop_above=stop_above)
        return len(split.eligible)

    if drawn is not None:
        return await require_approval(sessions, record, len(drawn), threshold, now=now, actor=actor)
    async with read_session(sessions) as session:
        register = await ResidentRepository(session).count()
    if not needs_approval(register, threshold):
        return None
    audience = await eligible(stop_above=threshold)
    return await require_approval(sessions, record, audience, threshold, now=now, actor=actor, recount=eligible)


def _usable(official: Official, permission: Permission) -> None:
    if official.deactivated_at is not None:
        raise ApprovalForbidden(f"the account {official.email} is closed")
    if permission == "approve" and not may(official.role, "approve"):
        raise ApprovalForbidden(f"{official.email} is a {official.role}: only an approver or an admin approves")
    if permission == "edit" and not may(official.role, "edit"):
        raise ApprovalForbidden(f"{official.email} is a {official.role}: only an editor asks for a launch")


@dataclass(frozen=True)
class Requested:
    request: LaunchRequest
    record: CampaignRecord
    approvers: list[Official]  # every active official who may approve it (its requester excepted)


async def request_launch(
    sessions: SessionFactory,
    record: CampaignRecord,
    requester: Official,
    *,
    audience: int,
    threshold: int,
    clock: Clock,
    actor: Actor,
) -> Requested:
    """Ask for an approval of the campaign's current version (an earlier waiting request is withdrawn)."""
    _usable(requester, "edit")
    assert record.id is not None and requester.id is not None
    if record.status != "draft":
        raise LaunchApprovalError(
            Explanation(
                "request_not_draft",
                "campaign '%(slug)s' is %(status)s: only a draft waits for a launch",
                {"slug": record.slug, "status": record.status},
                worded=("status",),
            )
        )
    if not needs_approval(audience, threshold):
        raise LaunchApprovalError(
            Explanation(
                "request_not_needed",
                "campaign '%(slug)s' would ask %(audience)s residents, not more than %(setting)s (%(threshold)s):"
                " it needs no approval, launch it",
                {"slug": record.slug, "audience": audience, "setting": THRESHOLD_SETTING, "threshold": threshold},
            )
        )
    now = clock()
    async with sessions() as session, session.begin():
        current = await CampaignRepository(session).get(record.id)
        requests = LaunchRequestRepository(session)
        await requests.withdraw_waiting(record.id)
        request = await requests.add(
            LaunchRequest(
                campaign_id=record.id,
                version_hash=version_hash(current.definition),
                audience=audience,
                state="waiting",
                requested_by=requester.id,
                requested_at=now,
            )
        )
        details: dict[str, audit.DetailValue] = {"slug": record.slug, "request": request.id, "audience": audience}
        await audit.record(session, actor, LAUNCH_REQUEST, "campaign", record.id, details, at=now)
        approvers = [
            official
            for official in await OfficialRepository(session).all()
            if official.deactivated_at is None and may(official.role, "approve") and official.id != requester.id
        ]
    return Requested(request, current, approvers)


async def decide(
    sessions: SessionFactory,
    request_id: int,
    approver: Official,
    *,
    approve: bool,
    comment: str | None,
    clock: Clock,
    actor: Actor,
) -> LaunchRequest:
    """Approve or reject a waiting request: never one's own, never one of a version since edited."""
    _usable(approver, "approve")
    comment = (comment or "").strip()[:COMMENT_LENGTH] or None
    now = clock()
    async with sessions() as session, session.begin():
        requests = LaunchRequestRepository(session)
        request = await requests.get(request_id)
        if request is None:
            raise LaunchApprovalError(Explanation("no_request", "no launch request %(id)s", {"id": request_id}))
        if request.requested_by == approver.id:
            raise ApprovalForbidden(
                Explanation("own_request", "you asked for this launch: another approver must decide on it")
            )
        if request.state != "waiting":
            raise LaunchApprovalError(
                Explanation(
                    "request_decided",
                    "launch request %(id)s is %(state)s already",
                    {"id": request_id, "state": request.state},
                    worded=("state",),
                )
            )
        record = await CampaignRepository(session).get(request.campaign_id)
        if version_hash(record.definition) != request.version_hash or record.status != "draft":
            await requests.withdraw_waiting(request.campaign_id)
            raise LaunchApprovalError(
                Explanation(
                    "request_outdated",
                    "campaign '%(slug)s' changed since launch request %(id)s: its editor asks again",
                    {"slug": record.slug, "id": request_id},
                )
            )
        assert approver.id is not None
        if not await requests.decide(
            request_id, "approved" if approve else "rejected", by=approver.id, at=now, comment=comment
        ):
            raise LaunchApprovalError(
                Explanation(
                    "request_gone", "launch request %(id)s was decided or withdrawn meanwhile", {"id": request_id}
                )
            )
        details: dict[str, audit.DetailValue] = {"slug": record.slug, "request": request_id}
        details["comment"] = comment is not None  # whether one was given; the words stay on the request
        action = LAUNCH_APPROVE if approve else LAUNCH_REJECT
        await audit.record(session, actor, action, "campaign", record.id, details, at=now)
        await session.refresh(request)
        return request


@dataclass(frozen=True)
class Waiting:
    request: LaunchRequest
    record: CampaignRecord
    requester: Official | None


async def waiting_for(sessions: SessionFactory, official: Official) -> list[Waiting]:
    """The requests this official could approve now: none for those who may not approve; never their
    own; never one whose campaign changed since (it can no longer be approved)."""
    if official.deactivated_at is not None or not may(official.role, "approve"):
        return []
    async with read_session(sessions) as session:
        officials = OfficialRepository(session)
        return [
            Waiting(request, record, await officials.get(request.requested_by))
            for request, record in await LaunchRequestRepository(session).waiting()
            if request.requested_by != official.id
            and record.status == "draft"
            and version_hash(record.definition) == request.version_hash
        ]


async def latest_request(sessions: SessionFactory, record: CampaignRecord) -> LaunchRequest | None:
    assert record.id is not None
    async with read_session(sessions) as session:
        return await LaunchRequestRepository(session).latest_of(record.id)
