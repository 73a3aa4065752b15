"""`outreach resident find | export | erase ADDRESS`: a resident's access and erasure requests, made
by an official for the resident (outreach.rights.requests). ADDRESS in any form: +48600100200,
600 100 200, Jan@Example.org, a Telegram chat id; `-` reads it from standard input, so that it stays
out of the shell's history. What is printed names the resident by pseudonym, never by address,
except the export itself, which is the resident's own data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, fail, run_with_services

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from outreach.rights.requests import ResidentRequests

resident_app = typer.Typer(no_args_is_help=True, help="One resident's data: find, export (access request), erase.")

AddressArgument = Annotated[
    str, typer.Argument(help="Any of the resident's addresses, in any form; - reads it from standard input.")
]


def _address(given: str) -> str:
    address = sys.stdin.readline().strip() if given == "-" else given.strip()
    if not address:
        raise fail("give an address (a phone number, an email or a Telegram chat id)", 2)
    return address


def _requests(services: Services) -> ResidentRequests:
    from outreach.rights.requests import ResidentRequests

    return ResidentRequests(services.sessions, services.settings, clock=services.clock, spool=services.spool)


@resident_app.command("find")
def resident_find(address: AddressArgument) -> None:
    """Who has this address: the resident's pseudonym, their kinds of address, campaigns and answers."""
    from outreach.audit import Actor

    given = _address(address)
    found = run_with_services(lambda services: _requests(services).find(given, actor=Actor.cli()))
    if not found:
        raise fail("no resident has this address")
    for resident in found:
        console.print(
            f"{resident.resident}: {', '.join(resident.channels)}; {resident.campaigns} campaign(s),"
            f" {resident.answers} answer(s)",
            markup=False,
            highlight=False,
        )


@resident_app.command("export")
def resident_export(
    address: AddressArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")
    ] = None,
) -> None:
    """Everything held about the resident, as JSON (an access request's answer)."""
    from outreach.audit import Actor

    given = _address(address)
    records = run_with_services(lambda services: _requests(services).export(given, actor=Actor.cli()))
    if not records:
        raise fail("no resident has this address")
    document = json.dumps({"residents": records}, ensure_ascii=False, indent=2, default=str)
    if output is None:
        sys.stdout.write(document + "\n")
    else:
        output.write_text(document + "\n", encoding="utf-8")
        console.print(f"{len(records)} resident(s) written to {output}", markup=False, highlight=False)


@resident_app.command("erase")
def resident_erase(
    address: AddressArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase the resident: addresses, attributes and messages go; answers stay, anonymised."""
    from outreach.audit import Actor

    given = _address(address)
    if not yes and not typer.confirm(
        "Erase this resident? Their addresses, attributes and messages are deleted; their answers stay,"
        " anonymised. This cannot be undone.",
        err=True,
    ):
        raise fail("nothing erased", 1)
    erasure = run_with_services(lambda services: _requests(services).erase(given, actor=Actor.cli()))
    done = erasure.erased
    console.print(
        f"{erasure.resident} erased: {done.addresses} address(es) deleted, {done.answers} answer(s) anonymised in"
        f" {done.campaigns} campaign(s), {done.messages_received} message(s) received deleted,"
        f" {done.messages_sent} sent cleared; {done.suppressed} opted-out address(es) kept suppressed (hashed)",
        markup=False,
        highlight=False,
    )
    if erasure.spooled is None:
        console.print(
            "The inbound spool stayed busy: messages of theirs still waiting in it arrive as a stranger's.",
            markup=False,
            highlight=False,
        )
    elif erasure.spooled:
        console.print(f"{erasure.spooled} waiting message(s) removed from the inbound spool.", markup=False)
