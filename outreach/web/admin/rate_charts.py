"""The campaign page's response rates, laid out for SVG and for the tables beside them (pure): over
time (residents asked and respondents by hour, or by day once the campaign runs past three days, with
the response rate so far as a line), and by channel and by district as bars, with small cells withheld
(outreach.survey.small_cells) like every other breakdown of respondents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from outreach.survey.margins import fold_value
from outreach.survey.small_cells import suppressed_line
from outreach.web.admin.charts import BAR_GAP, BAR_HEIGHT, BAR_WIDTH, LABEL_CHARACTERS
from storage.response_rates import RateCell

HOURLY_UP_TO = timedelta(days=3)  # a longer campaign is drawn by day: 72 points at most by hour
LINE_WIDTH = 520  # the timeline's plot area, right of the axis labels
LINE_HEIGHT = 160
AXIS_WIDTH = 48  # room for "100%" left of the plot
AXIS_GAP = 24  # below the plot: the first and last period
DIMENSIONS = ("channel", "district")


@dataclass(frozen=True)
class Period:
    start: datetime
    asked: int  # residents first asked in the period
    answered: int  # respondents whose first answer came in the period
    asked_so_far: int
    answered_so_far: int
    x: float
    y: float  # the rate so far, on the plot

    @property
    def rate(self) -> float | None:
        """The response rate so far (respondents over residents asked, up to the period's end)."""
        return min(1.0, self.answered_so_far / self.asked_so_far) if self.asked_so_far else None


@dataclass(frozen=True)
class Timeline:
    by_day: bool  # else by hour
    periods: list[Period]
    points: str  # the polyline's "x,y x,y …"
    width: int
    height: int


def timeline(asked: Mapping[datetime, int], answered: Mapping[datetime, int]) -> Timeline:
    """Periods from the first hour anyone was asked (or answered) to the last, with empty ones kept so
    the line's spacing is time's."""
    hours = sorted({*asked, *answered})
    periods: list[Period] = []
    by_day = bool(hours) and hours[-1] - hours[0] >= HOURLY_UP_TO
    if hours:
        step = timedelta(days=1) if by_day else timedelta(hours=1)
        first = hours[0].replace(hour=0) if by_day else hours[0]
        count = int((hours[-1] - first) / step) + 1
        asked_in, answered_in = [0] * count, [0] * count
        for hour, times in asked.items():
            asked_in[int((hour - first) / step)] += times
        for hour, times in answered.items():
            answered_in[int((hour - first) / step)] += times
        asked_so_far = answered_so_far = 0
        for index in range(count):
            asked_so_far += asked_in[index]
            answered_so_far += answered_in[index]
            rate = min(1.0, answered_so_far / asked_so_far) if asked_so_far else 0.0
            x = AXIS_WIDTH + (LINE_WIDTH * index / (count - 1) if count > 1 else LINE_WIDTH / 2)
            periods.append(
                Period(
                    first + index * step,
                    asked_in[index],
                    answered_in[index],
                    asked_so_far,
                    answered_so_far,
                    round(x, 1),
                    round(LINE_HEIGHT * (1 - rate), 1),
                )
            )
    return Timeline(
        by_day=by_day,
        periods=periods,
        points=" ".join(f"{period.x},{period.y}" for period in periods),
        width=AXIS_WIDTH + LINE_WIDTH + 16,
        height=LINE_HEIGHT + AXIS_GAP,
    )


@dataclass(frozen=True)
class RateRow:
    value: str | None  # the channel or district; None: not recorded
    short_label: str
    asked: int | None  # None: withheld (a small cell, or what would let one be worked out)
    answered: int | None
    y: int
    width: int  # the rate's bar

    @property
    def rate(self) -> float | None:
        if self.asked is None or self.answered is None or not self.asked:
            return None
        return self.answered / self.asked


@dataclass(frozen=True)
class RateChart:
    by: str  # channel or district
    rows: list[RateRow]
    height: int


def _folded(district: str | None) -> str | None:
    """Spellings of one district counted together, as weighting folds them ("oliwa " is Oliwa)."""
    if district is None or not fold_value(district):
        return None
    return fold_value(district)


def rate_charts(cells: Sequence[RateCell], k: int) -> list[RateChart]:
    """Response rates by channel and by district, the largest group first; along each, the counts of
    residents asked and of respondents are each a line with a known total (the campaign's), withheld
    where small. Spellings of a district are counted together (shown as its most common one)."""
    charts = []
    for by in DIMENSIONS:
        asked: dict[str | None, int] = {}
        answered: dict[str | None, int] = {}
        spellings: dict[str | None, Counter[str]] = {}
        for cell in cells:
            value = cell.channel if by == "channel" else _folded(cell.district)
            asked[value] = asked.get(value, 0) + cell.asked
            answered[value] = answered.get(value, 0) + cell.answered
            if value is not None:
                spellings.setdefault(value, Counter())[
                    (cell.district or "").strip() if by == "district" else value
                ] += cell.asked
        hidden_asked = suppressed_line(asked, k)
        hidden_answered = suppressed_line(answered, k)
        ordered = sorted(asked, key=lambda value: (-asked[value], value or ""))
        rows = []
        for index, value in enumerate(ordered):
            shown_asked = None if value in hidden_asked else asked[value]
            shown_answered = None if value in hidden_answered else answered[value]
            rate = shown_answered / shown_asked if shown_asked and shown_answered is not None else 0.0
            label = spellings[value].most_common(1)[0][0] if value is not None else ""
            short = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
            rows.append(
                RateRow(
                    label or None,
                    short,
                    shown_asked,
                    shown_answered,
                    index * (BAR_HEIGHT + BAR_GAP),
                    round(rate * BAR_WIDTH),
                )
            )
        charts.append(RateChart(by, rows, max(0, len(rows) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP)))
    return charts
