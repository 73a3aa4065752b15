"""One consultation of the simulated city end to end (issue 16), as an official would run it.

The city of tests/simulated_city.py, scaled down (every district's figure × `scale` residents), is
handed over as a residents file (district, age band and area: the centre or the outskirts); its
margins (the published district figures, the two areas they form, and the city's own count per age
band) as a margins file. Then, through the `outreach` command line: `db upgrade`,
`margins import`, `residents import`, `campaign preview` of a campaign sampled by district and age
band, `campaign create` and `campaign launch`. The service itself (the real engine: outbox,
dispatcher, webhooks, pipeline) runs with sandbox channels: each drawn resident gets the question by
SMS and, with the chance the model gives their age band and district, answers it through the
sandbox's signed webhook. Last, `outreach results --weights … --by area,age_band --format json`
gives the raw and the weighted share, set against the city's true share. (Weighting on the 35
districts needs answers in each: with a few hundred answers the smallest, Letnica with 2,024 of the
city's 490,301, gets one or none, an empty cell; the two areas the districts form are the coarser
geography such a sample carries.)

With `reminders` (issue 17) the campaign also reminds, a day after the question, those who have not
answered: `uniform` or `lagging_strata`, with the same limit (`reminder_limit`); the day passes on the
service's clock, the real lifecycle sends the reminders the strategy chooses, and a reminded resident
answers with half their chance of answering the question (drawn once per seed, so both strategies meet
the same residents).

`tests/scenarios/test_hearing_the_city.py` runs one seed in CI; `bench/simulate.py` (`make simulate`)
runs all 20 and prints the tables.
"""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner, Result

from channels import webhook_paths
from channels.base import Outbound
from channels.sandbox import SECRET_HEADER
from flows.folding import fold
from flows.model import ReminderStrategy
from flows.texts import reminder_prefix
from outreach.cli.main import app
from tests.simulated_city import AGE_BANDS, CENTRAL, City, build_city, district_figures
from tests.world import World, open_world

SCALE = 0.01  # 490,301 × 0.01: a city of 4,904 residents on the list (rounded per district)
SAMPLE = 2_500  # residents drawn and asked
REMINDER_SHARE = 0.15  # with reminders: the limit is this share of the sample (375 of 2,500)
MARGINS = "simulated-gdansk"
SLUG = "park-lights"
SANDBOX_SECRET = "simulated-city-sandbox"
BY = "area,age_band"
AREAS = ("centre", "outskirts")
# The sandbox stands in for providers that answer at once; the default limits (10 SMS segments a
# second) would turn a consultation of thousands into minutes of waiting for nothing.
# admin_approval_threshold: `make simulate` launches to SAMPLE residents of a simulated register, with
# no approver to ask (more than the threshold waits for one).
SETTINGS = {
    "rate_sms_segments_per_second": 100_000.0,
    "max_messages_per_address_per_day": 100,
    "admin_approval_threshold": 10**9,
}
CAMPAIGN = """
name: Park lights
languages: [pl]
channels: [sms]
schedule: {{quiet_hours: null{reminder_schedule}}}{reminders}
audience:
  sample:
    size: {size}
    strata: [district, age_band]
    allocation: proportional
    margins: {margins}
    seed: {seed}
questions:
  - id: lights
    type: yesno
    text: {{pl: "Czy park Oruński powinien być oświetlony nocą?"}}
outro: {{pl: "Dziękujemy!"}}
"""


