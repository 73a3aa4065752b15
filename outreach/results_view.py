"""Results as an official reads them in a terminal."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.model import Campaign, Question
from storage.read_models import CampaignResults

BAR_WIDTH = 30
YESNO_KEYS = ("yes", "no")


def option_keys(question: Question) -> list[str]:
    return list(YESNO_KEYS) if question.type == "yesno" else [option.key for option in question.options]


def option_label(question: Question, key: str, language: str) -> str:
    for option in question.options:
        if option.key == key:
            return option.text.get(language, key)
    return key


def results_table(flow: Campaign, results: CampaignResults) -> Group:
    language = flow.languages[0]
    parts: list[Table | Text] = [
        Text(
            f"{flow.name}\ncontacted {results.contacted}, answered {results.respondents}"
            f" — response rate {results.response_rate:.1%}"
        )
    ]
    for question in flow.questions:
        figures = results.questions.get(question.id)
        answered = figures.answered if figures else 0
        unanswered = figures.unanswered if figures else 0
        table = Table(
            "answer",
            "n",
            "share",
            "",
            title=f"{question.id}: {question.text.get(language, '')}",
            caption=f"n = {answered} answered, {unanswered} asked without a usable answer",
            title_justify="left",
        )
        for key in option_keys(question):
            count = figures.counts[key] if figures else 0
            share = figures.share(key) if figures else 0.0
            bar = "█" * round(share * BAR_WIDTH)
            table.add_row(option_label(question, key, language), str(count), f"{share:.0%}", bar)
        parts.append(table)
    return Group(*parts)
