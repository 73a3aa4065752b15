"""`make audit`: pip-audit of the hashed lock, saying plainly what it could not look up.

pip-audit asks PyPI's vulnerability data about each pinned release. From a machine that reaches the
package index but not that data, every package comes back "could not be audited" and pip-audit still
exits 0; an audit that looked nothing up must not read as a clean one, so this exits 2 and says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

UNAUDITED = "could not be audited"


def main(lock: Path) -> int:
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--progress-spinner", "off", "-r", str(lock)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    output = completed.stdout + completed.stderr
    print(output, end="")
    pinned = sum(1 for line in lock.read_text().splitlines() if "==" in line and not line.startswith((" ", "#")))
    unaudited = sum(1 for line in output.splitlines() if UNAUDITED in line)
    if completed.returncode != 0:
        print(f"make audit: pip-audit found vulnerabilities or failed (exit {completed.returncode})")
        return completed.returncode
    if unaudited:
        print(
            f"make audit: the vulnerability lookup could not be made for {unaudited} of {pinned} pinned packages"
            " (this machine reaches the package index but not the vulnerability data): nothing is known about them."
        )
        return 2
    print(f"make audit: {pinned} pinned packages, no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")))
