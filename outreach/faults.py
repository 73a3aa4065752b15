"""Test-only fault points (issue 18's crash rounds): a worker kills itself with SIGKILL at the Nth event
of one kind, so a test can make a process die at exactly the moment it means to prove safe.

    OUTREACH_FAULT_POINT=send_marked:3        # the 3rd send recorded as started, before its request
    OUTREACH_FAULT_POINT=after_request:5      # the 5th provider request answered, before its outcome is recorded
    OUTREACH_FAULT_POINT=before_commit:7      # the 7th transaction about to commit an inbound reply or a send's outcome
    OUTREACH_FAULT_POINT=before_commit.reply:2     # only inbound replies' transactions count
    OUTREACH_FAULT_POINT=before_commit.outcome:2   # only sends' outcomes
    OUTREACH_FAULT_POINT=queued:4             # the 4th commit to the inbound queue, before its messages' 2xx
                                              # (messages arriving together commit as one)

Settings refuse it in production (`Settings.configuration_problems`); the bootstrap arms it. Unset, a
point costs one global read and a comparison with None.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

POINTS = ("send_marked", "after_request", "before_commit", "before_commit.reply", "before_commit.outcome", "queued")


@dataclass
class FaultPoint:
    point: str
    nth: int
    seen: int = 0

    @classmethod
    def parse(cls, spec: str) -> FaultPoint:
        """`point:N`; ValueError naming what is wrong."""
        point, _, count = spec.partition(":")
        if point not in POINTS or not count.isdigit() or int(count) < 1:
            raise ValueError(f"a fault point is POINT:N, N ≥ 1, POINT one of {', '.join(POINTS)}")
        return cls(point, int(count))

    def matches(self, event: str) -> bool:
        return event == self.point or event.startswith(self.point + ".")


_armed: FaultPoint | None = None


def arm(spec: str | None) -> None:
    """Arm the fault point `spec` in this process (None disarms)."""
    global _armed
    _armed = None if spec is None else FaultPoint.parse(spec)
    if _armed is not None:
        log.warning("test-only fault point armed: this process dies at %s #%d", _armed.point, _armed.nth)


def reached(event: str) -> None:
    """An event of kind `event` happens now: at the armed point's Nth, the process dies on the spot."""
    armed = _armed
    if armed is None or not armed.matches(event):
        return
    armed.seen += 1
    if armed.seen == armed.nth:
        # stderr unbuffered, not logging (a handler may buffer): the test reads which event it was
        sys.stderr.write(f"fault point {event} #{armed.nth}: SIGKILL\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
