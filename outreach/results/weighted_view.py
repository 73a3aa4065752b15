"""Weighted results as an official reads them in a terminal: per question the weighted share with its
95% margin of error beside the raw share, then how each stratum answered, then the warnings."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.campaign import Campaign
from outreach.results.weighted_models import WeightedQuestion, WeightedResults

_DASH = "–"  # a figure withheld (a small cell) or not defined


def weighted_results_view(flow: Campaign, results: WeightedResults) -> Group:
    trim = f", weights capped at {results.trim:g}× the mean ({results.trimmed} at the cap)" if results.trim else ""
    joint = " on the margins' joint cells" if results.joint else ""
    header = (
        f"{flow.name}\n"
        f"weighted to margins {results.margins!r} by {', '.join(results.by)}: {results.method}{joint}{trim}\n"
        f"contacted {results.contacted}, answered {results.respondents}, weighted {results.weighted}"
        f" (left out: {results.left_out}); effective n {results.effective_n:.1f},"
        f" design effect {results.design_effect:.2f}"
    )
    parts: list[Table | Text] = [Text(header)]
    language = flow.default_language
    texts = {question.id: question.text[language] for question in flow.questions}
    parts.extend(_question_table(question, texts[question.id]) for question in results.questions)
    parts.append(_strata_table(results))
    parts.extend(Text(f"warning: {warning}", style="yellow") for warning in results.warnings)
    return Group(*parts)


def _share(value: float | None) -> str:
    return _DASH if value is None else f"{value:.1%}"


def _question_table(question: WeightedQuestion, text: str) -> Table:
    effective = _DASH if question.effective_n is None else f"{question.effective_n:.1f}"
    effect = _DASH if question.design_effect is None else f"{question.design_effect:.2f}"
    caption = f"n = {question.n}, effective n = {effective}, design effect = {effect}"
    if question.type == "multi":
        caption += "; several answers each, so shares add up to more than 100%"
    table = Table(
        "answer",
        "n",
        "share",
        "weighted",
        "± 95%",
        title=f"{question.id}: {text}",
        caption=caption,
        title_justify="left",
    )
    for value in question.values or []:
        margin = _DASH if value.margin_of_error is None else f"± {value.margin_of_error * 100:.1f} pt"
        table.add_row(value.label, str(value.n), _share(value.share), _share(value.weighted_share), margin)
    return table


def _strata_table(results: WeightedResults) -> Table:
    table = Table(
        "stratum",
        "population",
        "asked",
        "answered",
        "response rate",
        "weighted",
        title=f"strata (counts under {results.k} withheld: {_DASH})",
        title_justify="left",
    )
    for stratum in results.strata:
        name = f"{stratum.dimension}={stratum.value}"
        if stratum.collapsed_into:
            name += f" (with {stratum.collapsed_into})"
        if stratum.left_unweighted:
            name += " (left unweighted)"
        table.add_row(
            name,
            _share(stratum.population_share),
            _DASH if stratum.contacted is None else str(stratum.contacted),
            _DASH if stratum.answered is None else str(stratum.answered),
            _share(stratum.response_rate),
            _share(stratum.weighted_share),
        )
    return table
