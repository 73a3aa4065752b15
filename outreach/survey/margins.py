"""Population margins (pure): how many residents the city has per value of an attribute (district,
age band, sex, ...), read from a CSV `dimension,value,population` and turned into shares.

A file may hold joint cells too (dimension `district×age_band`, value `Oliwa×30-44`); a share over
several dimensions comes from joint cells when the file has them and from the product of the
one-dimensional shares (independence) otherwise, and says which. Values are compared after
`fold_value`, the folding residents' attributes get as well, so "ORUNIA  górna" is "Orunia Górna".

This module is pure; outreach.survey.margins_store saves and loads margins (save_margins, load_margins).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

from flows.age_bands import AGE_BAND, age_band_of
from flows.explanation import Explanation
from flows.folding import fold
from outreach.survey.margins_problems import MarginsError as MarginsError  # re-exported: where it always was
from outreach.survey.margins_problems import MarginsProblem, said

# The margins `outreach db upgrade` adds (outreach.survey.margins_store.default_margins): the districts of Gdańsk.
DEFAULT_MARGINS = "gdansk-districts"
JOINT = "×"  # joins the dimensions of a joint cell and its values: district×age_band, Oliwa×30-44
HEADER = ("dimension", "value", "population")
# Joint cells and the one-dimensional margin of the same dimension may come from different
# sources; their shares may differ by rounding, not by more than this.
SHARE_TOLERANCE = 0.005
# As residents' attributes may be (outreach.campaigns.resident_rows), and a joint cell in all as the
# store keeps it (storage.tables.MARGINS_TEXT_LENGTH).
DIMENSION_LIMIT, VALUE_LIMIT, CELL_LIMIT = 64, 200, 400

_Problem = Callable[[int | None, Explanation], None]  # reports a problem at a line of the file

_SPACES = re.compile(r"\s+")
_SPACED_HYPHEN = re.compile(r"\s*-\s*")


def fold_value(value: str) -> str:
    """The form a margin value and a resident's attribute are compared on: case and Latin
    diacritics dropped, spaces collapsed, none around a hyphen ("30 - 44" is "30-44")."""
    folded = _SPACES.sub(" ", fold(value)).strip()
    return _SPACED_HYPHEN.sub("-", folded)


@dataclass(frozen=True)
class Margins:
    name: str
    # dimension -> folded value -> population (as given in the file, > 0)
    dimensions: Mapping[str, Mapping[str, float]]
    # joint cells: tuple of dimensions -> tuple of folded values -> population
    joint: Mapping[tuple[str, ...], Mapping[tuple[str, ...], float]] = field(default_factory=dict)
    # (dimension, folded value) -> the value as written; joint cells under their joined names
    labels: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def label(self, dimension: str, value: str) -> str:
        return self.labels.get((dimension, value), value)

    def total(self, dimension: str) -> float:
        return sum(self._dimension(dimension).values())

    def shares(self, dimension: str) -> dict[str, float]:
        """Each value's share of its dimension (sums to 1)."""
        populations = self._dimension(dimension)
        total = sum(populations.values())
        return {value: population / total for value, population in populations.items()}

    def joint_shares(self, dimensions: Sequence[str]) -> tuple[dict[tuple[str, ...], float], bool]:
        """Shares of each cell over `dimensions` (sums to 1) and whether they were ASSUMED independent
        (product of one-dimensional shares) rather than read from joint cells in the file.

        Joint cells over a part of `dimensions` are used for that part, the rest assumed independent.
        """
        wanted = list(dimensions)
        if not wanted:
            raise MarginsError.single(said("margins_no_dimensions"), self.name)
        if len(set(wanted)) != len(wanted):
            twice = said("margins_dimension_twice", {"dimensions": ", ".join(wanted)})
            raise MarginsError.single(twice, self.name)
        for dimension in wanted:
            self._dimension(dimension)
        factors = self._factors(wanted)
        cells: dict[tuple[str, ...], float] = {}
        for parts in product(*(factor.items() for _, factor in factors)):
            by_dimension: dict[str, str] = {}
            share = 1.0
            for (dims, _), (values, part_share) in zip(factors, parts, strict=True):
                by_dimension.update(zip(dims, values, strict=True))
                share *= part_share
            cells[tuple(by_dimension[dimension] for dimension in wanted)] = share
        return cells, len(factors) > 1

    def _factors(self, wanted: list[str]) -> list[tuple[tuple[str, ...], dict[tuple[str, ...], float]]]:
        """Independent pieces covering `wanted`: the largest joint cells first, single dimensions last."""
        remaining = set(wanted)
        factors: list[tuple[tuple[str, ...], dict[tuple[str, ...], float]]] = []
        for dims in sorted(self.joint, key=lambda dims: (-len(dims), dims)):
            if set(dims) <= remaining:
                populations = self.joint[dims]
                total = sum(populations.values())
                factors.append((dims, {values: p / total for values, p in populations.items()}))
                remaining -= set(dims)
        for dimension in wanted:
            if dimension in remaining:
                shares = self.shares(dimension)
                factors.append(((dimension,), {(value,): share for value, share in shares.items()}))
        return factors

    def _dimension(self, dimension: str) -> Mapping[str, float]:
        try:
            return self.dimensions[dimension]
        except KeyError:
            params = {
                "dimension": repr(dimension),
                "name": repr(self.name),
                "known": ", ".join(sorted(self.dimensions)),
            }
            unknown = (
                said("margins_unknown_dimension", params)
                if self.dimensions
                else said("margins_unknown_dimension_none", params)
            )
            raise MarginsError.single(unknown, self.name) from None