@dataclass(frozen=True)
class Consultation:
    """What one run found, beside what the city truly thinks."""

    seed: int
    residents: int
    truth: float  # the city's share of "yes"
    contacted: int
    answered: int
    raw: float  # the share of "yes" among those who answered
    weighted: float
    margin_of_error: float  # 95%, around the weighted share
    effective_n: float
    design_effect: float
    preview: str  # `campaign preview`, as printed
    launch: str  # `campaign launch`, as printed
    table: str  # `outreach results --weights`, as printed
    figures: dict[str, Any]  # `outreach results --weights --format json`
    asked: frozenset[int]  # the residents (indices into the city) who got the question
    expected_answers: int  # how many of them the model has answering
    replies_taken: int  # replies the webhook took as answers
    strategy: ReminderStrategy | None = None  # None: no reminders
    reminded: frozenset[int] = frozenset()  # the residents who got a reminder
    status: str = ""  # with reminders: `campaign status` once they are sent and answered, as printed

    @property
    def weighted_is_closer(self) -> bool:
        return abs(self.weighted - self.truth) < abs(self.raw - self.truth)

    @property
    def interval_holds_truth(self) -> bool:
        return abs(self.weighted - self.truth) <= self.margin_of_error


def phone(resident: int) -> str:
    return f"+4860{resident:07d}"


def resident_of(address: str) -> int:
    return int(address.removeprefix("+4860"))


def write_residents(city: City, path: Path) -> None:
    """The residents file of PRODUCT.md, as the city hands it over (everyone gave consent to SMS)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "language", "district", "age_band", "area", "consent_source", "consent_at"])
        for resident in range(city.size):
            district, band = city.names[city.district[resident]], AGE_BANDS[city.age[resident]]
            area = AREAS[0] if city.central[resident] else AREAS[1]
            consent = ["city register", "2026-01-15T09:00:00+01:00"]
            writer.writerow([phone(resident), "pl", district, band, area, *consent])


def write_margins(city: City, path: Path) -> None:
    """The published district figures (490,301 residents) and the two areas they add up to, and the
    city's residents per age band: sources with different totals, each scaled to shares by the import."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dimension", "value", "population"])
        figures = district_figures()
        writer.writerows(("district", name, population) for name, population in figures.items())
        centre = sum(population for name, population in figures.items() if fold(name) in CENTRAL)
        writer.writerows((("area", AREAS[0], centre), ("area", AREAS[1], sum(figures.values()) - centre)))
        writer.writerows(("age_band", band, count) for band, count in city.age_counts().items())


class CommandLine:
    """`outreach …` as typed, against one database; a command that fails stops the run."""

    def __init__(self, database_url: str) -> None:
        self._runner = CliRunner()
        # COLUMNS: a terminal wide enough for the allocation and results tables.
        self._env = {"OUTREACH_DATABASE_URL": database_url, "COLUMNS": "110"} | {
            f"OUTREACH_{name.upper()}": str(value) for name, value in SETTINGS.items()
        }

    async def __call__(self, *args: str) -> Result:
        result = await asyncio.to_thread(self._runner.invoke, app, list(args), env=self._env)
        if result.exit_code != 0:
            raise AssertionError(f"outreach {' '.join(args)} exited {result.exit_code}:\n{result.output}")
        return result


class Residents:
    """The drawn residents at their phones: each answers the question, or a reminder of it, or not, as
    the model says."""

    def __init__(self, city: City, answers_if_asked: np.ndarray, answers_if_reminded: np.ndarray) -> None:
        self._city = city
        self._answers_if_asked = answers_if_asked
        self._answers_if_reminded = answers_if_reminded
        self.asked: set[int] = set()
        self.reminded: set[int] = set()
        self.replies: list[tuple[str, str]] = []  # (address, text) waiting to be sent

    def hear(self, outbound: Outbound, text: str) -> None:
        resident = resident_of(outbound.address)
        if resident not in self.asked:
            self.asked.add(resident)
            if self._answers_if_asked[resident]:
                self._answer(outbound.address, resident)
        elif text.startswith(reminder_prefix("pl")):
            self.reminded.add(resident)
            if self._answers_if_reminded[resident]:
                self._answer(outbound.address, resident)
        # Anything else is the thanks after an answer.

    def _answer(self, address: str, resident: int) -> None:
        self.replies.append((address, "tak" if self._city.says_yes[resident] else "nie"))

    async def reply(self, world: World) -> int:
        """Each waiting reply through the sandbox's signed webhook; how many were taken as answers."""
        replies, self.replies = self.replies, []
        answered = 0
        for address, text in replies:
            response = await world.client.post(
                webhook_paths.SANDBOX.format(channel="sms"),
                data={"id": f"SIM{uuid.uuid4().hex}", "from": address, "text": text},
                headers={SECRET_HEADER: SANDBOX_SECRET},
            )
            assert response.status == 200, await response.text()
            answered += (await response.json())["outcomes"] == ["answered"]
        return answered


