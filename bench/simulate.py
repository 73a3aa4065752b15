"""The simulated city, all 20 seeds end to end (issues 16 and 17): `make simulate`.

    PYTHONPATH=. .venv/bin/python bench/simulate.py                       # seeds 0-19, both tables
    PYTHONPATH=. .venv/bin/python bench/simulate.py --seeds 3 7           # some of them
    PYTHONPATH=. .venv/bin/python bench/simulate.py --runs reminders      # only issue 17's table

Each seed is one whole consultation of tests/city_consultation.py on a fresh SQLite file: the
residents file, margins, a sampled campaign's preview and launch through the `outreach` command line,
the real engine with sandbox channels, the simulated residents' replies through the signed webhook,
and `outreach results --weights`; one to two minutes each.

`weighting` (issue 16): the consultation without reminders. Prints a Markdown table, per seed: the
city's true share of "yes", the raw and the weighted share, the 95% margin of error, residents asked
and answering, effective n and design effect, whether the weighted share is the closer one and whether
its interval holds the truth; then the counts the issue asks for (closer in at least 18 of 20, held in
at least 17). With --show, the first seed's preview, launch and weighted results as printed.

`reminders` (issue 17): the same seed twice more, a day after the question reminding those who have
not answered with the same limit (15% of the sample), once `uniform` and once `lagging_strata`, through
the real lifecycle. Prints per seed and strategy the reminders sent, the answers, the weighted share,
effective n and design effect, and in how many seeds lagging_strata gave the lower design effect (the
issue asks for at least 16 of 20). With --show, the first seed's `campaign status` after each
strategy's reminders (how many were sent, and how many strata lag and get them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from flows.model import ReminderStrategy
from tests.city_consultation import Consultation, consult_the_city, reminders_table, table_of

SEEDS = range(20)
RUNS = ("weighting", "reminders")


async def consult(seed: int, reminders: ReminderStrategy | None) -> Consultation:
    with tempfile.TemporaryDirectory(prefix="outreach-city-") as folder:
        os.chdir(folder)  # the command line reads no stray .env
        started = time.monotonic()
        consultation = await consult_the_city(
            f"sqlite+aiosqlite:///{folder}/city.db", Path(folder), seed=seed, reminders=reminders
        )
    print(
        f"seed {seed}{f' ({reminders})' if reminders else ''}: truth {consultation.truth:.1%}, raw"
        f" {consultation.raw:.1%}, weighted {consultation.weighted:.1%} ± {consultation.margin_of_error * 100:.1f} pt,"
        f" {len(consultation.reminded)} reminded, design effect {consultation.design_effect:.3f}"
        f" ({time.monotonic() - started:.0f} s)",
        file=sys.stderr,
        flush=True,
    )
    return consultation


async def run(seeds: list[int], runs: list[str], show: bool) -> None:
    weighted: list[Consultation] = []
    pairs: list[tuple[Consultation, Consultation]] = []
    for seed in seeds:
        if "weighting" in runs:
            weighted.append(await consult(seed, None))
            if show and len(weighted) == 1:
                print(weighted[0].preview, weighted[0].launch, weighted[0].table, sep="\n")
        if "reminders" in runs:
            pairs.append((await consult(seed, "uniform"), await consult(seed, "lagging_strata")))
            if show and len(pairs) == 1:
                for reminded in pairs[0]:
                    print(f"$ outreach campaign status park-lights  # {reminded.strategy}", reminded.status, sep="\n")
    if weighted:
        print(table_of(weighted))
    if pairs:
        print()
        print(reminders_table(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which tables (default: both)")
    parser.add_argument("--show", action="store_true", help="print the first seed's outputs as printed")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.seeds, arguments.runs, arguments.show))


if __name__ == "__main__":
    main()
