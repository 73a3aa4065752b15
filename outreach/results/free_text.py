"""Free-text answers for officials: per text question, the answers grouped by the words they share,
with counts and up to three example answers each, every text scrubbed of phone numbers, e-mail
addresses and PESEL numbers first (outreach.privacy.scrubber). One builder for `outreach results`
(table and JSON) and the API's results, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from flows.campaign import Campaign
from outreach.privacy.scrubber import scrub_text
from outreach.results.word_groups import EXAMPLES, TextAnswer, group_answers
from storage.db import SessionFactory, read_session
from storage.tables import CampaignRecord
from storage.text_answers import TextAnswerRow, text_answers

EXAMPLE_LENGTH = 200  # an example is cut here: the gist, not a pasted page


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FreeTextGroup(_Out):
    word: str = Field(description="The shared word, in its most common form as residents wrote it.")
    forms: list[str] = Field(description="Other forms folded into it (inflections, spelling without diacritics).")
    count: int = Field(description="Answers in the group (each answer is in one group only).")
    examples: list[str] = Field(description=f"Up to {EXAMPLES} answers, personal data masked.")


class FreeTextQuestion(_Out):
    id: str
    answered: int
    groups: list[FreeTextGroup] = Field(description="By shared word, the largest first.")
    ungrouped: int = Field(description="Answers that share no word with another.")
    ungrouped_examples: list[str] = Field(description=f"Up to {EXAMPLES} of them, personal data masked.")


def _example(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1] + "…"


def _text_questions(flow: Campaign) -> list[str]:
    return [question.id for question in flow.questions if question.type == "text"]


async def read_text_answers(sessions: SessionFactory, record: CampaignRecord, flow: Campaign) -> list[TextAnswerRow]:
    """The answers `free_text_results` groups."""
    assert record.id is not None
    async with read_session(sessions) as session:
        return await text_answers(session, record.id, _text_questions(flow))


async def free_text_results(sessions: SessionFactory, record: CampaignRecord, flow: Campaign) -> list[FreeTextQuestion]:
    """Per text question of the campaign (none: an empty list), its answers grouped by shared words."""
    return build_free_text(flow, await read_text_answers(sessions, record, flow))


def build_free_text(flow: Campaign, rows: Sequence[TextAnswerRow]) -> list[FreeTextQuestion]:
    """The groups `free_text_results` returns, from the answers it read (CPU only: no session)."""
    ids = _text_questions(flow)
    results = []
    for question_id in ids:
        answers = [TextAnswer(scrub_text(row.text), row.language) for row in rows if row.question_id == question_id]
        grouping = group_answers(answers)
        results.append(
            FreeTextQuestion(
                id=question_id,
                answered=grouping.answered,
                groups=[
                    FreeTextGroup(
                        word=group.word,
                        forms=list(group.forms),
                        count=group.count,
                        examples=[_example(text) for text in group.examples],
                    )
                    for group in grouping.groups
                ],
                ungrouped=grouping.ungrouped,
                ungrouped_examples=[_example(text) for text in grouping.ungrouped_examples],
            )
        )
    return results
