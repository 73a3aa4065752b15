"""Launching a campaign from its pages (issue 21), under the two-person rule of
outreach.campaigns.launch_approval: the launch page shows whom a launch would ask and what it would
cost; over OUTREACH_ADMIN_APPROVAL_THRESHOLD an editor asks for the launch, another official with the
approver role approves or rejects it with a comment, and an editor then launches. The approval does not
launch by itself (docs/ADMIN.md says why). Approvers see what waits for them on the campaigns list and
the campaign's page, and get an e-mail when the service has a mail server (outreach.officials.notices)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outreach.audit import Actor
from outreach.campaigns.audience_preview import AudiencePreview
from outreach.campaigns.commands import CampaignCommandError, launch_campaign
from outreach.campaigns.fatigue import fatigue_of
from outreach.campaigns.launch_approval import (
    ApprovalForbidden,
    LaunchApprovalError,
    Waiting,
    decide,
    latest_request,
    needs_approval,
    request_launch,
    version_hash,
    waiting_for,
)
from outreach.officials.accounts import acting
from outreach.officials.notices import ApprovalWanted, tell_approvers
from outreach.officials.roles import may
from outreach.survey.sampling import SampleError
from outreach.web.admin.paths import PREFIX, launch_path
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import requires, signed_in
from outreach.web.keys import SERVICES
from storage.campaigns import CampaignRepository
from storage.db import read_session
from storage.launch_requests import LaunchRequestRepository
from storage.officials import OfficialRepository
from storage.tables import CampaignRecord


def add_launch_pages(admin: web.Application) -> None:
    admin.router.add_get("/campaigns/{slug}/launch", launch_page)
    admin.router.add_post("/campaigns/{slug}/launch", launch_submit)
    admin.router.add_post("/campaigns/{slug}/launch-request", request_submit)
    admin.router.add_post("/launch-requests/{id:\\d+}", decision_submit)


async def waiting_notices(request: web.Request) -> list[Waiting]:
    """What waits for the signed-in official's approval (nothing for those who may not approve)."""
    return await waiting_for(request.config_dict[SERVICES].sessions, signed_in(request))


async def _record(request: web.Request) -> CampaignRecord:
    async with read_session(request.config_dict[SERVICES].sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
    if record is None:
        raise web.HTTPNotFound(text="No such campaign.")
    return record


async def _launch_context(request: web.Request, record: CampaignRecord) -> dict[str, Any]:
    services = request.config_dict[SERVICES]
    settings = services.settings
    audience: AudiencePreview | None = None
    sample_error: SampleError | None = None
    try:
        audience = await services.audience_preview(services.definitions.flow(record), record.id)
    except SampleError as error:
        sample_error = error
    latest = await latest_request(services.sessions, record)
    names: dict[int, str] = {}
    if latest is not None:
        async with read_session(services.sessions) as session:
            officials = OfficialRepository(session)
            for official_id in (latest.requested_by, latest.decided_by):
                found = await officials.get(official_id) if official_id is not None else None
                if found is not None and found.id is not None:
                    names[found.id] = found.email
    count = len(audience.asked) if audience is not None else None
    official = signed_in(request)
    current = latest is not None and latest.version_hash == version_hash(record.definition)
    return {
        "record": record,
        "audience": audience,
        "asked": count,
        "sample_error": sample_error,
        "currency": settings.sms_price_currency,
        "threshold": settings.admin_approval_threshold,
        "needs_approval": count is not None and needs_approval(count, settings.admin_approval_threshold),
        "latest": latest,
        "current": current,
        "names": names,
        "may_decide": latest is not None
        and current
        and latest.state == "waiting"
        and latest.requested_by != official.id
        and may(official.role, "approve"),
        "error": None,
        "done": request.query.get("done"),
    }


@requires("edit")
async def launch_page(request: web.Request) -> web.StreamResponse:
    record = await _record(request)
    return render("launch.html", request, await _launch_context(request, record))


async def _refused(request: web.Request, record: CampaignRecord, error: Exception | str) -> web.Response:
    context = await _launch_context(request, record)
    context["error"] = error
    return render("launch.html", request, context, status=409)


@requires("edit")
async def launch_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    record = await _record(request)
    settings = services.settings
    try:
        await launch_campaign(
            services.sessions,
            record.slug,
            clock=services.clock,
            spread=services.spread,
            pseudonym_secret=settings.pseudonym_key(),
            sms_prices=settings.sms_prices,
            fatigue=fatigue_of(settings),
            actor=acting(signed_in(request)),
            approval_threshold=settings.admin_approval_threshold,
        )
    except (CampaignCommandError, LaunchApprovalError, SampleError) as refused:
        return await _refused(request, record, refused)
    raise web.HTTPSeeOther(f"{PREFIX}/campaigns/{record.slug}?done=launch")


@requires("edit")
async def request_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    record = await _record(request)
    official = signed_in(request)
    context = await _launch_context(request, record)
    if context["asked"] is None:
        return await _refused(request, record, context["sample_error"] or "")
    try:
        requested = await request_launch(
            services.sessions,
            record,
            official,
            audience=context["asked"],
            threshold=services.settings.admin_approval_threshold,
            clock=services.clock,
            actor=acting(official),
        )
    except LaunchApprovalError as refused:
        return await _refused(request, record, str(refused))
    assert requested.request.id is not None
    wanted = ApprovalWanted(
        campaign=record.name,
        request_id=requested.request.id,
        audience=requested.request.audience,
        requester=official.email,
        url=_absolute(request, launch_path(record.slug)),
    )
    await tell_approvers(services.settings, wanted, [approver.email for approver in requested.approvers])
    raise web.HTTPSeeOther(f"{launch_path(record.slug)}?done=requested")


@requires("approve")
async def decision_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    form = await request.post()
    official = signed_in(request)
    approve = form.get("decision") == "approve"
    actor: Actor = acting(official)
    request_id = int(request.match_info["id"])
    try:
        decided = await decide(
            services.sessions,
            request_id,
            official,
            approve=approve,
            comment=str(form.get("comment", "")),
            clock=services.clock,
            actor=actor,
        )
    except LaunchApprovalError as refused:
        record = await _campaign_of_request(request, request_id)
        context = await _launch_context(request, record)
        context["error"] = str(refused)
        return render("launch.html", request, context, status=403 if isinstance(refused, ApprovalForbidden) else 409)
    record = await _campaign_of_request(request, request_id)
    raise web.HTTPSeeOther(f"{launch_path(record.slug)}?done={decided.state}")


async def _campaign_of_request(request: web.Request, request_id: int) -> CampaignRecord:
    async with read_session(request.config_dict[SERVICES].sessions) as session:
        found = await LaunchRequestRepository(session).get(request_id)
        if found is None:
            raise web.HTTPNotFound(text="No such launch request.")
        return await CampaignRepository(session).get(found.campaign_id)


def _absolute(request: web.Request, path: str) -> str:
    """The page's address for an e-mail: the configured public URL (never the Host a request claims)."""
    return request.config_dict[SERVICES].settings.public_url.rstrip("/") + path
