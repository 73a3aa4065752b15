"""The test-only fault points (outreach.faults): a process dies at exactly the Nth event of its kind."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from pydantic import ValidationError

from outreach.faults import FaultPoint
from outreach.settings import Settings

EVENTS = """
from outreach import faults
faults.arm("before_commit:2")
for event in ("send_marked", "before_commit.reply", "after_request", "before_commit.outcome", "send_marked"):
    print(event, flush=True)
    faults.reached(event)
print("survived", flush=True)
"""


def test_a_process_kills_itself_at_the_nth_event_of_the_armed_kind_counting_its_parts() -> None:
    done = subprocess.run([sys.executable, "-c", EVENTS], capture_output=True, text=True, timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["send_marked", "before_commit.reply", "after_request", "before_commit.outcome"]
    assert done.stderr.splitlines()[-1] == "fault point before_commit.outcome #2: SIGKILL"


def test_an_unarmed_or_other_point_never_fires() -> None:
    script = EVENTS.replace('faults.arm("before_commit:2")', 'faults.arm("before_commit.reply:2")')
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.split()[-1]) == (0, "survived")


@pytest.mark.parametrize("spec", ["send_marked", "send_marked:0", "mid_send:3", "after_request:x", ""])
def test_a_malformed_fault_point_is_refused_by_the_settings(spec: str) -> None:
    with pytest.raises(ValueError, match="a fault point is POINT:N"):
        FaultPoint.parse(spec)
    with pytest.raises(ValidationError, match="a fault point is POINT:N"):
        Settings(fault_point=spec, _env_file=None)
