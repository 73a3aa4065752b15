"""The campaign lifecycle on an injected clock: scheduled start and close, reminders, expiry, quiet
hours, pause and resume, and one conversation per address. Nothing here waits for the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from outreach.bootstrap import Services
from outreach.campaigns.commands import close_campaign, launch_campaign, pause_campaign, resume_campaign
from outreach.inbound.pipeline import Outcome
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, outbox, reply, responses

PHONE = "+48600100200"
WARSAW = ZoneInfo("Europe/Warsaw")


def campaign(schedule: str = "", answer_within: str = "") -> str:
    """The tram campaign with a schedule block and an answer window."""
    extra = ""
    if schedule:
        extra += f"schedule:\n{schedule}"
    if answer_within:
        extra += f"answer_within: {answer_within}\n"
    return CAMPAIGN_YAML + extra


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=WARSAW).astimezone(UTC)


async def statuses(services: Services) -> list[tuple[str, str]]:
    return [(m.idempotency_key, m.status) for m in await outbox(services)]


async def test_a_scheduled_campaign_starts_when_its_time_comes(services: Services, clock: ManualClock) -> None:
    clock.now = at("2027-03-02T09:00")
    await add_resident(services, phone=PHONE)
    yaml = campaign("  start: 2027-03-02T11:00:00+01:00\n")
    await launch(services, yaml)
    assert await outbox(services) == []
    clock.now = at("2027-03-02T10:59")
    assert (await services.lifecycle.tick()).started == 0
    clock.now = at("2027-03-02T11:00")
    assert (await services.lifecycle.tick()).started == 1
    assert (await services.lifecycle.tick()).started == 0  # idempotent: nobody asked twice
    assert await statuses(services) == [("q:1:1:uses_tram:0", "queued")]


async def test_closing_cancels_what_is_unsent_and_later_answers_get_a_polite_no(
    services: Services, clock: ManualClock
) -> None:
    await add_resident(services, phone=PHONE)
    await add_resident(services, phone="+48600100201")
    await launch(services, campaign("  close: 2027-03-03T12:00:00+01:00\n"))
    await services.dispatcher.drain()
    await reply(services, PHONE, "tak")  # its follow-up stays queued
    clock.now = at("2027-03-03T12:00")
    assert (await services.lifecycle.tick()).closed == 1
    assert ("q:1:1:frequency:0", "cancelled") in await statuses(services)
    assert await reply(services, PHONE, "codziennie") is Outcome.CAMPAIGN_CLOSED
    assert await reply(services, PHONE, "codziennie!") is Outcome.CAMPAIGN_CLOSED
    assert await reply(services, "+48600100201", "tak") is Outcome.CAMPAIGN_CLOSED
    assert await responses(services) == [("uses_tram", "yes")]  # nothing after close is counted
    closed_notes = [m for m in await outbox(services) if m.idempotency_key.startswith("closed:")]
    assert [m.text.startswith("Dziękujemy, ale ta konsultacja jest już zamknięta") for m in closed_notes] == [
        True,
        True,
    ]  # one per conversation, not one per reply


async def test_reminders_go_only_to_those_who_never_answered(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await add_resident(services, phone="+48600100201")
    await launch(services, campaign("  reminders: [24h, 48h]\n"))
    await reply(services, "+48600100201", "tak")
    clock.advance(hours=23, minutes=59)
    assert (await services.lifecycle.tick()).reminded == 0
    clock.advance(minutes=1)
    assert (await services.lifecycle.tick()).reminded == 1
    assert (await services.lifecycle.tick()).reminded == 0
    clock.advance(hours=24)
    assert (await services.lifecycle.tick()).reminded == 1
    clock.advance(days=5)
    assert (await services.lifecycle.tick()).reminded == 0  # only as many as the schedule says
    keys = [key for key, _ in await statuses(services) if key.startswith("q:1:1:")]
    assert keys == ["q:1:1:uses_tram:0", "q:1:1:uses_tram:r1", "q:1:1:uses_tram:r2"]
    [reminder] = [m for m in await outbox(services) if m.idempotency_key == "q:1:1:uses_tram:r1"]
    assert "Czy jeździsz tramwajem?" in reminder.text


async def test_a_conversation_expires_after_answer_within(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services, campaign(answer_within="48h"))
    await reply(services, PHONE, "tak")  # the next question's window starts now
    clock.advance(hours=47)
    assert (await services.lifecycle.tick()).expired == 0
    clock.advance(hours=1)
    assert (await services.lifecycle.tick()).expired == 1
    assert await reply(services, PHONE, "codziennie") is Outcome.CAMPAIGN_CLOSED
    assert await responses(services) == [("uses_tram", "yes")]


async def test_quiet_hours_hold_the_first_question_until_a_spread_morning(
    services: Services, clock: ManualClock
) -> None:
    clock.now = at("2027-03-02T22:15")
    for number in range(20):
        await add_resident(services, phone=f"+486001002{number:02d}")
    await add_resident(services, phone="+48600100299", timezone="Europe/Kyiv")
    await launch(services)
    assert await services.dispatcher.drain() == 0  # nothing goes out at night
    messages = await outbox(services)
    warsaw = [m.next_attempt_at for m in messages[:20]]
    assert all(at("2027-03-03T08:00") <= t < at("2027-03-03T09:00") for t in warsaw)
    assert len(set(warsaw)) > 10  # released gradually, not all at 08:00:00
    kyiv = messages[20].next_attempt_at.astimezone(ZoneInfo("Europe/Kyiv"))
    assert (kyiv.hour, kyiv.date().isoformat()) == (8, "2027-03-03")
    clock.now = at("2027-03-03T07:59:59")  # 08:59:59 in Kyiv: only that resident's morning has come
    assert await services.dispatcher.drain() == 1
    assert services.sandboxes["sms"].inbox["+48600100299"] != []
    clock.now = at("2027-03-03T09:00")
    assert await services.dispatcher.drain() == 20


async def test_a_retry_that_falls_into_the_night_waits_for_the_morning(services: Services, clock: ManualClock) -> None:
    clock.now = at("2027-03-02T20:59")
    await add_resident(services, phone=PHONE)
    await launch(services)
    clock.now = at("2027-03-02T21:30")  # the queue was slow: the window has opened meanwhile
    assert await services.dispatcher.drain() == 1
    [message] = await outbox(services)
    assert (message.status, message.attempts) == ("queued", 0)
    assert at("2027-03-03T08:00") <= message.next_attempt_at < at("2027-03-03T09:00")
    assert services.sandboxes["sms"].inbox[PHONE] == []


async def test_replies_at_night_are_answered_at_once(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    clock.now = at("2027-03-02T23:00")
    await reply(services, PHONE, "tak")  # the resident is awake and writing: the follow-up is a reply
    follow_up = (await outbox(services))[1]
    assert (follow_up.idempotency_key, follow_up.next_attempt_at) == ("q:1:1:frequency:0", clock.now)


async def test_quiet_hours_can_be_turned_off(services: Services, clock: ManualClock) -> None:
    clock.now = at("2027-03-02T23:00")
    await add_resident(services, phone=PHONE)
    await launch(services, campaign("  quiet_hours: null\n"))
    assert await services.dispatcher.drain() == 1


async def test_pause_holds_everything_and_resume_sends_it(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await add_resident(services, phone="+48600100201")
    await launch(services)
    await pause_campaign(services.sessions, "1", clock=clock)
    assert await services.dispatcher.drain() == 0
    assert await reply(services, PHONE, "tak") is Outcome.ANSWERED  # nothing a resident sends is lost
    assert await responses(services) == [("uses_tram", "yes")]
    assert {status for _, status in await statuses(services)} == {"held"}
    clock.advance(days=3)
    assert (await services.lifecycle.tick()) == type(await services.lifecycle.tick())()  # paused: no jobs
    await resume_campaign(services.sessions, "1", clock=clock, spread=services.spread)
    assert await services.dispatcher.drain() == 3
    assert {status for _, status in await statuses(services)} == {"sent"}


async def test_one_address_is_in_one_conversation_at_a_time(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    second = CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Rowery miejskie").replace("uses_tram", "uses_bike")
    await launch(services, second)
    assert [key for key, _ in await statuses(services)] == ["q:1:1:uses_tram:0"]  # the second one waits
    assert await reply(services, PHONE, "tak") is Outcome.ANSWERED  # goes to the first campaign
    await reply(services, PHONE, "codziennie")  # the first one completes...
    keys = [key for key, _ in await statuses(services)]
    assert keys[-1] == "q:2:1:uses_bike:0"  # ...and the second one may ask now
    assert await reply(services, PHONE, "nie") is Outcome.ANSWERED
    assert await responses(services) == [("uses_tram", "yes"), ("frequency", "daily"), ("uses_bike", "no")]


async def test_closing_a_campaign_frees_the_address_for_the_next(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    second = CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Rowery miejskie").replace("uses_tram", "uses_bike")
    await launch(services, second)
    await close_campaign(services.sessions, "1", services.definitions, clock=clock, spread=services.spread)
    assert await statuses(services) == [("q:1:1:uses_tram:0", "cancelled"), ("q:2:1:uses_bike:0", "queued")]


async def test_launch_refuses_a_closed_or_past_campaign(services: Services, clock: ManualClock) -> None:
    import pytest

    from outreach.campaigns.commands import CampaignCommandError

    await add_resident(services, phone=PHONE)
    clock.now = at("2027-04-01T12:00")
    with pytest.raises(CampaignCommandError, match="which has passed"):
        await launch(services, campaign("  close: 2027-03-09T20:00:00+01:00\n"))
    with pytest.raises(CampaignCommandError, match="only an active one can pause"):
        await pause_campaign(services.sessions, "1", clock=clock)
    await close_campaign(services.sessions, "1", services.definitions, clock=clock, spread=services.spread)
    with pytest.raises(CampaignCommandError, match="is closed and cannot be launched again"):
        await launch_campaign(services.sessions, "1", clock=clock)


async def test_answer_window_and_reminders_count_from_the_morning_release(
    services: Services, clock: ManualClock
) -> None:
    clock.now = at("2027-03-02T22:00")
    await add_resident(services, phone=PHONE)
    await launch(services, campaign("  reminders: [24h]\n", answer_within="48h"))
    [first] = await outbox(services)
    released = first.next_attempt_at
    assert at("2027-03-03T08:00") <= released < at("2027-03-03T09:00")
    clock.now = at("2027-03-03T22:30")  # 24 h after the launch, but not after the send
    assert (await services.lifecycle.tick()).reminded == 0
    clock.now = released + timedelta(hours=24)
    assert (await services.lifecycle.tick()).reminded == 1
    clock.now = released + timedelta(hours=48) - timedelta(seconds=1)
    assert (await services.lifecycle.tick()).expired == 0
    clock.now = released + timedelta(hours=48)
    assert (await services.lifecycle.tick()).expired == 1


async def test_a_pause_does_not_eat_into_the_time_to_answer(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services, campaign("  reminders: [24h]\n", answer_within="48h"))
    clock.advance(hours=10)
    await pause_campaign(services.sessions, "1", clock=clock)
    clock.advance(hours=30)  # 40 h since the question, 30 of them paused
    await resume_campaign(services.sessions, "1", clock=clock, spread=services.spread)
    report = await services.lifecycle.tick()
    assert (report.reminded, report.expired) == (0, 0)  # only 10 h of the window have been used
    clock.advance(hours=14)
    assert (await services.lifecycle.tick()).reminded == 1  # 24 h of running time
    clock.advance(hours=24)
    assert (await services.lifecycle.tick()).expired == 1  # 48 h of running time
