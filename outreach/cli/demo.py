"""`outreach demo`: a whole consultation against bundled provider stand-ins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from outreach.cli.runner import console


def demo(
    residents: Annotated[int, typer.Option(help="Simulated residents.", min=10, max=1000)] = 300,
    database: Annotated[Path, typer.Option(help="SQLite file, made afresh.")] = Path("outreach-demo.db"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
) -> None:
    """A whole consultation by SMS and Telegram (real adapters, bundled provider stand-ins), with simulated
    residents, in under a minute."""
    from outreach.demo.run import run_demo

    asyncio.run(run_demo(console, residents=residents, database=database, seed=seed))
