"""Checks of a campaign's `results_back` that need the whole campaign: every language's text, and each
placeholder naming a question whose answers have a top answer to share (pure; run by flows.validate)."""

from __future__ import annotations

from collections.abc import Iterator

from flows.model import CampaignDefinition
from flows.problems import Path, Problem
from flows.results_back import (
    DISTRICT,
    IN_DISTRICT,
    IN_TEXT,
    WITH_QUESTION,
    placeholders,
    stray_brace,
)

SHARED_TYPES = ("yesno", "choice", "multi", "scale")  # questions with answers to count and share out


MISSING_TRANSLATION = "missing translation for %(missing)s; every text needs all of: %(listed)s"


def results_back_problems(campaign: CampaignDefinition) -> Iterator[Problem]:
    results_back = campaign.results_back
    if results_back is None:
        return
    texts: list[tuple[str, dict[str, str], tuple[str, ...]]] = [("text", results_back.text, IN_TEXT)]
    if results_back.district is not None:
        texts.append(("district", results_back.district, IN_DISTRICT))
    listed = ", ".join(campaign.languages)
    for key, text, allowed in texts:
        at: Path = ("results_back", key)
        missing = [language for language in campaign.languages if language not in text]
        if missing:
            yield Problem.explained(
                at, "missing_translation", MISSING_TRANSLATION, missing=", ".join(missing), listed=listed
            )
        for language, value in text.items():
            if language not in campaign.languages:
                yield Problem.explained(
                    (*at, language),
                    "unknown_language",
                    "language '%(lang)s' is not in the campaign's languages: %(listed)s",
                    part="key",
                    lang=language,
                    listed=listed,
                )
                continue
            yield from _text_problems(campaign, (*at, language), value, allowed)


def _text_problems(campaign: CampaignDefinition, at: Path, text: str, allowed: tuple[str, ...]) -> Iterator[Problem]:
    if not text.strip():
        yield Problem.explained(at, "results_back_empty", "the text is empty")
        return
    if stray_brace(text):
        yield Problem.explained(
            at, "stray_brace", "a { or } that is no placeholder; placeholders are written {share:QUESTION_ID}"
        )
    shared = [q.id for q in campaign.questions if q.type in SHARED_TYPES]
    for placeholder in placeholders(text):
        name, question_id = placeholder.name, placeholder.question_id
        if name not in allowed:
            if name in IN_DISTRICT:
                yield Problem.explained(
                    at,
                    "placeholder_for_district",
                    "{%(written)s} goes in results_back.district, which is added only where the"
                    " resident's district has enough respondents to show",
                    written=placeholder.written,
                )
            else:
                known = ", ".join(f"{{{n}:ID}}" if n in WITH_QUESTION else f"{{{n}}}" for n in allowed)
                yield Problem.explained(
                    at,
                    "unknown_placeholder",
                    "unknown placeholder {%(written)s}; use %(known)s",
                    written=placeholder.written,
                    known=known,
                )
            continue
        if name == DISTRICT:
            if question_id is not None:
                yield Problem.explained(
                    at,
                    "district_with_question",
                    "{%(district)s} takes no question: it is the resident's district",
                    district=DISTRICT,
                )
            continue
        if question_id is None:
            yield Problem.explained(
                at,
                "placeholder_without_question",
                "{%(name)s} needs a question id, e.g. {%(name)s:%(example)s}",
                name=name,
                example=shared[0] if shared else "ID",
            )
            continue
        question = next((q for q in campaign.questions if q.id == question_id), None)
        if question is None:
            yield Problem.explained(
                at,
                "placeholder_unknown_question",
                "unknown question '%(id)s' in {%(written)s}; questions: %(shared)s",
                id=question_id,
                written=placeholder.written,
                shared=", ".join(shared),
            )
        elif question.type not in SHARED_TYPES:
            yield Problem(
                at,
                f"'{question_id}' is a {question.type} question: it has no top answer to share; use one of:"
                f" {', '.join(shared) or 'none (add a yesno, choice, multi or scale question)'}",
            )