def unmatched_values(margins: Margins, dimension: str, counts: Mapping[str | None, int]) -> dict[str, int]:
    """Of residents counted per value of `dimension` (as written), those whose value matches no margin
    value after folding, per value; residents without the value count under "", so nobody is dropped
    unseen. Values that fold alike are counted together under the first spelling."""
    known = margins.dimensions.get(dimension, {})
    unmatched: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for value, count in counts.items():
        folded = fold_value(value or "")
        if folded in known or count <= 0:
            continue
        written = spelling.setdefault(folded, (value or "").strip())
        unmatched[written] = unmatched.get(written, 0) + count
    return dict(sorted(unmatched.items(), key=lambda item: (-item[1], item[0])))


Cell = tuple[str, str, str, float]  # dimension, value, label, population; a joint cell's parts joined by JOINT


def cells_of(margins: Margins) -> list[Cell]:
    """Margins as plain cells, as the store keeps them (storage.margins)."""
    cells = [
        (dimension, value, margins.label(dimension, value), population)
        for dimension, values in margins.dimensions.items()
        for value, population in values.items()
    ]
    for dims, joint_cells in margins.joint.items():
        joined = JOINT.join(dims)
        for values, population in joint_cells.items():
            cells.append((joined, JOINT.join(values), margins.label(joined, JOINT.join(values)), population))
    return cells


def margins_from_cells(name: str, cells: Iterable[Cell]) -> Margins:
    """Margins from the cells `cells_of` made (they were checked when parsed)."""
    dimensions: dict[str, dict[str, float]] = {}
    joint: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}
    labels: dict[tuple[str, str], str] = {}
    for dimension, value, label, population in cells:
        labels[(dimension, value)] = label
        if JOINT in dimension:
            joint.setdefault(tuple(dimension.split(JOINT)), {})[tuple(value.split(JOINT))] = population
        else:
            dimensions.setdefault(dimension, {})[value] = population
    return Margins(name=name, dimensions=dimensions, joint=joint, labels=labels)


@dataclass
class _Row:
    line: int
    dimension: str  # folded
    value: str  # folded
    written: str
    population: float


