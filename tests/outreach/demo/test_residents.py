"""The simulated residents: reproducible from their seed, with unique fictional addresses, and cast
in the documented personas (one STOP among those asked)."""

from __future__ import annotations

from collections import Counter

import pytest

from flows.age_bands import DEFAULT_AGE_BANDS
from flows.campaign import Campaign
from flows.languages import LANGUAGES
from outreach.demo.example import audience_districts
from outreach.demo.residents import Persona, simulate_residents
from outreach.inbound.enrolment import load_districts


def test_residents_are_reproducible_and_cast_as_documented(flow: Campaign) -> None:
    districts = load_districts()
    audience = audience_districts(flow, districts)
    people = simulate_residents(300, seed=5, districts=districts, audience=audience, age_bands=DEFAULT_AGE_BANDS)
    again = simulate_residents(300, seed=5, districts=districts, audience=audience, age_bands=DEFAULT_AGE_BANDS)
    assert [(p.phone, p.email, p.persona, p.district, p.age_band) for p in people] == [
        (p.phone, p.email, p.persona, p.district, p.age_band) for p in again
    ]
    addresses = [address for person in people for address in person.addresses]
    assert len(addresses) == len(set(addresses))
    assert all(person.addresses for person in people)
    # Email is off in the demo: everyone can be asked by SMS or on Telegram.
    assert all(person.phone or person.telegram for person in people)
    assert any(person.email for person in people) and any(person.telegram for person in people)
    names = {d.name for d in audience}
    asked = [p for p in people if p.district in names]
    assert len(asked) >= 250
    personas = Counter(p.persona for p in asked)
    assert personas[Persona.STOPS] == 1
    assert Counter(p.persona for p in people)[Persona.STOPS] == 1
    assert 0.30 <= personas[Persona.SILENT] / len(asked) <= 0.40
    assert 0.05 <= personas[Persona.LATE] / len(asked) <= 0.15
    assert personas[Persona.MISTYPES] > 0 and personas[Persona.ANSWERS] > 0
    assert {p.language for p in people} == set(LANGUAGES)
    assert all(p.phone.startswith("+486000") for p in people if p.phone)


@pytest.mark.parametrize("bands", [DEFAULT_AGE_BANDS, ("16-17", *DEFAULT_AGE_BANDS), ("18-39", "40+")])
def test_residents_fall_in_the_age_bands_of_the_setting(bands: tuple[str, ...]) -> None:
    districts = load_districts()
    people = simulate_residents(300, seed=5, districts=districts, audience=districts, age_bands=bands)
    counts = Counter(person.age_band for person in people)
    assert set(counts) == set(bands)
    assert counts[bands[-1]] > counts[bands[0]]  # a city has more adults past any first band than in it
