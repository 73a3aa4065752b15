"""Results as an official reads them in a terminal."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.answer_labels import answer_rows, question_types
from flows.campaign import Campaign
from flows.model import Question
from storage.db import SessionFactory, read_session
from storage.read_models import CampaignResults, QuestionResult, campaign_results

BAR_WIDTH = 30


async def campaign_results_view(sessions: SessionFactory, campaign_id: int, flow: Campaign) -> Group:
    """Read a campaign's results (without holding SQLite's write lock) and lay them out."""
    async with read_session(sessions) as session:
        figures = await campaign_results(session, campaign_id, question_types(flow))
    return results_table(flow, figures)


def results_table(flow: Campaign, results: CampaignResults) -> Group:
    language = flow.languages[0]
    parts: list[Table | Text] = [
        Text(
            f"{flow.name}\ncontacted {results.contacted}, answered {results.respondents}"
            f" — response rate {results.response_rate:.1%}"
        )
    ]
    for question in flow.questions:
        figures = results.questions.get(question.id) or QuestionResult(question.id)
        parts.append(_question_table(question, figures, language))
    return Group(*parts)


def _question_table(question: Question, figures: QuestionResult, language: str) -> Table:
    caption = f"n = {figures.answered} answered, {figures.unanswered} asked without a usable answer"
    if question.type == "multi":
        caption += "; several answers each, so shares add up to more than 100%"
    title = f"{question.id}: {question.text[language]}"
    if question.type in ("number", "text"):
        table = Table("answers", "min", "median", "mean", "max", title=title, caption=caption, title_justify="left")
        summary = [figures.smallest(), figures.median(), figures.mean(), figures.largest()]
        if question.type == "number" and figures.numbers:
            table.add_row(str(figures.answered), *(f"{value:g}" for value in summary if value is not None))
        else:  # free text stays out of results: it is read in exports, not counted in bars
            table.add_row(str(figures.answered), "", "", "", "")
        return table
    table = Table("answer", "n", "share", "", title=title, caption=caption, title_justify="left")
    for key, label in answer_rows(question, language):
        share = figures.share(key)
        table.add_row(label, str(figures.counts[key]), f"{share:.0%}", "█" * round(share * BAR_WIDTH))
    mean = figures.mean()
    if question.type == "scale" and mean is not None:
        table.add_row("mean", f"{mean:.2f}", "", "")
    return table
