"""Coverage against the census (pure): per stratum of the margins (each value of each dimension:
district, age band, sex, language…), the residents recorded and those reachable and consented on
each channel, as a share of the stratum's population, thinnest first; and per recruitment source
(an import's label, an enrolment source code) how many residents it brought, into which strata.
This tells an official where to put the next poster.

Counts of 1 to k−1 residents are withheld with their complements along each published total
(outreach.survey.small_cells): a source and a stratum together can narrow down to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from outreach.participation.models import Coverage, SourceCoverage, StratumCoverage, UnmatchedResidents
from outreach.survey.margins import Margins, fold_value
from outreach.survey.small_cells import suppressed_line, suppressed_table

UNMATCHED = ""  # a value missing or matching no margin value
Source = tuple[str | None, str | None]  # (recruitment_source, recruited_via)


@dataclass
class DimensionCounts:
    """Residents per value of one dimension, as written (None: without it)."""

    residents: dict[str | None, int] = field(default_factory=dict)
    reachable: dict[str | None, int] = field(default_factory=dict)  # on at least one channel
    channels: dict[tuple[str | None, str], int] = field(default_factory=dict)  # (value, channel)
    sources: dict[tuple[Source, str | None], int] = field(default_factory=dict)  # (source, value): residents


@dataclass
class RegisterCounts:
    """What the store counted of the register (storage.coverage)."""

    residents: int
    reachable: int
    channels: dict[str, int]  # reachable per channel
    sources: dict[Source, tuple[int, int]]  # residents, reachable
    dimensions: dict[str, DimensionCounts]


def _fold(counts: Mapping[str | None, int], known: Mapping[str, float]) -> dict[str, int]:
    folded: dict[str, int] = dict.fromkeys(known, 0)
    for written, count in counts.items():
        value = fold_value(written or "")
        key = value if value in known else UNMATCHED
        folded[key] = folded.get(key, 0) + count
    return folded


def _withheld(counts: Mapping[str, int], k: int) -> dict[str, int | None]:
    hidden = suppressed_line(counts, k)
    return {value: None if value in hidden else count for value, count in counts.items()}


def _ratio(count: int | None, population: float) -> float | None:
    return None if count is None else count / population


def coverage(margins: Margins, counts: RegisterCounts, *, k: int) -> Coverage:
    strata: list[StratumCoverage] = []
    unmatched: list[UnmatchedResidents] = []
    channels = sorted(counts.channels)
    for dimension, populations in margins.dimensions.items():
        found = counts.dimensions.get(dimension, DimensionCounts())
        shares = margins.shares(dimension)
        residents = _withheld(_fold(found.residents, populations), k)
        reachable = _withheld(_fold(found.reachable, populations), k)
        per_channel = {
            channel: _withheld(
                _fold({value: n for (value, kind), n in found.channels.items() if kind == channel}, populations), k
            )
            for channel in channels
        }
        reachable_total = counts.reachable
        for value, population in populations.items():
            reached = reachable[value]
            representation = None
            if reached is not None and reachable_total:
                representation = reached / reachable_total / shares[value]
            strata.append(
                StratumCoverage(
                    dimension=dimension,
                    value=margins.label(dimension, value),
                    population=population,
                    population_share=shares[value],
                    residents=residents[value],
                    reachable=reached,
                    coverage=_ratio(reached, population),
                    representation=representation,
                    channels={channel: per_channel[channel][value] for channel in channels},
                    channel_coverage={channel: _ratio(per_channel[channel][value], population) for channel in channels},
                )
            )
        if residents.get(UNMATCHED, 0) != 0:
            unmatched.append(
                UnmatchedResidents(
                    dimension=dimension, residents=residents[UNMATCHED], reachable=reachable.get(UNMATCHED, 0)
                )
            )
    strata.sort(key=_thinnest_first)
    return Coverage(
        margins=margins.name,
        k=k,
        residents=counts.residents,
        reachable=counts.reachable,
        channels=dict(sorted(counts.channels.items())),
        strata=strata,
        unmatched=unmatched,
        sources=_sources(margins, counts, k),
    )


def _thinnest_first(stratum: StratumCoverage) -> tuple[int, float, float, str, str]:
    """Nobody reached first, then the withheld (fewer than k reached, or hiding such a stratum: their
    order would tell their counts), then by coverage; the more populous first where alike."""
    if stratum.coverage == 0:
        rank = 0
    elif stratum.coverage is None:
        rank = 1
    else:
        rank = 2
    return rank, stratum.coverage or 0.0, -stratum.population, stratum.dimension, stratum.value


def _sources(margins: Margins, counts: RegisterCounts, k: int) -> list[SourceCoverage]:
    order = sorted(counts.sources, key=lambda source: (-counts.sources[source][0], source[0] or "", source[1] or ""))
    rows = {source: str(index) for index, source in enumerate(order)}
    strata: dict[Source, dict[str, dict[str, int | None]]] = {source: {} for source in order}
    for dimension, populations in margins.dimensions.items():
        found = counts.dimensions.get(dimension, DimensionCounts())
        cells: dict[tuple[str | None, str], int] = {}
        for source in order:
            written = {value: n for (of, value), n in found.sources.items() if of == source}
            for value, n in _fold(written, populations).items():
                cells[(rows[source], value)] = n
        hidden = suppressed_table(cells, set(), k)
        for source in order:
            strata[source][dimension] = {
                (margins.label(dimension, value) if value != UNMATCHED else UNMATCHED): (
                    None if (rows[source], value) in hidden else n
                )
                for (row, value), n in cells.items()
                if row == rows[source] and (n != 0 or value != UNMATCHED)
            }
    return [
        SourceCoverage(
            source=source[0],
            via=source[1],
            residents=counts.sources[source][0],
            reachable=counts.sources[source][1],
            strata=strata[source],
        )
        for source in order
    ]
