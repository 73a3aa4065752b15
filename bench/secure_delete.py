"""What SQLite's secure_delete costs (docs/PRIVACY.md): blank 100,000 message texts in batches of
1,000, then delete the rows, with the pragma off and on, twice each (WAL, synchronous=NORMAL: the pragma's
own cost, without the sync of each commit that storage/db.py adds). Run: python bench/secure_delete.py"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

ROWS = 100_000
BATCH = 1_000


def run(secure: bool) -> tuple[float, float]:
    """Seconds to blank every text, then to delete every row, batch by batch."""
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(Path(folder) / "bench.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"secure_delete={'ON' if secure else 'OFF'}"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        db.execute("BEGIN")
        db.executemany("INSERT INTO message (text) VALUES (?)", (("x" * 300,) for _ in range(ROWS)))
        db.execute("COMMIT")
        timings = []
        for statement in ("UPDATE message SET text = ''", "DELETE FROM message"):
            start = time.perf_counter()
            for low in range(0, ROWS, BATCH):
                db.execute("BEGIN IMMEDIATE")
                db.execute(f"{statement} WHERE id > ? AND id <= ?", (low, low + BATCH))
                db.execute("COMMIT")
            timings.append(time.perf_counter() - start)
        db.close()
    return timings[0], timings[1]


def main() -> None:
    for secure in (False, True, False, True):
        blank, gone = run(secure)
        state = "on " if secure else "off"
        print(f"secure_delete={state}: blank {ROWS:,} texts {blank:.2f} s, delete {ROWS:,} rows {gone:.2f} s")


if __name__ == "__main__":
    main()
