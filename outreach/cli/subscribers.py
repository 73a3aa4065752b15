"""`outreach subscribers add|list|deliveries|replay|replay-failed|resume|rotate|remove`: outgoing
webhooks' subscribers on the server, as admin tokens manage them through the API. A secret is printed
once, alone on standard output (`SECRET=$(outreach subscribers add …)`); every change is in the audit
log under the operator's name."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from outreach.cli.runner import console, errors, run_with_services
from outreach.errors import CommandError
from storage.webhook_event_types import EVENT_TYPES

if TYPE_CHECKING:
    from outreach.bootstrap import Services

subscribers_app = typer.Typer(no_args_is_help=True, help="Outgoing webhooks: subscribers, deliveries, replays.")
T = TypeVar("T")


class SubscriberCommandError(CommandError):
    pass


async def _done(work: Awaitable[T]) -> T:
    """The subscriptions' refusals as the CLI's errors (their words, exit 1)."""
    from outreach.webhooks_out.subscription_errors import SubscriptionError

    try:
        return await work
    except SubscriptionError as refused:
        raise SubscriberCommandError(refused.message) from None


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


@subscribers_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="https:// URL the events are posted to (a public address).")],
    event: Annotated[
        list[str], typer.Option("--event", help=f"Repeat for several: {', '.join(EVENT_TYPES)}.", show_default=False)
    ],
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's events (id or slug).")] = None,
    description: Annotated[str, typer.Option(help="Who this subscriber is, for the list.")] = "",
) -> None:
    """Subscribe a URL; its signing secret is printed once."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import find_campaign

    async def work(services: Services) -> str:
        campaign_id = None if campaign is None else (await find_campaign(services.sessions, campaign)).id
        made = await _done(
            services.subscriptions.subscribe(
                Actor.cli(), url=url, events=event, campaign_id=campaign_id, description=description
            )
        )
        errors.print(f"subscriber {made.subscriber.id}; its secret is shown only now:", style="bold", markup=False)
        return made.secret

    typer.echo(run_with_services(work))


@subscribers_app.command("list")
def list_subscribers() -> None:
    """One line per subscriber: id, status (and why paused), events, campaign, URL."""
    from storage.db import read_session
    from storage.webhook_subscribers import SubscriberRepository

    async def work(services: Services) -> None:
        async with read_session(services.sessions) as session:
            subscribers = await SubscriberRepository(session).all()
        if not subscribers:
            console.print("no subscribers: `outreach subscribers add URL --event response.created` makes one")
        for subscriber in subscribers:
            status = subscriber.status + (f" ({subscriber.paused_because})" if subscriber.paused_because else "")
            scope = f"campaign {subscriber.campaign_id}" if subscriber.campaign_id is not None else "all campaigns"
            parts = [str(subscriber.id), status, ",".join(subscriber.events), scope, subscriber.url]
            typer.echo("  ".join([*parts, subscriber.description]).rstrip())

    run_with_services(work)


@subscribers_app.command("deliveries")
def deliveries(
    subscriber_id: Annotated[int, typer.Argument(help="The subscriber's id (see `subscribers list`).")],
    status: Annotated[str | None, typer.Option(help="pending, delivering, delivered or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """A subscriber's deliveries, newest first: attempts, the last HTTP status and error."""
    from storage.db import read_session
    from storage.webhook_deliveries import DeliveryRepository
    from storage.webhook_subscribers import SubscriberRepository

    async def work(services: Services) -> None:
        async with read_session(services.sessions) as session:
            if await SubscriberRepository(session).get(subscriber_id) is None:
                raise SubscriberCommandError(f"no webhook subscriber {subscriber_id}")
            rows = await DeliveryRepository(session).page(subscriber_id, status=status, before=None, limit=limit)
        for row in rows:
            code = str(row.last_status_code) if row.last_status_code is not None else "-"
            parts = [str(row.id), row.status, row.event_type, row.message_id, f"attempts {row.attempts}", code]
            parts += [_moment(row.delivered_at or row.next_attempt_at), row.last_error or ""]
            typer.echo("  ".join(parts).rstrip())

    run_with_services(work)


@subscribers_app.command("replay")
def replay(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id (see `subscribers deliveries`).")],
) -> None:
    """Post one delivery again, under its webhook-id, by the next worker round."""
    from outreach.audit import Actor

    run_with_services(lambda services: _done(services.subscriptions.replay(Actor.cli(), delivery_id)))
    console.print(f"delivery {delivery_id} queued again")


@subscribers_app.command("replay-failed")
def replay_failed(subscriber_id: Annotated[int, typer.Argument(help="The subscriber's id.")]) -> None:
    """Queue every failed delivery of a subscriber again."""
    from outreach.audit import Actor

    count = run_with_services(lambda services: _done(services.subscriptions.replay_failed(Actor.cli(), subscriber_id)))
    console.print(f"{count} failed deliveries queued again")


@subscribers_app.command("resume")
def resume(subscriber_id: Annotated[int, typer.Argument(help="The subscriber's id.")]) -> None:
    """Resume a paused subscriber: its waiting deliveries go out again."""
    from outreach.audit import Actor

    run_with_services(lambda services: _done(services.subscriptions.resume(Actor.cli(), subscriber_id)))
    console.print(f"subscriber {subscriber_id} resumed")


@subscribers_app.command("rotate")
def rotate(subscriber_id: Annotated[int, typer.Argument(help="The subscriber's id.")]) -> None:
    """A new signing secret, printed once; the old one keeps signing beside it for the overlap."""
    from outreach.audit import Actor

    async def work(services: Services) -> str:
        made = await _done(services.subscriptions.rotate(Actor.cli(), subscriber_id))
        until = _moment(made.subscriber.previous_secret_until)
        errors.print(f"new secret, shown only now; the old one also signs until {until}:", style="bold", markup=False)
        return made.secret

    typer.echo(run_with_services(work))


@subscribers_app.command("remove")
def remove(subscriber_id: Annotated[int, typer.Argument(help="The subscriber's id.")]) -> None:
    """Unsubscribe: nothing more is posted to it."""
    from outreach.audit import Actor

    run_with_services(lambda services: _done(services.subscriptions.unsubscribe(Actor.cli(), subscriber_id)))
    console.print(f"subscriber {subscriber_id} removed")
