"""What the service tells its metrics as it works: sends, send errors, waits for a provider's limit,
inbound messages handled, store errors that are no outage. The core calls this protocol only;
`outreach serve` plugs in the Prometheus one (outreach.web.prometheus_telemetry), every other command
the silent one, so nothing but `serve` imports a metrics library."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def sent(self, channel: str) -> None:
        """A provider accepted a message."""

    def send_failed(self, channel: str, error_class: str) -> None:
        """A send attempt did not go through: retryable, permanent, stop_contact or unknown (the outbox's
        error classes; a retryable one may still go on a later attempt)."""

    def waited_for_slot(self, channel: str, seconds: float) -> None:
        """A send waited this long for its slot under the provider's rate limit."""

    def inbound_handled(self, channel: str, outcome: str) -> None:
        """The inbound pipeline handled a message (outcome "answered": an answer was stored)."""

    def store_defect(self, loop: str, kind: str) -> None:
        """A background loop met a store error that is no outage: defect, bad_data or conflict."""

    def retention_removed(self, kind: str, count: int) -> None:
        """Retention removed `count` items of a kind (inbound, unknown_senders, outbox, early_reports,
        inactive, raw_text: outreach.rights.retention)."""


class NoTelemetry:
    """Counts nothing: one-shot commands, whose counters no one could scrape."""

    def sent(self, channel: str) -> None:
        pass

    def send_failed(self, channel: str, error_class: str) -> None:
        pass

    def waited_for_slot(self, channel: str, seconds: float) -> None:
        pass

    def inbound_handled(self, channel: str, outcome: str) -> None:
        pass

    def store_defect(self, loop: str, kind: str) -> None:
        pass

    def retention_removed(self, kind: str, count: int) -> None:
        pass


NO_TELEMETRY: Telemetry = NoTelemetry()
