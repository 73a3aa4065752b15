"""The self-enrolment conversation, pure: a table of steps, replies and what follows."""

from __future__ import annotations

import pytest

from flows.age_bands import AGE_BAND, DEFAULT_AGE_BANDS
from outreach.inbound.enrolment import (
    CONSENT,
    DISTRICT,
    LANGUAGE,
    MAX_STARTS,
    Choices,
    advance,
    begin,
    load_districts,
    start_again,
)

DISTRICTS = load_districts()
CHOICES = Choices(DISTRICTS, DEFAULT_AGE_BANDS)


def test_the_packaged_district_list_is_gdansk() -> None:
    assert len(DISTRICTS) == 35 and sum(d.population for d in DISTRICTS) == 490_301


def test_begin_explains_then_asks_the_age_first_with_buttons() -> None:
    step = begin("pl", "Miasto Gdańsk", CHOICES)
    intro, question = step.prompts
    assert step.next_step == AGE_BAND
    assert intro.text.startswith("Dzień dobry! Tu Miasto Gdańsk.") and "STOP" in intro.text
    assert question.choices[0] == ("under16", "poniżej 16")
    assert advance(AGE_BAND, "30-44", "pl", CHOICES).prompts[0].choices == (("yes", "tak"), ("no", "nie"))


@pytest.mark.parametrize(
    ("step", "reply", "language", "next_step", "expected"),
    [
        (CONSENT, "yes", "pl", LANGUAGE, {"consented": True}),  # a tap carries the key
        (CONSENT, "Tak!", "pl", LANGUAGE, {"consented": True}),
        (CONSENT, "так", "uk", LANGUAGE, {"consented": True}),
        (CONSENT, "nie", "pl", None, {"declined": True}),
        (CONSENT, "może", "pl", CONSENT, {}),  # unclear: asked again
        (LANGUAGE, "en", "pl", DISTRICT, {"updates": {"language": "en"}}),
        (LANGUAGE, "English", "pl", DISTRICT, {"updates": {"language": "en"}}),
        (LANGUAGE, "polski", "uk", DISTRICT, {"updates": {"language": "pl"}}),
        (LANGUAGE, "3", "pl", DISTRICT, {"updates": {"language": "uk"}}),
        (LANGUAGE, "deutsch", "pl", LANGUAGE, {}),
        (DISTRICT, "Oliwa", "pl", None, {"updates": {"district": "Oliwa"}}),
        (DISTRICT, " oliwa ", "pl", None, {"updates": {"district": "Oliwa"}}),
        (DISTRICT, "brętowo", "en", None, {"updates": {"district": "Brętowo"}}),
        (DISTRICT, "Narnia", "pl", DISTRICT, {}),
        (AGE_BAND, "30-44", "pl", CONSENT, {"updates": {"age_band": "30-44"}}),  # a tap carries the band
        (AGE_BAND, "3", "pl", CONSENT, {"updates": {"age_band": "30-44"}}),  # the third button
        (AGE_BAND, "37", "en", CONSENT, {"updates": {"age_band": "30-44"}}),  # an age
        (AGE_BAND, "81 ", "uk", CONSENT, {"updates": {"age_band": "65+"}}),
        (AGE_BAND, "skip", "pl", CONSENT, {}),  # 16+, prefer not to say: asked for consent, no age band
        (AGE_BAND, "wolę nie mówić", "pl", CONSENT, {}),
        (AGE_BAND, "17", "pl", CONSENT, {}),  # 16 or older, but no band holds it: as not said
        (AGE_BAND, "under16", "pl", None, {"declined": True, "under_age": True}),  # the button
        (AGE_BAND, "poniżej 16", "pl", None, {"declined": True, "under_age": True}),
        (AGE_BAND, "1", "en", None, {"declined": True, "under_age": True}),  # the first button
        (AGE_BAND, "12", "pl", None, {"declined": True, "under_age": True}),  # an age under 16
        (AGE_BAND, "15", "uk", None, {"declined": True, "under_age": True}),
        (AGE_BAND, "old", "en", AGE_BAND, {}),
    ],
)
def test_advance_table(
    step: str, reply: str, language: str, next_step: str | None, expected: dict[str, object]
) -> None:
    result = advance(step, reply, language, CHOICES)
    assert result.next_step == next_step
    assert result.consented == expected.get("consented", False)
    assert result.declined == expected.get("declined", False)
    assert result.under_age == expected.get("under_age", False)
    assert result.updates == expected.get("updates", {})
    if next_step == step:
        assert result.prompts[0].text.splitlines()[0].startswith(("Nie rozpoznaliśmy", "We did not"))


def test_the_district_question_offers_every_district_as_a_button_in_the_chosen_language() -> None:
    step = advance(LANGUAGE, "uk", "pl", CHOICES)
    [question] = step.prompts
    assert question.text.startswith("У якому районі")
    assert [label for _, label in question.choices] == [d.name for d in DISTRICTS]
    by_number = advance(DISTRICT, question.choices[4][0], "uk", CHOICES)
    assert by_number.updates == {"district": DISTRICTS[4].name}


def test_the_age_question_offers_under_16_the_settings_bands_and_not_saying() -> None:
    [_, question] = begin("en", "the City", CHOICES).prompts
    assert question.text == "How old are you? Choose a range or type your age."
    assert question.choices == (
        ("under16", "under 16"),
        ("18-29", "18-29"),
        ("30-44", "30-44"),
        ("45-64", "45-64"),
        ("65+", "65+"),
        ("skip", "16+, prefer not to say"),
    )
    with_16 = Choices(DISTRICTS, ("16-17", *DEFAULT_AGE_BANDS))
    [_, question] = begin("pl", "Miasto", with_16).prompts
    assert [key for key, _ in question.choices] == ["under16", "16-17", "18-29", "30-44", "45-64", "65+", "skip"]
    assert advance(AGE_BAND, "17", "pl", with_16).updates == {"age_band": "16-17"}
    # A band of the setting that starts below 16 is no button: its residents may be under 16.
    with_young = Choices(DISTRICTS, ("13-15", "16-17", *DEFAULT_AGE_BANDS))
    [_, question] = begin("pl", "Miasto", with_young).prompts
    assert "13-15" not in [key for key, _ in question.choices]
    assert advance(AGE_BAND, "14", "pl", with_young).under_age


def test_under_16_ends_politely_without_asking_for_consent() -> None:
    step = advance(AGE_BAND, "under16", "en", CHOICES)
    [goodbye] = step.prompts
    assert goodbye.text.startswith("Thank you! We only ask people aged 16 or over")
    assert not step.consented and step.updates == {}


@pytest.mark.parametrize(
    ("starts", "next_step", "first_text"),
    [
        (1, AGE_BAND, "Hello! This is the City."),  # the second /start: from the top
        (MAX_STARTS - 1, AGE_BAND, "Hello! This is the City."),
        (MAX_STARTS, LANGUAGE, "Which language should we write in?"),  # then only the current question
    ],
)
def test_starting_again_begins_anew_a_few_times_only(starts: int, next_step: str, first_text: str) -> None:
    step = start_again(LANGUAGE, starts, "en", "the City", CHOICES)
    assert step.next_step == next_step
    assert step.prompts[0].text.startswith(first_text)
