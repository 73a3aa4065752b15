"""Free-text answers grouped by shared words, as an official reads them in a terminal (`outreach results`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.campaign import Campaign
from outreach.results.free_text import FreeTextQuestion


def free_text_view(flow: Campaign, questions: Sequence[FreeTextQuestion]) -> Group:
    """One table per text question: shared word (and its other forms), answers, examples."""
    language = flow.default_language
    tables = []
    for figures in questions:
        question = flow.question(figures.id)
        table = Table(
            "shared word",
            "answers",
            "examples (personal data masked)",
            title=f"{question.id}: {question.text[language]}",
            caption=f"n = {figures.answered} answers, grouped by the words they share; each answer in one group",
            title_justify="left",
        )
        for group in figures.groups:
            word = group.word + (f" ({', '.join(group.forms)})" if group.forms else "")
            # Text, not markup: residents' words (and the masks, "[phone]") are shown as written.
            table.add_row(Text(word), str(group.count), Text("\n".join(group.examples)))
        if figures.ungrouped:
            table.add_row("(no word shared)", str(figures.ungrouped), Text("\n".join(figures.ungrouped_examples)))
        tables.append(table)
    return Group(*tables)
