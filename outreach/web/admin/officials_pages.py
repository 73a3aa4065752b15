"""The officials' accounts, for admins (/admin/officials): list, add, change a role, a new password link,
deactivate after a confirmation. The same operations as `outreach official ...`, and the same link."""

from __future__ import annotations

from aiohttp import web

from outreach.officials.accounts import AccountError, acting, add_official, reset_link
from outreach.officials.management import account, account_rows, change_role, deactivate_account
from outreach.officials.roles import ROLES
from outreach.web.admin.paths import PREFIX, password_link
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import POLICY, requires, signed_in
from outreach.web.keys import SERVICES

OFFICIALS = PREFIX + "/officials"


def add_officials_pages(admin: web.Application) -> None:
    admin.router.add_get("/officials", officials_page)
    admin.router.add_post("/officials", add_submit)
    admin.router.add_post("/officials/{id:\\d+}/role", role_submit)
    admin.router.add_post("/officials/{id:\\d+}/reset", reset_submit)
    admin.router.add_get("/officials/{id:\\d+}/deactivate", deactivate_page)
    admin.router.add_post("/officials/{id:\\d+}/deactivate", deactivate_submit)


async def _listing(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    link: tuple[str, str] | None = None,
    email: str = "",
    role: str = "viewer",
) -> web.Response:
    """The accounts page; `link` (an e-mail and its one-time link) is shown once, after add or reset."""
    services = request.config_dict[SERVICES]
    context = {
        "accounts": await account_rows(services.sessions),
        "roles": ROLES,
        "error": error,
        "link": link,
        "email": email,
        "role": role,
        "done": request.query.get("done"),
    }
    return render("officials.html", request, context, status=status)


@requires("manage_officials")
async def officials_page(request: web.Request) -> web.StreamResponse:
    return await _listing(request)


@requires("manage_officials")
async def add_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    form = await request.post()
    email, role = str(form.get("email", "")).strip(), str(form.get("role", ""))
    try:
        token = await add_official(
            services.sessions,
            email,
            role,
            now=services.clock(),
            policy=request.config_dict[POLICY],
            actor=acting(signed_in(request)),
        )
    except AccountError as refused:
        return await _listing(request, status=422, error=str(refused), email=email, role=role)
    link = password_link(services.settings.public_url, token)
    return await _listing(request, link=(email.lower(), link))


@requires("manage_officials")
async def role_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    form = await request.post()
    try:
        await change_role(
            services.sessions,
            int(request.match_info["id"]),
            str(form.get("role", "")),
            now=services.clock(),
            actor=acting(signed_in(request)),
        )
    except AccountError as refused:
        return await _listing(request, status=409, error=str(refused))
    raise web.HTTPSeeOther(f"{OFFICIALS}?done=role")


@requires("manage_officials")
async def reset_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    try:
        target = await account(services.sessions, int(request.match_info["id"]))
        token = await reset_link(
            services.sessions,
            target.email,
            now=services.clock(),
            policy=request.config_dict[POLICY],
            actor=acting(signed_in(request)),
        )
    except AccountError as refused:
        return await _listing(request, status=409, error=str(refused))
    return await _listing(request, link=(target.email, password_link(services.settings.public_url, token)))


@requires("manage_officials")
async def deactivate_page(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    try:
        target = await account(services.sessions, int(request.match_info["id"]))
    except AccountError:
        raise web.HTTPNotFound(text="No such account.") from None
    return render("official_deactivate.html", request, {"target": target, "error": None})


@requires("manage_officials")
async def deactivate_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    official_id = int(request.match_info["id"])
    try:
        target = await account(services.sessions, official_id)
    except AccountError:
        raise web.HTTPNotFound(text="No such account.") from None
    try:
        await deactivate_account(services.sessions, official_id, now=services.clock(), actor=acting(signed_in(request)))
    except AccountError as refused:
        return render("official_deactivate.html", request, {"target": target, "error": str(refused)}, status=409)
    raise web.HTTPSeeOther(f"{OFFICIALS}?done=deactivate")
