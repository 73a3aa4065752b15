"""Coverage and the meter as an official reads them in a terminal (`outreach coverage`,
`outreach participation`): thinnest strata first; who gave the answers and how many were new."""

from __future__ import annotations

from rich.console import Group
from rich.table import Column, Table
from rich.text import Text

from outreach.participation.models import Concentration, Coverage, ParticipationMeter, TopShareFigure

_DASH = "–"  # withheld (a small cell) or not defined
SHOWN_SOURCES = 20


def _count(value: int | None) -> str:
    return _DASH if value is None else str(value)


def _share(value: float | None, digits: int = 1) -> str:
    return _DASH if value is None else f"{value:.{digits}%}"


def coverage_view(figures: Coverage) -> Group:
    channels = list(figures.channels)
    reach = ", ".join(f"{channel} {count}" for channel, count in figures.channels.items()) or "none"
    header = Text(
        f"coverage against margins {figures.margins!r}: {figures.residents} residents, {figures.reachable}"
        f" reachable and consented ({reach}); counts under {figures.k} withheld: {_DASH}"
    )
    strata = Table(
        Column("stratum", min_width=14, max_width=48),  # long district names wrap; the figures do not
        *(Column(name, no_wrap=True, justify="right") for name in ("people", "reached", "cover")),
        *(Column(channel, no_wrap=True, justify="right") for channel in channels),
        title="strata, thinnest first: people in the city, reached (reachable and consented), cover (reached per"
        " 100 people), reached per channel",
        title_justify="left",
    )
    for stratum in figures.strata:
        strata.add_row(
            f"{stratum.dimension}={stratum.value}",
            f"{stratum.population:.0f}",
            _count(stratum.reachable),
            _share(stratum.coverage, 2),
            *(_count(stratum.channels.get(channel)) for channel in channels),
        )
    parts: list[Table | Text] = [header, strata]
    for unmatched in figures.unmatched:
        parts.append(
            Text(
                f"{unmatched.dimension}: {_count(unmatched.residents)} residents (reachable"
                f" {_count(unmatched.reachable)}) have no value the margins know"
            )
        )
    sources = Table(
        "source", "via", "residents", "reachable", "into", title="recruitment sources", title_justify="left"
    )
    for source in figures.sources[:SHOWN_SOURCES]:
        into = "; ".join(_into(dimension, values) for dimension, values in source.strata.items())
        sources.add_row(
            source.source or "(none)", source.via or "(none)", str(source.residents), str(source.reachable), into
        )
    parts.append(sources)
    if len(figures.sources) > SHOWN_SOURCES:
        parts.append(Text(f"… and {len(figures.sources) - SHOWN_SOURCES} more sources (--format json lists them all)"))
    return Group(*parts)


def _into(dimension: str, values: dict[str, int | None]) -> str:
    """The strata a source brought residents into, most first; withheld ones only counted."""
    shown = sorted(((count, value) for value, count in values.items() if count), reverse=True)
    withheld = sum(1 for count in values.values() if count is None)
    parts = [f"{value or '(none)'} {count}" for count, value in shown]
    if withheld:
        parts.append(f"{withheld} more withheld")
    return f"{dimension}: " + (", ".join(parts) or "none")


def _top(figure: TopShareFigure | None) -> str:
    """The share and how many gave it; a withheld share (a top group under k) still says how many."""
    if figure is None:
        return _DASH
    return f"{_share(figure.share)} ({figure.residents})"


def _concentration(figures: Concentration) -> tuple[str, str, str, str, str]:
    return (
        _count(figures.respondents),
        _count(figures.answers),
        _top(figures.top_1_percent),
        _top(figures.top_10_percent),
        _DASH if figures.gini is None else f"{figures.gini:.2f}",
    )


def meter_view(figures: ParticipationMeter) -> Group:
    span = f"campaigns launched {figures.since} to {figures.until}" if figures.since else "this campaign"
    header = Text(
        f"the usual-suspects meter, {span}: an answer is a campaign answered; top 1% and 10%: share of all"
        f" answers given by the most active respondents (how many); groups under {figures.k}, and top shares"
        f" and Gini over fewer, withheld: {_DASH}"
    )
    overall = Table(
        "", "respondents", "answers", "top 1%", "top 10%", "Gini", title="who answered", title_justify="left"
    )
    overall.add_row("all", *_concentration(figures))
    for split in figures.splits:
        for group in split.groups:
            overall.add_row(f"{split.by}={group.value or '(none)'}", *_concentration(group))
    campaigns = Table("campaign", "respondents", "first-timers", "share", title="new voices", title_justify="left")
    for campaign in figures.campaigns:
        campaigns.add_row(
            campaign.campaign,
            _count(campaign.respondents),
            _count(campaign.first_timers),
            _share(campaign.first_timer_share),
        )
    parts: list[Table | Text] = [header, overall, campaigns]
    if not figures.campaigns:
        parts.append(Text("no campaign was launched in that range"))
    if figures.erased:
        parts.append(Text(f"{figures.erased} respondent(s) erased since: their answers stay, anonymised; left out"))
    return Group(*parts)
