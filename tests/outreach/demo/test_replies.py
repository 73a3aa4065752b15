"""How simulated residents answer: every way they write an option means it, every mistype fits
nothing, and on Telegram (buttons, no numbers) nobody types a number."""

from __future__ import annotations

from flows.age_bands import DEFAULT_AGE_BANDS
from flows.campaign import Campaign
from flows.languages import LANGUAGES
from flows.matching import match_answer
from outreach.demo.replies import answer_variants, mistypes, reply_to
from outreach.demo.residents import Persona, simulate_residents
from outreach.inbound.enrolment import load_districts
from outreach.inbound.keywords import detect_keyword
from tests.outreach.demo.helpers import shown_choices


def test_every_answer_variant_means_the_option_it_is_meant_for(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for number, choice in enumerate(shown_choices(flow, question.id, language), start=1):
                for text in answer_variants(language, question.type, number, choice):
                    assert detect_keyword(text) is None, text
                    assert match_answer(question, language, text) == choice.key, (question.id, language, text)


def test_every_mistype_fits_nothing(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for text in mistypes(language, question.type):
                assert detect_keyword(text) is None, text
                assert match_answer(question, language, text) is None, (question.id, language, text)


def test_a_reply_means_the_option_it_names(flow: Campaign) -> None:
    districts = load_districts()
    people = simulate_residents(300, seed=11, districts=districts, audience=districts, age_bands=DEFAULT_AGE_BANDS)
    answering = [p for p in people if p.persona is Persona.ANSWERS]
    for question in flow.questions:
        for person in answering:
            choices = shown_choices(flow, question.id, person.language)
            for numbered in (True, False):
                reply = reply_to(person, question, 0, choices, first=False, numbered=numbered)
                assert reply is not None and reply.choice is not None
                assert match_answer(question, person.language, reply.text) == choices[reply.choice].key
                if not numbered:  # Telegram shows buttons, not numbers: nobody types one
                    assert not reply.text.removesuffix(")").isdecimal(), reply.text
