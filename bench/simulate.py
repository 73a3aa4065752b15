"""The simulated city, all 20 seeds end to end (issue 16): `make simulate`.

    PYTHONPATH=. .venv/bin/python bench/simulate.py                 # seeds 0-19, one to two minutes each
    PYTHONPATH=. .venv/bin/python bench/simulate.py --seeds 3 7     # some of them

Each seed is one whole consultation of tests/city_consultation.py on a fresh SQLite file: the
residents file, margins, a sampled campaign's preview and launch through the `outreach` command line,
the real engine with sandbox channels, the simulated residents' replies through the signed webhook,
and `outreach results --weights`. Prints a Markdown table, per seed: the city's true share of "yes",
the raw and the weighted share, the 95% margin of error, residents asked and answering, effective n
and design effect, whether the weighted share is the closer one and whether its interval holds the
truth; then the counts the issue asks for (closer in at least 18 of 20, held in at least 17). With
--show, the first seed's preview, launch and weighted results as printed (README's example).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.city_consultation import Consultation, consult_the_city, table_of

SEEDS = range(20)


async def run(seeds: list[int], show: bool) -> list[Consultation]:
    runs = []
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="outreach-city-") as folder:
            os.chdir(folder)  # the command line reads no stray .env
            started = time.monotonic()
            consultation = await consult_the_city(f"sqlite+aiosqlite:///{folder}/city.db", Path(folder), seed=seed)
        runs.append(consultation)
        print(
            f"seed {seed}: truth {consultation.truth:.1%}, raw {consultation.raw:.1%}, weighted"
            f" {consultation.weighted:.1%} ± {consultation.margin_of_error * 100:.1f} pt"
            f" ({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        if show and len(runs) == 1:
            print(consultation.preview, consultation.launch, consultation.table, sep="\n")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--show", action="store_true", help="print the first seed's preview, launch and results")
    arguments = parser.parse_args()
    runs = asyncio.run(run(arguments.seeds, arguments.show))
    print(table_of(runs))


if __name__ == "__main__":
    main()
