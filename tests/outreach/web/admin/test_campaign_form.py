"""The editor's one translation between form fields and the campaign document (issue 21): every
campaign goes form -> YAML -> loader and comes back equal, and a field's bad text is reported at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.campaign import Campaign
from flows.campaign_text import campaign_yaml
from flows.loader import load_campaign
from outreach.web.admin.campaign_form import MORE, NO_QUIET_HOURS, document_of, fields_of

EXAMPLES = sorted((Path(__file__).parents[4] / "examples").glob("*.yaml"))
# Every key the form has a field for, and those it carries as YAML (whatsapp, results_back, on_unknown).
EVERY_KEY = """
name: "Wszystko: każdy klucz"
languages: [pl, en]
channels: [sms, whatsapp, email]
audience:
  where: {district: [Oliwa, Wrzeszcz Górny]}
  sample: {size: 40, strata: [district], allocation: {fixed: {Oliwa: 25, Wrzeszcz Górny: 15}}, seed: 7}
schedule:
  start: 2027-04-12T10:00:00+02:00
  close: 2027-04-25T20:00:00+02:00
  quiet_hours: null
  reminders: [24h, 36h]
reminders: {strategy: lagging_strata, limit: 100}
answer_within: 48h
reask_unclear: 2
intro: {pl: "Dzień dobry!", en: "Hello!"}
privacy_notice: {pl: "Administrator: Miasto.", en: "Controller: the City."}
outro: {pl: "Dziękujemy!", en: "Thank you!"}
sms: {fold_diacritics: true}
whatsapp:
  content_sid: HX0123456789abcdef0123456789abcdef
  variables: {"1": {pl: "{campaign}", en: "{campaign}"}}
budget: 12.5
results_back: {text: {pl: "Tak: {share:ok}", en: "Yes: {share:ok}"}}
on_unknown: {question: give_up}
questions:
  - {id: ok, type: yesno, text: {pl: "Zgoda?", en: "Agree?"}, next: {no: why, other: rate}}
  - id: rate
    type: scale
    min: 0
    max: 10
    low: {pl: źle, en: bad}
    high: {pl: dobrze, en: good}
    text: {pl: "Ocena?", en: "Rating?"}
    next: {"0": why, "10": end}
  - id: pick
    type: multi
    max_choices: 2
    text: {pl: "Co?", en: "What?"}
    options:
      - {key: a, text: {pl: "a, b", en: A}, synonyms: [pierwsze, "first, then", 'the "a"']}
      - {key: b, text: {pl: bé, en: B}}
  - {id: how_much, type: number, min: 0.5, max: 99.5, text: {pl: "Ile?", en: "How much?"}, next: end}
  - {id: count, type: number, integer: true, text: {pl: "Ile razy?", en: "How often?"}, next: end}
  - {id: why, type: text, max_length: 200, text: {pl: "Dlaczego?", en: "Why?"}}
"""
CAMPAIGNS = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLES} | {"every key": EVERY_KEY}


def through_the_form(campaign: Campaign) -> Campaign:
    fields = fields_of(campaign.model_dump(mode="json", exclude_unset=True))
    made = document_of(fields.items())
    assert made.problems == {}
    return load_campaign(campaign_yaml(made.document))


@pytest.mark.parametrize("name", CAMPAIGNS)
def test_a_campaign_goes_through_the_form_and_its_yaml_unchanged(name: str) -> None:
    campaign = load_campaign(CAMPAIGNS[name])
    assert through_the_form(campaign) == campaign


def test_the_examples_are_all_in_the_table() -> None:
    assert len(EXAMPLES) >= 3


def test_the_form_holds_each_key_in_its_own_field() -> None:
    fields = fields_of(load_campaign(EVERY_KEY).model_dump(mode="json", exclude_unset=True))
    assert fields["languages"] == "pl, en"
    assert fields["questions[0].next"] == "no: why, other: rate"
    assert fields["questions[2].options[0].text.pl"] == "a, b"
    assert fields["questions[2].options[0].synonyms"] == 'pierwsze, "first, then", "the ""a"""'
    assert fields["audience.where"] == "district: Oliwa, Wrzeszcz Górny"
    assert fields["audience.sample.allocation"] == "fixed"
    assert fields["audience.sample.allocation.fixed"] == "Oliwa: 25\nWrzeszcz Górny: 15"
    assert fields[NO_QUIET_HOURS] == "on"
    assert fields["questions[4].integer"] == "on" and "questions[3].integer" not in fields
    assert fields[MORE].splitlines()[0] == "whatsapp:"


def test_what_a_browser_sends_becomes_the_document() -> None:
    sent = [
        ("csrf", "token"),
        ("name", "Ławki"),
        ("languages", " pl ,en,"),
        ("channels", "sms"),
        ("audience.sample.allocation", "proportional"),  # the select always sends: no sample by itself
        ("questions[0].id", " benches "),
        ("questions[0].type", "number"),
        ("questions[0].text.pl", "Ile ławek?\r\nNapisz liczbę."),
        ("questions[0].text.en", ""),
        ("questions[0].min", "2,5"),
        ("questions[0].max", "dużo"),
    ]
    made = document_of(sent, ignored=["csrf"])
    assert made.document == {
        "name": "Ławki",
        "languages": ["pl", "en"],
        "channels": ["sms"],
        "questions": [
            {"id": "benches", "type": "number", "text": {"pl": "Ile ławek?\nNapisz liczbę."}, "min": 2.5, "max": "dużo"}
        ],
    }


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("audience.where", "district Oliwa", "write each line as name: value"),
        ("questions[0].next", "no: why, maybe", "write each branch as answer: question id"),
        (MORE, "whatsapp: [", "YAML syntax error"),
        (MORE, "name: other", "set in the form's own fields"),
    ],
)
def test_text_a_field_cannot_hold_is_reported_at_that_field(name: str, text: str, said: str) -> None:
    made = document_of([("name", "x"), (name, text)])
    assert said in made.problems[name].text


def test_a_yaml_syntax_error_in_more_is_explained_at_its_line_and_column() -> None:
    made = document_of([("name", "x"), (MORE, "whatsapp: {content_sid: a\n")])
    explanation = made.problems[MORE]
    assert explanation.code == "form_yaml_syntax_at"
    assert explanation.params["error"].params["problem"].code == "yaml_flow_mapping_end"  # type: ignore[attr-defined]
    assert explanation.text.startswith("line 2, column 1: YAML syntax error: expected ',' or '}', but got")
