"""The simulated Gdańsk of issue 16, with fixed parameters: one population model for the pure proof
(tests/outreach/survey/test_simulated_city.py) and the end-to-end one (tests/city_consultation.py).

Its residents are placed by the 35 district figures and given one of four age bands; opinions differ
by 20 points between central districts and the outskirts and by 30 points between the youngest and
the oldest; residents aged 65+ answer three times as often as those aged 18-29, and central districts
twice as often as the outskirts; a reminder is answered half as often as the invitation (issue 17).
The groups that answer most (the old, the centre) lean "no", so the raw share of those who answer
underrates "yes".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import outreach
from flows.folding import fold

DISTRICTS_CSV = Path(outreach.__file__).parent / "data" / "gdansk_districts.csv"
AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
AGE_SHARES = (0.19, 0.25, 0.31, 0.25)
# The city centre and the districts around it; every other district is "the outskirts".
CENTRAL = frozenset(
    fold(name)
    for name in (
        "Śródmieście",
        "Aniołki",
        "Siedlce",
        "Młyniska",
        "Wrzeszcz Dolny",
        "Wrzeszcz Górny",
        "Strzyża",
        "Zaspa-Młyniec",
        "Zaspa-Rozstaje",
    )
)
# Chance of "yes": by age band, minus 10 points in the centre and plus 10 outside it.
YES_BY_AGE = (0.65, 0.55, 0.45, 0.35)
YES_CENTRAL_SHIFT = -0.10
YES_OUTSKIRTS_SHIFT = +0.10
# Chance of answering an invitation: 18-29 in the outskirts answer at 8%; 65+ three times as often,
# and the centre twice as often as the outskirts.
ANSWER_BY_AGE = (0.08, 0.12, 0.16, 0.24)
CENTRAL_ANSWER_FACTOR = 2.0
# A reminder to one who did not answer the invitation is answered half as often as the invitation was
# (issue 17: where the reminders go decides whom they bring).
REMINDER_ANSWER_FACTOR = 0.5


def district_figures() -> dict[str, int]:
    """The published figures: each district's population, by its name as written."""
    with DISTRICTS_CSV.open(encoding="utf-8", newline="") as file:
        return {row["district"]: int(row["population"]) for row in csv.DictReader(file)}


def district_populations() -> dict[str, int]:
    """The same figures by folded name (as margins and attributes are matched)."""
    return {fold(name): population for name, population in district_figures().items()}


@dataclass(frozen=True)
class City:
    """Every resident of the simulated city, as parallel arrays (one entry per resident)."""

    names: list[str]  # district names as written, indexed by `district`
    district: np.ndarray  # index into names
    central: np.ndarray  # bool
    age: np.ndarray  # index into AGE_BANDS
    says_yes: np.ndarray  # bool: the opinion the resident holds

    @property
    def size(self) -> int:
        return len(self.district)

    @property
    def truth(self) -> float:
        """The city's share of "yes": what a consultation should report."""
        return float(self.says_yes.mean())

    def chance_of_answer(self, who: np.ndarray) -> np.ndarray:
        """Each resident's chance of answering an invitation (`who`: resident indices)."""
        chance: np.ndarray = np.array(ANSWER_BY_AGE)[self.age[who]] * np.where(
            self.central[who], CENTRAL_ANSWER_FACTOR, 1
        )
        return chance

    def chance_of_answering_a_reminder(self, who: np.ndarray) -> np.ndarray:
        """Each resident's chance of answering a reminder, having let the invitation pass."""
        return self.chance_of_answer(who) * REMINDER_ANSWER_FACTOR

    def age_counts(self) -> dict[str, int]:
        return {band: int(np.count_nonzero(self.age == index)) for index, band in enumerate(AGE_BANDS)}


def build_city(rng: np.random.Generator, scale: float = 1.0) -> City:
    """The city drawn from `rng` (ages, then opinions): each district's figure × `scale` residents,
    rounded (scale 1: the figures exactly, 490,301 residents)."""
    figures = district_figures()
    names = list(figures)
    counts = [round(population * scale) for population in figures.values()]
    district = np.repeat(np.arange(len(names)), counts)
    central = np.isin(district, [index for index, name in enumerate(names) if fold(name) in CENTRAL])
    age = rng.choice(len(AGE_BANDS), size=len(district), p=AGE_SHARES)
    chance_of_yes = np.array(YES_BY_AGE)[age] + np.where(central, YES_CENTRAL_SHIFT, YES_OUTSKIRTS_SHIFT)
    says_yes = rng.random(len(district)) < chance_of_yes
    return City(names=names, district=district, central=central, age=age, says_yes=says_yes)
