"""`outreach keys new|status|rotate`: the keys of residents' addresses at rest (docs/PRIVACY.md,
"Encryption at rest"). Keys live in configuration, never in the database; these commands print key
ids and counts, never a key (`new` prints the fresh key it made, for the operator to store)."""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING

import typer

from outreach.cli.runner import console, run_with_services
from storage.keyring import KEY_BYTES

if TYPE_CHECKING:
    from outreach.bootstrap import Services

keys_app = typer.Typer(no_args_is_help=True, help="Keys of addresses at rest: new, status, rotate (docs/PRIVACY.md).")


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh random key (base64 of 32 bytes) for OUTREACH_ENCRYPTION_KEYS or OUTREACH_BLIND_INDEX_KEY."""
    console.print(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(), markup=False, highlight=False)


@keys_app.command("status")
def keys_status() -> None:
    """The key ids of the ring (current first), and whether they are the public development keys."""

    async def work(services: Services) -> list[str]:
        ring = services.keyring
        lines = [f"encryption keys: {', '.join(ring.key_ids)} (current: {ring.current_id})"]
        if ring.development:
            lines.append("development keys: public, they protect nothing (set OUTREACH_ENCRYPTION_KEYS)")
        return lines

    for line in run_with_services(work):
        console.print(line, markup=False, highlight=False)
