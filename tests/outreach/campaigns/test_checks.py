"""Warnings before launch: SMS cost per message and language, and schedule offsets."""

from __future__ import annotations

from flows.loader import load_campaign
from outreach.campaigns.checks import schedule_offset_warnings, sms_costs, sms_segment_warnings

SHORT = """
name: Krótka
languages: [pl, en]
channels: [sms]
reask_unclear: 0
questions:
  - id: q
    type: scale
    min: 1
    max: 5
    low: {pl: zle, en: bad}
    high: {pl: dobrze, en: good}
    text: {pl: "Ocen park", en: "Rate the park"}
"""


def test_short_plain_messages_cost_one_segment_and_raise_no_warning() -> None:
    flow = load_campaign(SHORT)
    [(preview, cost)] = sms_costs(flow, "en")
    assert preview.label == "q (first message, with the intro)"
    assert (cost.encoding, cost.segments) == ("GSM-7", 1)
    assert sms_segment_warnings(flow) == []


def test_long_or_polish_messages_are_named_with_their_cost() -> None:
    flow = load_campaign(SHORT.replace('"Ocen park"', '"Oceń park, w którym bywasz najczęściej, od 1 do 5"'))
    explained = sms_segment_warnings(flow)
    assert [warning.code for warning in explained] == ["sms_segments", "sms_ucs2"]
    warnings = [warning.text for warning in explained]  # the English the CLI prints and the API returns
    assert warnings[0] == "pl: q (first message, with the intro) costs 2 SMS segments (UCS-2, 82 units)"
    assert "makes a whole SMS UCS-2" in warnings[-1]
    assert not any(warning.startswith("en:") for warning in warnings)


def test_no_sms_no_segment_warnings() -> None:
    flow = load_campaign(SHORT.replace("channels: [sms]", "channels: [telegram]").replace("Ocen", "Oceń" * 40))
    assert sms_segment_warnings(flow) == []


def test_a_schedule_offset_that_gdansk_does_not_use_that_day_is_flagged() -> None:
    summer_with_winter_offset = (
        SHORT + "schedule:\n  start: 2027-04-12T10:00:00+01:00\n  close: 2027-04-25T20:00:00+02:00\n"
    )
    [warning] = schedule_offset_warnings(load_campaign(summer_with_winter_offset))
    assert (warning.code, warning.params["local"]) == ("schedule_offset", "2027-04-12T10:00:00+02:00")
    assert warning.text == (
        "schedule.start 2027-04-12T10:00:00+01:00: on that date Gdańsk (Europe/Warsaw) is at +02:00;"
        " did you mean 2027-04-12T10:00:00+02:00?"
    )
    right = SHORT + "schedule:\n  start: 2027-03-27T10:00:00+01:00\n  close: 2027-03-29T10:00:00+02:00\n"
    assert schedule_offset_warnings(load_campaign(right)) == []  # across the DST change, both right
