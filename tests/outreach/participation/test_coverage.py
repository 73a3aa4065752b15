"""Coverage against margins: reachable residents per stratum as a share of its population, thinnest
first; what each recruitment source brought into which strata; small counts withheld."""

from __future__ import annotations

import pytest

from outreach.participation.coverage import DimensionCounts, RegisterCounts, coverage
from outreach.survey.margins import Margins

CITY = Margins(
    name="city",
    dimensions={"district": {"oliwa": 2000.0, "osowa": 1000.0, "orunia": 1000.0, "stogi": 500.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa", ("district", "orunia"): "Orunia"}
    | {("district", "stogi"): "Stogi"},
)
REGISTER = "register", "import"
POSTER = "qr-bus-12", "self-enrolment"


def counts() -> RegisterCounts:
    """40 residents in Oliwa (30 reachable by SMS, 12 by Telegram, 36 on either), 20 in Osowa (all by
    SMS), 6 in Orunia (6 by Telegram), none in Stogi, 2 without a district; the register brought Oliwa and Osowa, the
    poster Orunia, 2 of Oliwa and the two without a district."""
    district = DimensionCounts(
        residents={"Oliwa": 38, "oliwa ": 2, "Osowa": 20, "Orunia": 6, None: 2},
        reachable={"Oliwa": 36, "Osowa": 20, "Orunia": 6, None: 2},
        channels={("Oliwa", "sms"): 30, ("Oliwa", "telegram"): 12, ("Osowa", "sms"): 20, ("Orunia", "telegram"): 6}
        | {(None, "telegram"): 2},
        sources={(REGISTER, "Oliwa"): 38, (REGISTER, "Osowa"): 20, (POSTER, "Orunia"): 6, (POSTER, "Oliwa"): 2}
        | {(POSTER, None): 2},
    )
    return RegisterCounts(
        residents=68,
        reachable=64,
        channels={"sms": 50, "telegram": 20},
        sources={REGISTER: (58, 56), POSTER: (10, 8)},
        dimensions={"district": district},
    )


def test_strata_thinnest_first_with_coverage_and_representation() -> None:
    figures = coverage(CITY, counts(), k=1)
    assert [(s.value, s.reachable) for s in figures.strata] == [
        ("Stogi", 0),
        ("Orunia", 6),
        ("Oliwa", 36),
        ("Osowa", 20),
    ]
    _, orunia, oliwa, osowa = figures.strata
    assert orunia.coverage == pytest.approx(6 / 1000)
    assert oliwa.coverage == pytest.approx(36 / 2000)
    assert oliwa.residents == 40  # "oliwa " folds to Oliwa
    assert oliwa.channels == {"sms": 30, "telegram": 12}
    assert oliwa.channel_coverage["telegram"] == pytest.approx(12 / 2000)
    assert osowa.representation == pytest.approx((20 / 64) / (1000 / 4500))
    assert [(u.dimension, u.residents, u.reachable) for u in figures.unmatched] == [("district", 2, 2)]


def test_each_source_and_the_strata_it_brought() -> None:
    figures = coverage(CITY, counts(), k=1)
    register, poster = figures.sources
    assert (register.source, register.via, register.residents, register.reachable) == ("register", "import", 58, 56)
    assert register.strata == {"district": {"Oliwa": 38, "Osowa": 20, "Orunia": 0, "Stogi": 0}}
    assert poster.strata == {"district": {"Oliwa": 2, "Osowa": 0, "Orunia": 6, "Stogi": 0, "": 2}}


def test_small_counts_are_withheld_and_come_first() -> None:
    figures = coverage(CITY, counts(), k=5)
    # The 2 unmatched reachable are withheld, and so is the smallest stratum beside them (Orunia's 6):
    # after Stogi, where nobody is reached, and before those shown.
    assert [(s.value, s.reachable) for s in figures.strata][:3] == [("Stogi", 0), ("Orunia", None), ("Oliwa", 36)]
    assert [(u.residents, u.reachable) for u in figures.unmatched] == [(None, None)]
    register, poster = figures.sources
    # The poster's 2 in Oliwa and 2 unmatched, then their complements along the row and the columns.
    assert poster.strata == {"district": {"Oliwa": None, "Osowa": 0, "Orunia": None, "Stogi": 0, "": None}}
    assert register.strata == {"district": {"Oliwa": None, "Osowa": 20, "Orunia": None, "Stogi": 0}}
    assert (poster.residents, register.residents) == (10, 58)  # what a source brought is always said
