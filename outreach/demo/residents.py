"""The simulated residents: who they are (language, district, age band, sex, addresses), which
persona each plays, and the residents file a city would hand over for them.

Personal data rule: addresses come from fictional ranges and never leave this machine.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from flows.age_bands import parse_age_bands
from outreach.inbound.enrolment import District

T = TypeVar("T")

# The example asks two districts (8% of the city): most simulated residents live there, so that a few
# hundred are asked; the rest spread over the city by population and show the audience filter at work.
AUDIENCE_SHARE = 0.85

# Rough shares for a believable crowd; only sex comes from published figures (shared/data/README.md).
LANGUAGE_SHARES = {"pl": 0.86, "uk": 0.09, "en": 0.05}
# Residents per age group (first age, last age): a rough big-city pyramid, spread evenly over each
# group's years; the age bands are the setting's (OUTREACH_AGE_BANDS), so they are drawn from these.
AGE_GROUP_SHARES = {
    (15, 19): 4.3, (20, 24): 4.6, (25, 29): 5.8, (30, 34): 7.6, (35, 39): 8.6, (40, 44): 8.1, (45, 49): 6.7,
    (50, 54): 5.7, (55, 59): 5.3, (60, 64): 6.0, (65, 69): 7.2, (70, 74): 6.3, (75, 79): 3.9, (80, 84): 2.7,
    (85, 99): 2.6,
}  # fmt: skip
SEX_SHARES = {"female": 52.7, "male": 47.3}
# Email is off in the demo (it has no mail settings), so nobody has an email address alone: those who
# gave one are asked by SMS or on Telegram, the example campaign's first two channels.
ADDRESS_SHARES: dict[tuple[str, ...], float] = {
    ("phone",): 0.66,
    ("phone", "email"): 0.12,
    ("telegram",): 0.15,
    ("telegram", "email"): 0.07,
}

CSV_FIELDS = (
    "phone",
    "email",
    "telegram_chat_id",
    "language",
    "district",
    "age_band",
    "sex",
    "consent_source",
    "consent_at",
)
CONSENT_SOURCE = "outreach demo (simulated resident)"
CONSENT_AT = "2026-01-15T09:00:00+01:00"


class Persona(StrEnum):
    ANSWERS = "answers"
    MISTYPES = "mistypes"
    DROPS_OUT = "drops out"
    SILENT = "silent"
    LATE = "late"
    STOPS = "stops"


PERSONA_LABELS = {
    Persona.ANSWERS: "answer every question",
    Persona.MISTYPES: "mistype at times",
    Persona.DROPS_OUT: "drop out after one answer",
    Persona.SILENT: "never answer",
    Persona.LATE: "answer only after the reminder",
    Persona.STOPS: "replies STOP",
}


# Shares among the people asked; exactly one more replies STOP to the first question.
PERSONA_SHARES = {Persona.SILENT: 0.35, Persona.LATE: 0.10, Persona.MISTYPES: 0.10, Persona.DROPS_OUT: 0.08}


@dataclass
class SimResident:
    language: str
    district: str
    age_band: str
    sex: str
    rng: random.Random = field(repr=False)  # one per resident: behaviour does not depend on timing
    persona: Persona = Persona.SILENT
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    telegram: str = field(default="", repr=False)

    @property
    def addresses(self) -> list[tuple[str, str]]:
        """(address kind, address) pairs, as the provider stand-ins deliver to them."""
        pairs = (("sms", self.phone), ("email", self.email), ("telegram", self.telegram))
        return [(kind, address) for kind, address in pairs if address]


def _draw(rng: random.Random, shares: Mapping[T, float]) -> T:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _home(rng: random.Random, districts: Sequence[District]) -> str:
    return rng.choices([d.name for d in districts], weights=[d.population for d in districts])[0]


def _age_band_shares(labels: Sequence[str]) -> dict[str, float]:
    """Each band's share of the residents, from AGE_GROUP_SHARES."""
    bands = parse_age_bands(labels)
    shares = dict.fromkeys((band.label for band in bands), 0.0)
    for (first, last), share in AGE_GROUP_SHARES.items():
        for age in range(first, last + 1):
            band = next((band for band in bands if band.holds(age)), None)
            if band is not None:
                shares[band.label] += share / (last - first + 1)
    return shares


def simulate_residents(
    count: int,
    *,
    seed: int,
    districts: Sequence[District],
    audience: Sequence[District],
    age_bands: Sequence[str],
) -> list[SimResident]:
    """`count` residents, most of them in `audience`, in the age bands `age_bands` (the setting's)."""
    rng = random.Random(seed)
    age_band_shares = _age_band_shares(age_bands)
    asked = round(count * AUDIENCE_SHARE)
    homes = [_home(rng, audience) for _ in range(asked)] + [_home(rng, districts) for _ in range(count - asked)]
    rng.shuffle(homes)
    # Fictional numbers, +48 600 0xx xxx, unique; they never leave this machine.
    phones = rng.sample(range(100_000), count)
    chats = rng.sample(range(10**9, 2 * 10**9), count)
    residents = []
    for index, home in enumerate(homes):
        kinds = _draw(rng, ADDRESS_SHARES)
        residents.append(
            SimResident(
                language=_draw(rng, LANGUAGE_SHARES),
                district=home,
                age_band=_draw(rng, age_band_shares),
                sex=_draw(rng, SEX_SHARES),
                rng=random.Random(f"{seed}:{index}"),
                phone=f"+486000{phones[index]:05d}" if "phone" in kinds else "",
                email=f"resident{index:05d}@example.org" if "email" in kinds else "",
                telegram=str(chats[index]) if "telegram" in kinds else "",
            )
        )
    names = {d.name for d in audience}
    _cast(rng, [r for r in residents if r.district in names], with_stop=True)
    _cast(rng, [r for r in residents if r.district not in names], with_stop=False)
    return residents


def _cast(rng: random.Random, group: list[SimResident], *, with_stop: bool) -> None:
    """Personas by quota rather than by independent draws, so even a small demo shows each kind
    (one STOP, at least one mistype) and the shares hold."""
    order = group[:]
    rng.shuffle(order)
    roles: list[Persona] = [Persona.STOPS] if with_stop else []
    for persona, share in PERSONA_SHARES.items():
        roles += [persona] * max(1, round(len(group) * share))
    roles += [Persona.ANSWERS] * (len(order) - len(roles))
    for resident, persona in zip(order, roles, strict=False):  # a tiny group takes the first roles
        resident.persona = persona


def living_in(people: Sequence[SimResident], districts: Sequence[District]) -> list[SimResident]:
    """The residents whose home is one of these districts (the campaign's audience: those asked)."""
    names = {d.name for d in districts}
    return [p for p in people if p.district in names]


def write_residents_csv(residents: Sequence[SimResident], path: Path) -> None:
    """The residents file of PRODUCT.md, as a city would hand it over."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for resident in residents:
            writer.writerow(
                {
                    "phone": resident.phone,
                    "email": resident.email,
                    "telegram_chat_id": resident.telegram,
                    "language": resident.language,
                    "district": resident.district,
                    "age_band": resident.age_band,
                    "sex": resident.sex,
                    "consent_source": CONSENT_SOURCE,
                    "consent_at": CONSENT_AT,
                }
            )
