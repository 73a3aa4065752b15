"""The usual-suspects meter on the hand-computed history of meter_fixture: top shares, Gini and
first-timers exactly, overall and split; small groups suppressed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outreach.participation.meter import Participation, first_participations, participation_meter
from outreach.participation.models import MeterSplit, ParticipationMeter
from tests.outreach.participation.meter_fixture import (
    FIRST_TIMERS,
    GINI,
    OLIWA_GINI,
    OLIWA_TOP_10,
    SINCE,
    TOP_1,
    TOP_10,
    UNTIL,
    in_range,
    participations,
)


def meter(k: int) -> ParticipationMeter:
    history = participations()
    campaigns = in_range()
    scope = [p for p in history if p.campaign_id in campaigns]
    return participation_meter(scope, first_participations(history), campaigns, k=k, since=SINCE, until=UNTIL)


def split(figures: ParticipationMeter, by: str) -> MeterSplit:
    return next(split for split in figures.splits if split.by == by)


def test_overall_top_shares_gini_and_first_timers_are_the_hand_computed_ones() -> None:
    figures = meter(k=1)
    assert (figures.respondents, figures.answers) == (20, 27)
    assert figures.top_1_percent is not None and figures.top_10_percent is not None
    assert (figures.top_1_percent.residents, figures.top_1_percent.share) == pytest.approx((1, TOP_1))
    assert (figures.top_10_percent.residents, figures.top_10_percent.share) == pytest.approx((2, TOP_10))
    assert figures.gini == pytest.approx(GINI)
    assert {c.campaign: (c.respondents, c.first_timers) for c in figures.campaigns} == FIRST_TIMERS
    assert figures.campaigns[0].first_timer_share == pytest.approx(4 / 6)


def test_first_timers_count_history_before_the_range() -> None:
    # Without `old` in the history, r2 and r4 would be new in a: 6 of 6.
    history = [p for p in participations() if p.campaign_id != 1]
    campaigns = in_range()
    figures = participation_meter(history, first_participations(history), campaigns, k=1)
    assert figures.campaigns[0].first_timers == 6


def test_split_by_district_measures_each_district_apart() -> None:
    groups = {group.value: group for group in split(meter(k=1), "district").groups}
    oliwa, osowa = groups["Oliwa"], groups["Osowa"]
    assert (oliwa.respondents, oliwa.answers, osowa.respondents, osowa.answers) == (10, 17, 10, 10)
    assert oliwa.top_10_percent is not None and oliwa.top_10_percent.share == pytest.approx(OLIWA_TOP_10)
    assert oliwa.gini == pytest.approx(OLIWA_GINI)
    assert osowa.gini == 0.0
    # c: r1 and r2 in Oliwa (both returning), r11-r13 in Osowa (all new).
    c_oliwa = next(c for c in oliwa.campaigns if c.campaign == "c")
    c_osowa = next(c for c in osowa.campaigns if c.campaign == "c")
    assert (c_oliwa.respondents, c_oliwa.first_timers, c_osowa.respondents, c_osowa.first_timers) == (2, 0, 3, 3)


def test_split_by_recruitment_source_and_channel() -> None:
    figures = meter(k=1)
    sources = {group.value: group for group in split(figures, "recruitment_source").groups}
    assert (sources["register-2026"].respondents, sources["qr-bus-12"].respondents) == (12, 8)
    assert sources["qr-bus-12"].gini == 0.0
    channels = {group.value: group for group in split(figures, "channel").groups}
    assert (channels["telegram"].respondents, channels["telegram"].answers) == (2, 7)
    assert channels["telegram"].gini == pytest.approx(3 / 14)  # 2 and 5: |5 − 2| · 2 / (2 · 4 · 3.5)


def test_small_groups_and_what_would_reveal_them_are_suppressed() -> None:
    figures = meter(k=5)
    channels = split(figures, "channel").groups
    # Telegram's 2 respondents are too few, and SMS's 18 would give them away from the total of 20.
    assert [(group.value, group.suppressed, group.respondents, group.gini) for group in channels] == [
        ("sms", True, None, None),
        ("telegram", True, None, None),
    ]
    assert all(c.respondents is None for group in channels for c in group.campaigns)
    districts = {group.value: group for group in split(figures, "district").groups}
    a_oliwa = next(c for c in districts["Oliwa"].campaigns if c.campaign == "a")
    # a in Oliwa: 6 respondents shown, but 4 new and 2 returning: the 2 is withheld, so the 4 is too.
    assert (a_oliwa.respondents, a_oliwa.first_timers, a_oliwa.first_timer_share) == (6, None, None)
    assert districts["Oliwa"].gini == pytest.approx(OLIWA_GINI)  # 10 respondents: shown
    assert figures.gini == pytest.approx(GINI)  # 20 respondents: shown


def crowd(district: str, answers: list[int]) -> list[Participation]:
    """Residents of one district, the n-th answering answers[n] campaigns (ids 1, 2, …)."""
    start = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    return [
        Participation(resident, campaign, start + timedelta(days=campaign), "sms", district, "register")
        for resident, count in enumerate(answers, start=1)
        for campaign in range(1, count + 1)
    ]


def test_a_top_share_of_fewer_than_k_residents_is_withheld() -> None:
    # 80 respondents of one district: the top 1% is one person, whose share of the 90 answers
    # would be their own count (11); the top 10% are 8 residents, enough to show (18 of 90).
    scope = crowd("Oliwa", [11] + [1] * 79)
    figures = participation_meter(scope, first_participations(scope), {1: "a"}, k=5)
    oliwa = split(figures, "district").groups[0]
    for measured in (figures, oliwa):
        assert measured.top_1_percent is not None and measured.top_10_percent is not None
        assert (measured.top_1_percent.residents, measured.top_1_percent.share) == (1, None)
        assert measured.top_1_percent.suppressed
        assert (measured.top_10_percent.residents, measured.top_10_percent.suppressed) == (8, False)
        assert measured.top_10_percent.share == pytest.approx(18 / 90)
        assert measured.gini is not None and not measured.gini_suppressed


def test_the_hand_computed_top_shares_are_withheld_under_k() -> None:
    figures = meter(k=2)
    assert figures.top_1_percent is not None and figures.top_10_percent is not None
    assert (figures.top_1_percent.residents, figures.top_1_percent.share, figures.top_1_percent.suppressed) == (
        1,
        None,
        True,
    )
    assert figures.top_10_percent.share == pytest.approx(TOP_10)  # 2 residents: k = 2 shows it
    oliwa = next(group for group in split(figures, "district").groups if group.value == "Oliwa")
    assert oliwa.top_10_percent is not None and oliwa.top_10_percent.share is None  # 1 of Oliwa's 10


def test_the_gini_of_fewer_than_k_respondents_is_withheld() -> None:
    scope = crowd("Oliwa", [3, 1, 1])
    figures = participation_meter(scope, first_participations(scope), {1: "a"}, k=5)
    assert (figures.respondents, figures.answers, figures.gini, figures.gini_suppressed) == (3, 5, None, True)
    assert figures.top_10_percent is not None and figures.top_10_percent.share is None
    shown = participation_meter(scope, first_participations(scope), {1: "a"}, k=3)
    assert shown.gini == pytest.approx(4 / 15) and not shown.gini_suppressed  # Σ|xᵢ − xⱼ| = 8 over 2·n²·mean = 30


def test_only_the_splits_asked_for_are_made() -> None:
    history = participations()
    figures = participation_meter(history, first_participations(history), in_range(), k=1, splits=["channel"])
    assert [each.by for each in figures.splits] == ["channel"]