def parse_margins(
    text: str, name: str, source: str, *, age_bands: Sequence[str] | None = None
) -> tuple[Margins, list[str]]:
    """Margins from the text of a CSV file, and notes on what was done to them (scaling to shares,
    dimensions derived from joint cells). Raises MarginsError with every problem and its line.

    With `age_bands` (the setting's labels), every value of `age_band` must name one of them and is
    kept as its label ("30 - 44" is 30-44)."""
    problems: list[MarginsProblem] = []

    def problem(line: int | None, explanation: Explanation) -> None:
        problems.append(MarginsProblem(source, line, explanation))

    rows = _read_rows(text.removeprefix("\ufeff"), problem)
    if age_bands is not None:
        rows = [row for row in rows if _as_age_bands(row, age_bands, problem)]
    singles: dict[str, dict[str, _Row]] = {}
    joints: dict[tuple[str, ...], dict[tuple[str, ...], _Row]] = {}
    for row in rows:
        if JOINT in row.dimension:
            _add_joint(row, joints, problem)
        else:
            seen = singles.setdefault(row.dimension, {})
            if row.value in seen:
                params = {"value": repr(row.written), "dimension": repr(row.dimension), "line": seen[row.value].line}
                problem(row.line, said("margins_duplicate", params))
            else:
                seen[row.value] = row
    if not rows and not problems:
        problem(None, said("margins_no_rows"))
    notes: list[str] = []
    derived = _derive_from_joints(singles, joints, notes)
    _check_joints(singles, derived, joints, problem)
    if problems:
        raise MarginsError(sorted(problems, key=lambda problem: problem.line or 0))
    dimensions = {dim: {value: row.population for value, row in values.items()} for dim, values in singles.items()}
    dimensions.update(derived)
    labels = {(dim, value): row.written for dim, values in singles.items() for value, row in values.items()}
    for dims, cells in joints.items():
        joined = JOINT.join(dims)
        for values, row in cells.items():
            labels[(joined, JOINT.join(values))] = row.written
            for dim, value, written in zip(dims, values, row.written.split(JOINT), strict=True):
                labels.setdefault((dim, value), written.strip())
    joint = {dims: {values: row.population for values, row in cells.items()} for dims, cells in joints.items()}
    if age_bands is not None and AGE_BAND in dimensions:
        missing = [band for band in age_bands if band not in dimensions[AGE_BAND]]
        if missing:
            notes.append(f"{AGE_BAND} has no population for {', '.join(missing)} (OUTREACH_AGE_BANDS)")
    totals = {dim: sum(values.values()) for dim, values in dimensions.items()}
    if len({round(total, 6) for total in totals.values()}) > 1:
        listed = ", ".join(f"{dim} {_number(total)}" for dim, total in totals.items())
        notes.append(f"the dimensions have different totals ({listed}); each is scaled to shares")
    return Margins(name=name, dimensions=dimensions, joint=joint, labels=labels), notes


def _read_rows(text: str, problem: _Problem) -> list[_Row]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        problem(None, said("margins_empty", {"header": ",".join(HEADER)}))
        return []
    if tuple(cell.strip().casefold() for cell in header) != HEADER:
        found = {"header": ",".join(HEADER), "found": ",".join(header)}
        problem(1, said("margins_header", found))
        return []
    rows: list[_Row] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            fields = {"found": len(cells)}
            problem(line, said("margins_fields", fields))
            continue
        dimension, written, population_text = (cell.strip() for cell in cells)
        if not dimension:
            problem(line, said("margins_no_dimension"))
            continue
        if not written:
            problem(line, said("margins_no_value", {"dimension": repr(dimension)}))
            continue
        too_long = _too_long(dimension, written)
        if too_long:
            problem(line, too_long)
            continue
        population = _population(population_text)
        quoted = {"value": repr(written), "population": repr(population_text)}
        if population is None:
            problem(line, said("margins_not_a_number", quoted))
            continue
        if population <= 0:
            quoted["population"] = population_text
            problem(line, said("margins_not_above_zero", quoted))
            continue
        value = JOINT.join(fold_value(part) for part in written.split(JOINT))
        rows.append(_Row(line, _dimension_name(dimension), value, written, population))
    return rows


def _as_age_bands(row: _Row, age_bands: Sequence[str], problem: _Problem) -> bool:
    """Write the row's age bands as the setting's labels; False (and a problem) when one names none."""
    dimensions = row.dimension.split(JOINT)
    if AGE_BAND not in dimensions:
        return True
    values = row.value.split(JOINT)
    if len(values) != len(dimensions):
        return True  # _add_joint says what is wrong
    index = dimensions.index(AGE_BAND)
    band = age_band_of(values[index], age_bands)
    if band is None:
        params = {"value": repr(values[index]), "bands": ", ".join(age_bands)}
        problem(row.line, said("margins_age_band", params))
        return False
    values[index] = band
    row.value = JOINT.join(values)
    return True