class ServiceClock:
    """The service's clock: the wall clock, moved on when the consultation lets a day pass."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def campaign_text(*, sample: int, seed: int, reminders: ReminderStrategy | None, reminder_limit: int) -> str:
    schedule, block = "", ""
    if reminders is not None:
        schedule = ", reminders: [24h]"
        block = f"\nreminders: {{strategy: {reminders}, limit: {reminder_limit}}}"
    return CAMPAIGN.format(size=sample, margins=MARGINS, seed=seed, reminder_schedule=schedule, reminders=block)


async def consult_the_city(
    database_url: str,
    folder: Path,
    *,
    seed: int,
    scale: float = SCALE,
    sample: int = SAMPLE,
    reminders: ReminderStrategy | None = None,
    reminder_limit: int | None = None,
) -> Consultation:
    """One consultation of the city drawn from `seed`, on an empty database at `database_url`; with
    `reminders`, a day later the strategy's reminders (at most `reminder_limit`, by default
    REMINDER_SHARE of the sample) and the answers they bring."""
    rng = np.random.default_rng(seed)
    city = build_city(rng, scale)
    answers_if_asked = rng.random(city.size) < city.chance_of_answer(np.arange(city.size))
    # Drawn after the answers to the question, so a run without reminders draws as it always did.
    answers_if_reminded = rng.random(city.size) < city.chance_of_answering_a_reminder(np.arange(city.size))
    limit = reminder_limit if reminder_limit is not None else round(sample * REMINDER_SHARE)
    residents_file, margins_file, campaign_file = (folder / name for name in ("city.csv", "margins.csv", "park.yaml"))
    write_residents(city, residents_file)
    write_margins(city, margins_file)
    text = campaign_text(sample=sample, seed=seed, reminders=reminders, reminder_limit=limit)
    campaign_file.write_text(text, encoding="utf-8")

    outreach = CommandLine(database_url)
    await outreach("db", "upgrade")
    await outreach("margins", "import", str(margins_file), "--name", MARGINS)
    await outreach("residents", "import", str(residents_file))
    preview = await outreach("campaign", "preview", str(campaign_file))
    await outreach("campaign", "create", str(campaign_file))
    launch = await outreach("campaign", "launch", SLUG)

    people = Residents(city, answers_if_asked, answers_if_reminded)
    settings: dict[str, Any] = SETTINGS | {"sandbox_secret": SANDBOX_SECRET}
    clock = ServiceClock()
    async with open_world(database_url, clock, **settings) as world:
        world.services.sandboxes["sms"].subscribe(people.hear)
        await world.services.dispatcher.drain()  # the questions
        answered = await people.reply(world)
        await world.services.dispatcher.drain()  # the thanks
        if reminders is not None:
            clock.ahead = timedelta(hours=24, minutes=1)  # the day passes: the reminders are due
            await world.services.lifecycle.tick()
            await world.services.dispatcher.drain()  # the reminders
            answered += await people.reply(world)
            await world.services.dispatcher.drain()  # the thanks
    asked = frozenset(people.asked)
    status = (await outreach("campaign", "status", SLUG)).stdout if reminders is not None else ""

    weighting = ("--weights", MARGINS, "--by", BY)
    figures = json.loads((await outreach("results", SLUG, *weighting, "--format", "json")).stdout)
    table = await outreach("results", SLUG, *weighting)
    return consultation(
        seed,
        city,
        figures,
        preview=preview.stdout,
        launch=launch.stdout,
        table=table.stdout,
        asked=asked,
        # Only the silent are reminded: those the model has answering the question or the reminder.
        expected_answers=int(np.count_nonzero(answers_if_asked[sorted(asked)]))
        + int(np.count_nonzero(answers_if_reminded[sorted(people.reminded)])),
        replies_taken=answered,
        strategy=reminders,
        reminded=frozenset(people.reminded),
        status=status,
    )


def consultation(
    seed: int,
    city: City,
    figures: dict[str, Any],
    *,
    preview: str,
    launch: str,
    table: str,
    asked: frozenset[int],
    expected_answers: int,
    replies_taken: int,
    strategy: ReminderStrategy | None = None,
    reminded: frozenset[int] = frozenset(),
    status: str = "",
) -> Consultation:
    [question] = figures["questions"]
    yes = next(value for value in question["values"] if value["value"] == "yes")
    return Consultation(
        seed=seed,
        residents=city.size,
        truth=city.truth,
        contacted=figures["contacted"],
        answered=question["n"],
        raw=yes["share"],
        weighted=yes["weighted_share"],
        margin_of_error=yes["margin_of_error"],
        effective_n=question["effective_n"],
        design_effect=question["design_effect"],
        preview=preview,
        launch=launch,
        table=table,
        figures=figures,
        asked=asked,
        expected_answers=expected_answers,
        replies_taken=replies_taken,
        strategy=strategy,
        reminded=reminded,
        status=status,
    )


def table_of(runs: Sequence[Consultation]) -> str:
    """The runs as a Markdown table, and the counts the issue asks for."""
    rows = [
        "| seed | truth | raw | weighted | ± 95% | asked | answered | effective n | design effect | closer | holds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |",
    ]
    for run in runs:
        rows.append(
            f"| {run.seed} | {run.truth:.1%} | {run.raw:.1%} | {run.weighted:.1%} | {run.margin_of_error * 100:.1f} pt"
            f" | {run.contacted} | {run.answered} | {run.effective_n:.0f} | {run.design_effect:.2f}"
            f" | {'yes' if run.weighted_is_closer else 'no'} | {'yes' if run.interval_holds_truth else 'no'} |"
        )
    closer = sum(run.weighted_is_closer for run in runs)
    held = sum(run.interval_holds_truth for run in runs)
    rows.append("")
    rows.append(
        f"Weighted closer to the truth than raw in {closer} of {len(runs)} runs;"
        f" the 95% interval holds the truth in {held} of {len(runs)}."
    )
    return "\n".join(rows)


def reminders_table(pairs: Sequence[tuple[Consultation, Consultation]]) -> str:
    """Per seed, the same consultation reminded `uniform` and `lagging_strata` with the same limit, as
    a Markdown table, and how often lagging_strata gave the lower design effect."""
    rows = [
        "| seed | strategy | asked | reminded | answered | weighted | ± 95% | effective n | design effect |",
        "| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pair in pairs:
        for run in pair:
            rows.append(
                f"| {run.seed} | {run.strategy} | {run.contacted} | {len(run.reminded)} | {run.answered}"
                f" | {run.weighted:.1%} | {run.margin_of_error * 100:.1f} pt | {run.effective_n:.0f}"
                f" | {run.design_effect:.3f} |"
            )
    lower = sum(lagging.design_effect < uniform.design_effect for uniform, lagging in pairs)
    uniform_mean = float(np.mean([uniform.design_effect for uniform, _ in pairs]))
    lagging_mean = float(np.mean([lagging.design_effect for _, lagging in pairs]))
    rows.append("")
    rows.append(
        f"lagging_strata gave the lower design effect in {lower} of {len(pairs)} seeds; mean design effect"
        f" {uniform_mean:.3f} uniform, {lagging_mean:.3f} lagging_strata"
        f" ({(1 - lagging_mean / uniform_mean):.1%} lower)."
    )
    return "\n".join(rows)
