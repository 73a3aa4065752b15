"""The counters and histograms of one `outreach serve` process, in Prometheus form.

Per process: each worker counts its own sends, errors, waits, webhooks and answers, from zero at its
start, and a scraper sums the workers (`sum by (channel) (rate(outreach_sends_total[5m]))`). What all
workers share is read from the database at each scrape instead (outreach.web.store_gauges)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

# A provider's limit holds a send from nothing to a few seconds (a full per-chat or daily window: more).
WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Twilio gives up on a webhook after 15 s; the target is a p99 under 100 ms.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class PrometheusTelemetry:
    """outreach.telemetry.Telemetry, counted in a registry of its own (never the library's global one,
    so two services in one process, as in tests, count apart)."""

    def __init__(self) -> None:
        # Loaded here, when `serve` makes one: importing this module (every command does) costs nothing.
        from prometheus_client import CollectorRegistry, Counter, Histogram
        from prometheus_client.process_collector import ProcessCollector

        self.registry: CollectorRegistry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU and open files of this worker
        self._sends: Counter = Counter(
            "outreach_sends", "Messages a provider accepted.", ["channel"], registry=self.registry
        )
        self._errors: Counter = Counter(
            "outreach_send_errors",
            "Send attempts that did not go through, by the outbox's error class"
            " (retryable: tried again later until the attempts run out).",
            ["channel", "error_class"],
            registry=self.registry,
        )
        self._waits: Histogram = Histogram(
            "outreach_rate_limit_wait_seconds",
            "How long a send waited for its slot under the provider's rate limit.",
            ["channel"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self._inbound: Counter = Counter(
            "outreach_inbound_messages",
            "Inbound messages handled, by outcome (duplicate, answered, stopped, unknown_sender, ...).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self._answers: Counter = Counter(
            "outreach_answers_stored",
            "Answers stored (each reply that answered a question).",
            ["channel"],
            registry=self.registry,
        )
        self._store_defects: Counter = Counter(
            "outreach_store_defects",
            "Store errors a background loop met that are no outage (defect: the SQL does not fit the"
            " schema; bad_data, conflict: a stored value breaks a rule), by loop and kind.",
            ["loop", "kind"],
            registry=self.registry,
        )
        self._retention: Counter = Counter(
            "outreach_retention_removed",
            "Items retention removed, by kind (inbound: message texts and mail bodies blanked;"
            " unknown_senders: strangers' messages; outbox: sent texts blanked; early_reports; inactive:"
            " residents erased; raw_text: free-text answers replaced by their scrubbed form).",
            ["kind"],
            registry=self.registry,
        )
        self.webhook_seconds: Histogram = Histogram(
            "outreach_webhook_duration_seconds",
            "Time from a provider's webhook request to our answer (after the commit), by webhook.",
            ["webhook"],
            buckets=WEBHOOK_BUCKETS,
            registry=self.registry,
        )
        self.webhook_responses: Counter = Counter(
            "outreach_webhook_responses",
            "Webhook answers by webhook and HTTP status code.",
            ["webhook", "code"],
            registry=self.registry,
        )

    def sent(self, channel: str) -> None:
        self._sends.labels(channel).inc()

    def send_failed(self, channel: str, error_class: str) -> None:
        self._errors.labels(channel, error_class).inc()

    def waited_for_slot(self, channel: str, seconds: float) -> None:
        self._waits.labels(channel).observe(seconds)

    def inbound_handled(self, channel: str, outcome: str) -> None:
        self._inbound.labels(channel, outcome).inc()
        if outcome == "answered":
            self._answers.labels(channel).inc()

    def store_defect(self, loop: str, kind: str) -> None:
        self._store_defects.labels(loop, kind).inc()

    def retention_removed(self, kind: str, count: int) -> None:
        self._retention.labels(kind).inc(count)
