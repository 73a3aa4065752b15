"""What encryption at rest costs per address (docs/PRIVACY.md, "Encryption at rest"): seal (AES-256-GCM,
a fresh nonce), open, and the blind index (HMAC-SHA256), each over 200,000 phone numbers with one
AddressKeys made once, as the store uses it; best of three. Run: python bench/address_crypto.py"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from storage.address_keys import AddressKeys
from storage.keyring import Keyring

COUNT = 200_000


def per_call(work: Callable[[], object]) -> float:
    """Microseconds per address, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best / COUNT * 1e6


def main() -> None:
    keys = AddressKeys(Keyring((("k1", secrets.token_bytes(32)),), secrets.token_bytes(32)))
    phones = [f"+4860{n:07d}" for n in range(COUNT)]
    sealed = [keys.seal("sms", phone) for phone in phones]
    figures = {
        "seal": per_call(lambda: [keys.seal("sms", phone) for phone in phones]),
        "open": per_call(lambda: [keys.open("sms", value) for value in sealed]),
        "blind index": per_call(lambda: [keys.index("sms", phone) for phone in phones]),
    }
    for name, micros in figures.items():
        print(f"{name}: {micros:.2f} µs per address ({micros * 500_000 / 1e6:.2f} s for 500,000)")
    print(f"sealed length of an E.164 number: {len(sealed[0])} characters")


if __name__ == "__main__":
    main()
