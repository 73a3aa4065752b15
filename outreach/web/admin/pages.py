"""The officials' pages: log in and out, set a password from a one-time link, the campaigns list.

Mounted under /admin as a sub-application with its own middleware (outreach.web.admin.sessions), its
jinja2 templates and its static files; `add_admin_pages(app)` is the one line the web app needs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from flows.answer_labels import question_types
from outreach import audit
from outreach.campaigns.commands import CampaignCommandError, close_campaign, pause_campaign, resume_campaign
from outreach.campaigns.progress import campaign_progress
from outreach.officials.accounts import (
    AccountError,
    LinkInvalid,
    LoginRefused,
    account_policy,
    acting,
    link_holder,
    log_in,
    log_out,
    set_password,
)
from outreach.results.exports import ExportKind
from outreach.web.admin import i18n
from outreach.web.admin.charts import question_charts
from outreach.web.admin.editor_pages import add_editor_pages
from outreach.web.admin.launch_pages import add_launch_pages, waiting_notices
from outreach.web.admin.officials_pages import add_officials_pages
from outreach.web.admin.paths import HOME, LOGIN
from outreach.web.admin.preview_page import campaign_preview
from outreach.web.admin.rendering import render
from outreach.web.admin.results_panels import SlowFiguresCache, results_panels
from outreach.web.admin.sessions import (
    POLICY,
    SESSION_COOKIE,
    THROTTLE,
    AddressThrottle,
    admin_guard,
    local_next,
    minutes_until,
    official_of,
    requires,
    set_retry_after,
    set_session_cookie,
    signed_in,
)
from outreach.web.admin.sso_pages import add_sso_pages
from outreach.web.admin.trial_send_page import add_test_send
from outreach.web.downloads import stream_answers, stream_flow_results
from outreach.web.keys import SERVICES
from storage.answer_feed import campaign_counts
from storage.campaigns import CampaignRepository
from storage.db import read_session
from storage.read_models import campaign_results
from storage.tables import CampaignRecord

HERE = Path(__file__).parent
SLOW_FIGURES = web.AppKey("admin_slow_figures", SlowFiguresCache)


def add_admin_pages(app: web.Application) -> None:
    app[SLOW_FIGURES] = SlowFiguresCache()  # on the service's app: one per process, found from it
    admin = web.Application(middlewares=[admin_guard])
    admin[POLICY] = account_policy(app[SERVICES].settings)
    admin[THROTTLE] = AddressThrottle()
    aiohttp_jinja2.setup(
        admin,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    admin.router.add_get("/", campaigns_page)
    admin.router.add_get("/campaigns/{slug}", campaign_page)
    admin.router.add_get("/campaigns/{slug}/live", campaign_live)
    admin.router.add_get("/campaigns/{slug}/preview", campaign_preview)
    admin.router.add_get("/campaigns/{slug}/export.{kind:csv|jsonl}", export_answers)
    admin.router.add_get("/campaigns/{slug}/flow-results.zip", export_flow_results)
    admin.router.add_get("/campaigns/{slug}/{action:pause|resume|close}", confirm_page)
    admin.router.add_post("/campaigns/{slug}/{action:pause|resume|close}", confirm_submit)
    add_editor_pages(admin)
    add_test_send(admin)
    admin.router.add_get("/login", login_page)
    admin.router.add_post("/login", login_submit)
    admin.router.add_post("/logout", logout_submit)
    admin.router.add_get("/password/{token}", password_page)
    admin.router.add_post("/password/{token}", password_submit)
    add_officials_pages(admin)
    add_sso_pages(admin, app[SERVICES].settings)
    add_launch_pages(admin)
    admin.router.add_static("/static", HERE / "static", append_version=True, name="static")
    app.add_subapp("/admin", admin)


# --- logging in and out ----------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.StreamResponse:
    if official_of(request) is not None:
        raise web.HTTPSeeOther(local_next(request.query.get("next")))
    return render("login.html", request, {"error": None, "email": "", "next": request.query.get("next", "")})


async def login_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    form = await request.post()
    email, password, after = (str(form.get(name, "")) for name in ("email", "password", "next"))
    address = request.remote or "unknown"
    throttle = request.config_dict[THROTTLE]
    now = services.clock()
    blocked = throttle.blocked_until(address, now)
    if blocked is not None:
        return _refused_login(request, email, after, "too_many", blocked, now)
    try:
        logged_in = await log_in(services.sessions, email, password, now=now, policy=request.config_dict[POLICY])
    except LoginRefused as refused:
        if refused.locked_until is None:
            throttle.failed(address, now)
        reason = "locked" if refused.locked_until else "wrong"
        return _refused_login(request, email, after, reason, refused.locked_until, now)
    response = web.HTTPSeeOther(local_next(after))
    set_session_cookie(response, request, logged_in.session_token)
    raise response


def _refused_login(
    request: web.Request, email: str, after: str, reason: str, until: datetime | None, now: datetime
) -> web.Response:
    minutes = minutes_until(until, now) if until else 0
    status = 401 if reason == "wrong" else 429
    response = render(
        "login.html", request, {"error": reason, "minutes": minutes, "email": email, "next": after}, status=status
    )
    if until is not None:
        set_retry_after(response, until, now)
    return response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        services = request.config_dict[SERVICES]
        await log_out(services.sessions, token, now=services.clock())
    response = web.HTTPSeeOther(LOGIN)
    response.del_cookie(SESSION_COOKIE, path="/admin")
    raise response


# --- setting a password from a one-time link -------------------------------------------------------


async def password_page(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    try:
        official = await link_holder(services.sessions, request.match_info["token"], now=services.clock())
    except LinkInvalid as invalid:
        return render("password.html", request, {"invalid": str(invalid), "email": "", "error": None}, status=404)
    return render("password.html", request, {"invalid": None, "email": official.email, "error": None})


async def password_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    form = await request.post()
    password, repeated = str(form.get("password", "")), str(form.get("repeated", ""))
    token = request.match_info["token"]
    try:
        official = await link_holder(services.sessions, token, now=services.clock())
        if password != repeated:
            raise AccountError("the two passwords differ")
        await set_password(services.sessions, token, password, now=services.clock())
    except LinkInvalid as invalid:
        return render("password.html", request, {"invalid": str(invalid), "email": "", "error": None}, status=404)
    except AccountError as problem:
        context = {"invalid": None, "email": official.email, "error": str(problem)}
        return render("password.html", request, context, status=422)
    raise web.HTTPSeeOther(f"{LOGIN}?password_set=1")


# --- the campaigns -----------------------------------------------------------------------------------


@requires("view")
async def campaigns_page(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    async with read_session(services.sessions) as session:
        records = await CampaignRepository(session).all()
        rows = []
        for record in sorted(records, key=lambda record: record.created_at, reverse=True):
            assert record.id is not None
            counts = await campaign_counts(session, record.id)
            rate = counts.respondents / counts.contacted if counts.contacted else None
            rows.append({"record": record, "counts": counts, "rate": rate})
    context = {"campaigns": rows, "home": HOME, "waiting": await waiting_notices(request)}
    return render("campaigns.html", request, context)


async def _campaign_figures(request: web.Request) -> dict[str, Any]:
    """What the campaign page and its live part show: state, progress per channel, results per question
    and the results panels (outreach.web.admin.results_panels)."""
    services = request.config_dict[SERVICES]
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
        if record is None or record.id is None:
            raise web.HTTPNotFound(text="No such campaign.")
        flow = services.definitions.flow(record)
        results = await campaign_results(session, record.id, question_types(flow))
    progress = await campaign_progress(services.sessions, record.id, now=services.clock())
    language = i18n.request_language(request)
    panels = await results_panels(
        services.sessions,
        record,
        flow,
        language,
        k=services.settings.small_cell_k,
        results=results,
        cache=request.config_dict[SLOW_FIGURES],
        clock=services.clock,
    )
    return {
        "record": record,
        "progress": progress,
        "results": results,
        "charts": question_charts(flow, results, language),
        "meter": panels.slow.meter,
        "panels": panels,
        "updated_at": services.clock(),
    }


@requires("view")
async def campaign_page(request: web.Request) -> web.StreamResponse:
    figures = await _campaign_figures(request)
    figures["actions"] = campaign_actions(figures["record"].status)
    done = request.query.get("done")
    figures["done"] = done if done in ACTIONS or done == "launch" else None
    figures["waiting"] = [item for item in await waiting_notices(request) if item.record.id == figures["record"].id]
    return render("campaign.html", request, figures)


@requires("view")
async def campaign_live(request: web.Request) -> web.StreamResponse:
    """The page's changing part alone: the page's script fetches it every few seconds."""
    return render("campaign_live.html", request, await _campaign_figures(request))


# --- pausing, resuming and closing, each after a confirmation -----------------------------------------

# What each action does, said on its confirmation page (and which states it applies to).
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "pause": (frozenset({"active"}), "Nothing more is sent until it resumes; replies are still recorded."),
    "resume": (
        frozenset({"paused"}),
        "Held messages go out again, each within its resident's quiet hours; reminders move by the pause.",
    ),
    "close": (
        frozenset({"draft", "scheduled", "active", "paused"}),
        "Nothing more is sent or counted, and this cannot be undone. Results stay readable.",
    ),
}


def campaign_actions(status: str) -> list[str]:
    """The actions a campaign in `status` offers, in the order the page shows them."""
    return [action for action, (states, _) in ACTIONS.items() if status in states]


async def _campaign_record(request: web.Request) -> CampaignRecord:
    async with read_session(request.config_dict[SERVICES].sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
    if record is None:
        raise web.HTTPNotFound(text="No such campaign.")
    return record


@requires("edit")
async def confirm_page(request: web.Request) -> web.StreamResponse:
    record = await _campaign_record(request)
    action = request.match_info["action"]
    return render(
        "confirm.html", request, {"record": record, "action": action, "effect": ACTIONS[action][1], "error": None}
    )


@requires("edit")
async def confirm_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    record = await _campaign_record(request)
    action = request.match_info["action"]
    official = signed_in(request)
    actor = acting(official)
    try:
        if action == "pause":
            await pause_campaign(services.sessions, record.slug, clock=services.clock, actor=actor)
        elif action == "resume":
            await resume_campaign(services.sessions, record.slug, clock=services.clock, actor=actor)
        else:
            await close_campaign(
                services.sessions, record.slug, services.definitions, clock=services.clock, actor=actor
            )
    except CampaignCommandError as refused:
        context = {"record": record, "action": action, "effect": ACTIONS[action][1], "error": refused}
        return render("confirm.html", request, context, status=409)
    raise web.HTTPSeeOther(f"/admin/campaigns/{record.slug}?done={action}")


# --- downloads -------------------------------------------------------------------------------------------


async def _audited_export(request: web.Request, record: CampaignRecord, kind: str) -> None:
    services = request.config_dict[SERVICES]
    official = signed_in(request)
    details: dict[str, audit.DetailValue] = {"format": kind}
    await audit.record_apart(
        services.sessions, acting(official), audit.EXPORT, "campaign", record.id, details, at=services.clock()
    )


@requires("export")
async def export_answers(request: web.Request) -> web.StreamResponse:
    record = await _campaign_record(request)
    kind: ExportKind = "csv" if request.match_info["kind"] == "csv" else "jsonl"
    await _audited_export(request, record, kind)
    return await stream_answers(request, request.config_dict[SERVICES], record, kind)


@requires("export")
async def export_flow_results(request: web.Request) -> web.StreamResponse:
    record = await _campaign_record(request)
    await _audited_export(request, record, "flow-results")
    return await stream_flow_results(request, request.config_dict[SERVICES], record)
