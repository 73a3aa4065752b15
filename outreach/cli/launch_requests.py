"""`outreach campaign request-launch|approve|reject`: the two-person rule of a large launch at the CLI.

The operator at the server's console can already do anything to the database, so the CLI cannot prove
who sits at it: `--as EMAIL` names the official the operator acts for. The rule still holds there as on
the pages (outreach.campaigns.launch_approval): the account must be active and have the role, the
approver must be another account than the requester, and the audit log names both the official and
the operating-system user who typed the command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, run_with_services

# `campaign --help` lists these commands: what they use is imported when they run.
if TYPE_CHECKING:
    from outreach.audit import Actor
    from outreach.bootstrap import Services
    from storage.official_tables import Official

AsOfficial = Annotated[str, typer.Option("--as", help="The e-mail of the official you act for (their account).")]


async def _official(services: Services, email: str) -> Official:
    from outreach.campaigns.launch_approval import LaunchApprovalError
    from outreach.officials.accounts import login_email
    from storage.db import read_session
    from storage.officials import OfficialRepository

    async with read_session(services.sessions) as session:
        official = await OfficialRepository(session).by_email(login_email(email))
    if official is None:
        raise LaunchApprovalError(f"no official's account for {email} (`outreach official list`)")
    return official


def cli_acting(official: Official) -> Actor:
    """The official, as the operator at the console named them: both go into the audit log."""
    from outreach.audit import Actor

    operator = Actor.cli()
    return Actor("official", str(official.id), f"{official.email} (cli: {operator.label})"[:120])


def request_launch_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")], as_official: AsOfficial
) -> None:
    """Ask an approver to approve launching this version of a campaign (those over the threshold)."""
    from outreach.campaigns.commands import find_campaign
    from outreach.campaigns.fatigue import fatigue_of
    from outreach.campaigns.launch_approval import launch_audience, request_launch
    from outreach.officials.notices import ApprovalWanted, tell_approvers
    from outreach.web.admin.paths import launch_path

    async def work(services: Services) -> None:
        official = await _official(services, as_official)
        record = await find_campaign(services.sessions, campaign)
        flow = services.definitions.flow(record)
        audience = await launch_audience(
            services.sessions, record, flow, now=services.clock(), fatigue=fatigue_of(services.settings)
        )
        requested = await request_launch(
            services.sessions,
            record,
            official,
            audience=len(audience),
            threshold=services.settings.admin_approval_threshold,
            clock=services.clock,
            actor=cli_acting(official),
        )
        assert requested.request.id is not None
        settings = services.settings
        wanted = ApprovalWanted(
            campaign=record.name,
            request_id=requested.request.id,
            audience=len(audience),
            requester=official.email,
            url=settings.public_url.rstrip("/") + launch_path(record.slug),
        )
        mailed = await tell_approvers(settings, wanted, [approver.email for approver in requested.approvers])
        console.print(
            f"launch request {requested.request.id} for '{record.slug}' ({len(audience)} residents) is waiting for"
            f" one of {len(requested.approvers)} approvers: on the campaign's page, or"
            f" `outreach campaign approve {requested.request.id} --as THEIR_EMAIL`"
            + (f" ({mailed} told by e-mail)" if mailed else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    run_with_services(work)


def _decide(request: int, as_official: str, comment: str | None, *, approve: bool) -> None:
    from outreach.campaigns.launch_approval import decide

    async def work(services: Services) -> None:
        official = await _official(services, as_official)
        decided = await decide(
            services.sessions,
            request,
            official,
            approve=approve,
            comment=comment,
            clock=services.clock,
            actor=cli_acting(official),
        )
        after = "`outreach campaign launch` (or its page) launches it" if approve else "it will not launch as it is"
        console.print(f"launch request {decided.id} {decided.state}: {after}", markup=False, highlight=False)

    run_with_services(work)


def approve_command(
    request: Annotated[int, typer.Argument(help="The launch request's number.")],
    as_official: AsOfficial,
    comment: Annotated[str | None, typer.Option(help="A word for the requester.")] = None,
) -> None:
    """Approve a launch request someone else made (an approver or an admin)."""
    _decide(request, as_official, comment, approve=True)


def reject_command(
    request: Annotated[int, typer.Argument(help="The launch request's number.")],
    as_official: AsOfficial,
    comment: Annotated[str | None, typer.Option(help="Why: what to change before asking again.")] = None,
) -> None:
    """Reject a launch request someone else made (an approver or an admin)."""
    _decide(request, as_official, comment, approve=False)