def _too_long(dimension: str, written: str) -> Explanation | None:
    if any(len(part.strip()) > DIMENSION_LIMIT for part in dimension.split(JOINT)):
        limit = {"limit": DIMENSION_LIMIT}
        return said("margins_long_dimension", limit)
    if any(len(part.strip()) > VALUE_LIMIT for part in written.split(JOINT)):
        params = {"dimension": repr(dimension), "limit": VALUE_LIMIT}
        return said("margins_long_value", params)
    if max(len(dimension), len(written)) > CELL_LIMIT:
        return said("margins_long_cell", {"limit": CELL_LIMIT})
    return None


def _dimension_name(written: str) -> str:
    return JOINT.join(fold_value(part).replace(" ", "_") for part in written.split(JOINT))


def _population(text: str) -> float | None:
    try:
        population = float(text.replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        return None
    return population if math.isfinite(population) else None


def _add_joint(row: _Row, joints: dict[tuple[str, ...], dict[tuple[str, ...], _Row]], problem: _Problem) -> None:
    dims = tuple(row.dimension.split(JOINT))
    values = tuple(row.value.split(JOINT))
    if any(not dim for dim in dims) or len(set(dims)) != len(dims):
        once = {"dimension": repr(row.dimension)}
        problem(row.line, said("margins_joint_twice", once))
    elif len(values) != len(dims) or not all(values):
        params = {"value": repr(row.written), "dimension": repr(row.dimension)}
        problem(row.line, said("margins_joint_values", params))
    else:
        cells = joints.setdefault(dims, {})
        if values in cells:
            duplicate: dict[str, object] = {"value": repr(row.written), "line": cells[values].line}
            problem(row.line, said("margins_joint_duplicate", duplicate))
        else:
            cells[values] = row


def _derive_from_joints(
    singles: Mapping[str, Mapping[str, _Row]],
    joints: Mapping[tuple[str, ...], Mapping[tuple[str, ...], _Row]],
    notes: list[str],
) -> dict[str, dict[str, float]]:
    """One-dimensional margins summed from joint cells, for dimensions the file gives only jointly."""
    derived: dict[str, dict[str, float]] = {}
    for dims, cells in joints.items():
        for index, dim in enumerate(dims):
            if dim in singles or dim in derived:
                continue
            sums: dict[str, float] = {}
            for values, row in cells.items():
                sums[values[index]] = sums.get(values[index], 0.0) + row.population
            derived[dim] = sums
            notes.append(f"{dim!r} has no margin of its own; it is summed from the joint cells {JOINT.join(dims)!r}")
    return derived


def _check_joints(
    singles: Mapping[str, Mapping[str, _Row]],
    derived: Mapping[str, Mapping[str, float]],
    joints: Mapping[tuple[str, ...], Mapping[tuple[str, ...], _Row]],
    problem: _Problem,
) -> None:
    """Joint cells name known values, cover every combination, and sum to the one-dimensional shares."""
    for dims, cells in joints.items():
        known = [set(singles[dim]) if dim in singles else set(derived.get(dim, {})) for dim in dims]
        bad = False
        for values, row in cells.items():
            for dim, value, allowed in zip(dims, values, known, strict=True):
                if value not in allowed:
                    params = {"value": repr(value), "dimension": repr(dim)}
                    problem(row.line, said("margins_joint_unknown", params))
                    bad = True
        if bad:
            continue
        first_line = min(row.line for row in cells.values())
        missing = [JOINT.join(values) for values in product(*(sorted(k) for k in known)) if values not in cells]
        if missing:
            shown = ", ".join(missing[:5])
            missed: dict[str, object] = {"cells": repr(JOINT.join(dims)), "missing": shown, "more": len(missing) - 5}
            if len(missing) > 5:
                problem(first_line, said("margins_joint_miss_more", missed))
            else:
                problem(first_line, said("margins_joint_miss", missed))
            continue
        total = sum(row.population for row in cells.values())
        for index, dim in enumerate(dims):
            if dim not in singles:
                continue
            single_total = sum(row.population for row in singles[dim].values())
            for value, row in singles[dim].items():
                joint_share = sum(r.population for v, r in cells.items() if v[index] == value) / total
                single_share = row.population / single_total
                if abs(joint_share - single_share) > SHARE_TOLERANCE:
                    shares = {"value": repr(row.written), "share": f"{single_share:.1%}", "dimension": repr(dim)}
                    shares |= {"joint_share": f"{joint_share:.1%}", "cells": repr(JOINT.join(dims))}
                    problem(row.line, said("margins_do_not_sum", shares))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"
