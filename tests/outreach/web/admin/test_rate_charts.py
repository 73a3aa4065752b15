"""The response rate over time and by channel and district, laid out for the campaign page (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.web.admin.rate_charts import AXIS_WIDTH, LINE_HEIGHT, LINE_WIDTH, rate_charts, timeline
from storage.response_rates import RateCell

LAUNCH = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def test_by_hour_the_rate_so_far_keeps_empty_hours_in_their_place() -> None:
    line = timeline({LAUNCH: 10, LAUNCH + timedelta(hours=3): 10}, {LAUNCH + timedelta(hours=1): 4})
    assert not line.by_day
    assert [(p.start.hour, p.asked, p.answered, p.rate) for p in line.periods] == [
        (9, 10, 0, 0.0),
        (10, 0, 4, 0.4),
        (11, 0, 0, 0.4),
        (12, 10, 0, 0.2),
    ]
    assert [p.x for p in line.periods] == [round(AXIS_WIDTH + LINE_WIDTH * i / 3, 1) for i in range(4)]
    assert [p.y for p in line.periods] == [LINE_HEIGHT, 0.6 * LINE_HEIGHT, 0.6 * LINE_HEIGHT, 0.8 * LINE_HEIGHT]


def test_past_three_days_the_line_is_drawn_by_day() -> None:
    line = timeline({LAUNCH: 8}, {LAUNCH + timedelta(hours=2): 2, LAUNCH + timedelta(days=3, hours=5): 2})
    assert line.by_day
    assert [(p.start, p.answered_so_far, p.rate) for p in line.periods] == [
        (datetime(2027, 3, 2, tzinfo=UTC), 2, 0.25),
        (datetime(2027, 3, 3, tzinfo=UTC), 2, 0.25),
        (datetime(2027, 3, 4, tzinfo=UTC), 2, 0.25),
        (datetime(2027, 3, 5, tzinfo=UTC), 4, 0.5),
    ]


def test_nobody_asked_is_no_line() -> None:
    assert timeline({}, {}).periods == []


def test_rates_withhold_small_cells_along_each_line_and_fold_spellings() -> None:
    cells = [
        RateCell("sms", "Oliwa", 20, 10),
        RateCell("sms", "oliwa ", 2, 1),
        RateCell("email", "Osowa", 20, 12),
        RateCell("email", None, 3, 1),
    ]
    by_channel, by_district = rate_charts(cells, k=5)
    assert [(row.value, row.asked, row.answered, row.rate) for row in by_channel.rows] == [
        ("email", 23, 13, 13 / 23),
        ("sms", 22, 11, 0.5),
    ]
    # Not recorded: 3 asked and 1 answering, both small. Each line withholds its smallest other cell
    # too (asked: Osowa's 20; answered: Oliwa's 11), so no count can be worked back from the totals.
    assert [(row.value, row.asked, row.answered, row.rate) for row in by_district.rows] == [
        ("Oliwa", 22, None, None),
        ("Osowa", None, 12, None),
        (None, None, None, None),
    ]
