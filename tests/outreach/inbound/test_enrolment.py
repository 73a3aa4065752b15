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


def test_begin_explains_then_asks_for_consent_with_buttons() -> None:
    step = begin("pl", "Miasto Gdańsk", CHOICES)
    intro, question = step.prompts
    assert step.next_step == CONSENT
    assert intro.text.startswith("Dzień dobry! Tu Miasto Gdańsk.") and "STOP" in intro.text
    assert question.choices == (("yes", "tak"), ("no", "nie"))


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
        (DISTRICT, "Oliwa", "pl", AGE_BAND, {"updates": {"district": "Oliwa"}}),
        (DISTRICT, " oliwa ", "pl", AGE_BAND, {"updates": {"district": "Oliwa"}}),
        (DISTRICT, "brętowo", "en", AGE_BAND, {"updates": {"district": "Brętowo"}}),
        (DISTRICT, "Narnia", "pl", DISTRICT, {}),
        (AGE_BAND, "30-44", "pl", None, {"updates": {"age_band": "30-44"}}),  # a tap carries the band
        (AGE_BAND, "2", "pl", None, {"updates": {"age_band": "30-44"}}),  # the second button
        (AGE_BAND, "37", "en", None, {"updates": {"age_band": "30-44"}}),  # an age
        (AGE_BAND, "81 ", "uk", None, {"updates": {"age_band": "65+"}}),
        (AGE_BAND, "skip", "pl", None, {}),  # prefer not to say: enrolled, no age band
        (AGE_BAND, "wolę nie mówić", "pl", None, {}),
        (AGE_BAND, "12", "pl", AGE_BAND, {}),  # younger than every band: asked again
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


def test_the_age_question_offers_the_settings_bands_and_not_saying() -> None:
    [question] = advance(DISTRICT, "Oliwa", "en", CHOICES).prompts
    assert question.text == "How old are you? Choose a range or type your age."
    assert question.choices == (
        ("18-29", "18-29"),
        ("30-44", "30-44"),
        ("45-64", "45-64"),
        ("65+", "65+"),
        ("skip", "prefer not to say"),
    )
    with_16 = Choices(DISTRICTS, ("16-17", *DEFAULT_AGE_BANDS))
    [question] = advance(DISTRICT, "Oliwa", "pl", with_16).prompts
    assert [key for key, _ in question.choices] == ["16-17", "18-29", "30-44", "45-64", "65+", "skip"]
    assert advance(AGE_BAND, "17", "pl", with_16).updates == {"age_band": "16-17"}
    assert advance(AGE_BAND, "17", "pl", CHOICES).next_step == AGE_BAND  # no band for 17 here


@pytest.mark.parametrize(
    ("starts", "next_step", "first_text"),
    [
        (1, CONSENT, "Hello! This is the City."),  # the second /start: from the top
        (MAX_STARTS - 1, CONSENT, "Hello! This is the City."),
        (MAX_STARTS, LANGUAGE, "Which language should we write in?"),  # then only the current question
    ],
)
def test_starting_again_begins_anew_a_few_times_only(starts: int, next_step: str, first_text: str) -> None:
    step = start_again(LANGUAGE, starts, "en", "the City", CHOICES)
    assert step.next_step == next_step
    assert step.prompts[0].text.startswith(first_text)
