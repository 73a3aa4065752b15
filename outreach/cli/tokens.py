"""`outreach token create|list|revoke`: API tokens for other systems.

Wired into the main CLI with `app.add_typer(tokens_app, name="token")`. A token is printed once, when
it is made; the service keeps only its sha256.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, errors, run_with_services
from outreach.errors import CommandError
from outreach.web.api.scopes import SCOPES

if TYPE_CHECKING:
    from outreach.bootstrap import Services

tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for other systems (scoped, shown once).")


class TokenCommandError(CommandError):
    pass


@tokens_app.command("create")
def token_create(
    scope: Annotated[
        list[str], typer.Option("--scope", help=f"Repeat for several: {', '.join(SCOPES)}.", show_default=False)
    ],
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Bind the token to this campaign (id or slug).")
    ] = None,
    label: Annotated[str, typer.Option(help="What the token is for, e.g. the system that uses it.")] = "",
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Its lifetime: 12h, 90d, 2w (hours, days, weeks); default: until revoked."),
    ] = None,
) -> None:
    """Make a token; it is printed once, only its hash is kept."""
    from outreach.audit import Actor
    from outreach.web.api.auth import issue_token, parse_lifetime, unknown_scopes
    from storage.campaigns import CampaignRepository
    from storage.db import read_session

    unknown = unknown_scopes(scope)
    if unknown:
        errors.print(f"unknown scope {', '.join(unknown)}; scopes are {', '.join(SCOPES)}", markup=False)
        raise typer.Exit(2)
    try:
        lifetime = None if expires is None else parse_lifetime(expires)
    except ValueError as problem:
        errors.print(f"--expires: {problem}", markup=False)
        raise typer.Exit(2) from None

    async def work(services: Services) -> str:
        campaign_id = None
        if campaign is not None:
            async with read_session(services.sessions) as session:
                record = await CampaignRepository(session).by_reference(campaign)
            if record is None:
                raise TokenCommandError(f"no campaign '{campaign}' (give its id or slug)")
            campaign_id = record.id
        issued = await issue_token(
            services.sessions,
            scopes=scope,
            label=label or ", ".join(scope),
            now=services.clock(),
            campaign_id=campaign_id,
            lifetime=lifetime,
            actor=Actor.cli(),
        )
        bound = f", campaign {campaign_id}" if campaign_id is not None else ""
        if issued.record.expires_at is not None:
            bound += f", expires {_moment(issued.record.expires_at)}"
        errors.print(
            f"token {issued.record.id} ({', '.join(issued.record.scopes)}{bound}); it is shown only now:",
            style="bold",
            markup=False,
        )
        return issued.token

    token = run_with_services(work)
    # The token alone on standard output, so that `TOKEN=$(outreach token create ...)` works.
    typer.echo(token)


@tokens_app.command("list")
def token_list() -> None:
    """One line per token: id, prefix, scopes, campaign, use, label (never the tokens themselves)."""
    from outreach.web.api.auth import is_live
    from storage.db import read_session
    from storage.tokens import TokenRepository

    async def work(services: Services) -> None:
        async with read_session(services.sessions) as session:
            tokens = await TokenRepository(session).all()
        now = services.clock()
        if not tokens:
            console.print("no tokens yet: `outreach token create --scope SCOPE` makes one")
            return
        for token in tokens:
            parts = [
                f"{token.id}",
                f"{token.prefix}…",
                ",".join(token.scopes),
                f"campaign {token.campaign_id}" if token.campaign_id is not None else "all campaigns",
                f"created {_moment(token.created_at)}",
                f"last used {_moment(token.last_used_at)}",
            ]
            if token.revoked_at is not None:
                parts.append(f"REVOKED {_moment(token.revoked_at)}")
            elif token.expires_at is not None:
                expired = "EXPIRED" if not is_live(token, now) else "expires"
                parts.append(f"{expired} {_moment(token.expires_at)}")
            parts.append(token.label)
            typer.echo("  ".join(parts))

    run_with_services(work)


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "never"


@tokens_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")]) -> None:
    """Revoke a token: it answers 401 from the next request on."""
    from outreach import audit
    from outreach.audit import Actor
    from storage.tokens import TokenRepository

    async def work(services: Services) -> None:
        now = services.clock()
        async with services.sessions() as session, session.begin():
            revoked = await TokenRepository(session).revoke(token_id, now=now)
            if revoked:
                await audit.record(session, Actor.cli(), audit.TOKEN_REVOKE, "token", token_id, at=now)
        if not revoked:
            raise TokenCommandError(f"no live token {token_id}")

    run_with_services(work)
    console.print(f"token {token_id} revoked")
