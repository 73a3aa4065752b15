"""`outreach keys new|status|rotate`: the keys of residents' addresses at rest (docs/PRIVACY.md,
"Encryption at rest"). Keys live in configuration, never in the database; these commands print key
ids and counts, never a key (`new` prints the fresh key it made, for the operator to store)."""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, run_with_services
from storage.keyring import KEY_BYTES

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from storage.keyring import Keyring

keys_app = typer.Typer(no_args_is_help=True, help="Keys of addresses at rest: new, status, rotate (docs/PRIVACY.md).")


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh random key (base64 of 32 bytes) for OUTREACH_ENCRYPTION_KEYS or OUTREACH_BLIND_INDEX_KEY."""
    console.print(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(), markup=False, highlight=False)


@keys_app.command("status")
def keys_status() -> None:
    """The key ids of the ring (current first), and how many addresses each one seals."""
    from storage.db import read_session
    from storage.key_rotation import messages_by_key, rows_by_key

    async def work(services: Services) -> list[str]:
        async with read_session(services.sessions) as session:
            return _status_lines(services.keyring, await rows_by_key(session), await messages_by_key(session))

    _say(run_with_services(work))


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option("--batch", min=1, max=50_000, help="Addresses per transaction.")] = 1000,
) -> None:
    """Re-encrypt every address under the current key (the first of OUTREACH_ENCRYPTION_KEYS: put the
    new key there first, keeping the old ones after it), in batches while the service runs."""
    from outreach.audit import Actor
    from outreach.rights.key_rotation import rotate

    async def work(services: Services) -> list[str]:
        ring = services.keyring
        console.print(f"re-encrypting under {ring.current_id}, {batch} addresses a transaction", markup=False)
        done = await rotate(
            services.sessions,
            ring,
            clock=services.clock,
            actor=Actor.cli(),
            batch=batch,
            progress=lambda count: console.print(f"  {count} re-encrypted", markup=False, highlight=False),
        )
        return [f"{done.resealed} addresses and messages re-encrypted", *_status_lines(ring, done.left, done.messages)]

    _say(run_with_services(work))


def _status_lines(ring: Keyring, rows: dict[str, int], messages: dict[str, int]) -> list[str]:
    lines = [f"encryption keys: {', '.join(ring.key_ids)} (current: {ring.current_id})"]
    lines += [f"  {key}: {rows[key]} addresses, {messages[key]} messages" for key in ring.key_ids]
    if rows["other"] or messages["other"]:
        lines.append(
            f"  under a key the ring does not hold: {rows['other']} addresses, {messages['other']} messages"
            " (unreadable: put the key back)"
        )
    older = sum(count for key, count in [*rows.items(), *messages.items()] if key != ring.current_id)
    lines.append(
        "every address is under the current key: older keys may leave the ring"
        if not older
        else "`outreach keys rotate` moves the others to the current key"
    )
    if ring.development:
        lines.append("development keys: public, they protect nothing (set OUTREACH_ENCRYPTION_KEYS)")
    return lines


def _say(lines: list[str]) -> None:
    for line in lines:
        console.print(line, markup=False, highlight=False)
