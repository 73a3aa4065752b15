"""`outreach official add|reset|deactivate|list`: the accounts of the officials' pages (/admin).

An account starts without a password: `add` (and `reset`) print a one-time link, valid for
OUTREACH_ADMIN_PASSWORD_LINK_HOURS, where the official sets one. The link is the secret: hand it over
as you would a password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, errors, run_with_services
from outreach.officials.roles import ROLES

if TYPE_CHECKING:
    from outreach.bootstrap import Services

officials_app = typer.Typer(no_args_is_help=True, help="Accounts of officials for the pages under /admin.")


@officials_app.command("add")
def official_add(
    email: Annotated[str, typer.Argument(help="The official's e-mail: their login.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)} (docs/ADMIN.md says what each may do).")],
) -> None:
    """Make an account and print its one-time link to set a password."""
    from outreach.audit import Actor
    from outreach.officials.accounts import account_policy, add_official
    from outreach.web.admin.paths import password_link

    async def work(services: Services) -> str:
        policy = account_policy(services.settings)
        token = await add_official(
            services.sessions, email, role, now=services.clock(), policy=policy, actor=Actor.cli()
        )
        return password_link(services.settings.public_url, token)

    _print_link(run_with_services(work))


@officials_app.command("reset")
def official_reset(email: Annotated[str, typer.Argument(help="The official's e-mail.")]) -> None:
    """Print a new one-time link to set a password (the old one works until the link is used)."""
    from outreach.audit import Actor
    from outreach.officials.accounts import account_policy, reset_link
    from outreach.web.admin.paths import password_link

    async def work(services: Services) -> str:
        policy = account_policy(services.settings)
        token = await reset_link(services.sessions, email, now=services.clock(), policy=policy, actor=Actor.cli())
        return password_link(services.settings.public_url, token)

    _print_link(run_with_services(work))


@officials_app.command("deactivate")
def official_deactivate(email: Annotated[str, typer.Argument(help="The official's e-mail.")]) -> None:
    """Close an account: its sessions end at once and it cannot log in again. Not the last active admin's."""
    from outreach.audit import Actor
    from outreach.errors import CommandError
    from outreach.officials.accounts import LastAdmin, deactivate

    async def work(services: Services) -> int:
        try:
            return await deactivate(services.sessions, email, now=services.clock(), actor=Actor.cli())
        except LastAdmin as refused:
            raise CommandError(
                f"{refused} (`outreach official add EMAIL --role admin`, or another official's role on"
                " /admin/officials), then deactivate this one"
            ) from None

    ended = run_with_services(work)
    console.print(f"deactivated; {ended} session(s) ended")


@officials_app.command("list")
def official_list() -> None:
    """One line per account: id, e-mail, role, state."""
    from storage.db import read_session
    from storage.officials import OfficialRepository

    async def work(services: Services) -> None:
        async with read_session(services.sessions) as session:
            officials = await OfficialRepository(session).all()
        if not officials:
            console.print("no officials yet: `outreach official add EMAIL --role admin` makes one")
        for official in officials:
            if official.deactivated_at is not None:
                state = f"deactivated {official.deactivated_at:%Y-%m-%d}"
            elif official.password_hash is None:
                state = "waiting for a password"
            else:
                state = "active"
            typer.echo(f"{official.id}  {official.email}  {official.role}  {state}")

    run_with_services(work)


def _print_link(link: str) -> None:
    errors.print("one-time link to set the password (shown only now):", style="bold", markup=False)
    # The link alone on standard output, so that `LINK=$(outreach official add ...)` works.
    typer.echo(link)
