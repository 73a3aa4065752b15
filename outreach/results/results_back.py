"""Results back to residents: once a campaign closes, each respondent who did not say STOP gets its
`results_back` message once, on the address they answered on, outside quiet hours (never at night,
even when the campaign turned its quiet hours off), through the outbox and so within the rate limits,
the daily cap and the campaign's SMS budget like every other message.

Exactly once: every message's idempotency key is the campaign's and the resident's
(`results:CAMPAIGN:RESIDENT`), and the outbox queues a key once, so a job that runs twice, two workers
racing, or a job cut short and run again never send a second copy. A campaign is marked done
(`campaigns.results_back_at`) only after all its pages were queued, so one cut short is finished by the
next tick. The lifecycle tick of every `serve` runs it (bootstrap wires it in), and `campaign close`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from channels.sms_segments import count_segments, fold_to_gsm
from flows.campaign import Campaign
from flows.model import DEFAULT_QUIET_HOURS
from flows.preview import results_back_preview
from flows.results_back import compose
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.pricing import price_for
from outreach.campaigns.quiet_hours import QuietHours, release_time, resident_zone
from outreach.clock import Clock
from outreach.results.results_back_figures import DISTRICT_ATTRIBUTE, ResultsBackFigures, results_back_figures
from storage.address_keys import address_of
from storage.db import STORE_UNAVAILABLE, SessionFactory, read_session
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from storage.results_back import ResultsBackRepository, ResultsRecipient
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)

KIND = "results"  # the outbox rows' kind
PAGE = 500
WHATSAPP_WINDOW = timedelta(hours=24)  # free text only this long after the resident's last message


def results_key(campaign_id: int, resident_id: int) -> str:
    return f"results:{campaign_id}:{resident_id}"


class ResultsBack:
    def __init__(
        self,
        sessions: SessionFactory,
        definitions: CampaignDefinitions,
        *,
        clock: Clock,
        spread: timedelta,
        k: int,
        page_size: int = PAGE,
    ) -> None:
        self._sessions = sessions
        self._definitions = definitions
        self._clock = clock
        self._spread = spread
        self._k = k
        self._page_size = page_size

    async def send_due(self) -> int:
        """Queue the results of every closed campaign that still owes them; how many messages were new."""
        async with read_session(self._sessions) as session:
            due = await ResultsBackRepository(session).due()
        queued = 0
        for record in due:
            assert record.id is not None
            try:
                flow = self._definitions.flow(record)
                if flow.results_back is not None:
                    queued += await self._send(record, flow)
            except STORE_UNAVAILABLE:
                raise
            except Exception:
                # One campaign that cannot be told (say a definition this version no longer reads) must
                # not hold up the others; the next tick tries it again.
                log.exception("campaign %s: results back stopped; the next tick tries again", record.id)
                continue
            async with self._sessions() as session, session.begin():
                await ResultsBackRepository(session).mark_done(record.id, now=self._clock())
        return queued

    async def _send(self, record: CampaignRecord, flow: Campaign) -> int:
        assert record.id is not None
        figures = await results_back_figures(self._sessions, record, flow, k=self._k)
        if figures is None:
            log.info("campaign %s: a question the results name has no answer; no results back", record.id)
            return 0
        queued, after = 0, 0
        while True:
            async with self._sessions() as session, session.begin():
                page = await ResultsBackRepository(session).recipients(record.id, after=after, limit=self._page_size)
                outbox = OutboxRepository(session)
                for recipient in page:
                    message = self._message(record.id, flow, figures, recipient)
                    if message is not None and await outbox.enqueue(message, now=self._clock()):
                        queued += 1
            if len(page) < self._page_size:
                return queued
            after = page[-1].resident_id

    def _message(
        self, campaign_id: int, flow: Campaign, figures: ResultsBackFigures, recipient: ResultsRecipient
    ) -> NewMessage | None:
        assert flow.results_back is not None
        now = self._clock()
        if recipient.channel == "whatsapp" and (
            recipient.last_inbound_at is None or now - recipient.last_inbound_at > WHATSAPP_WINDOW
        ):
            return None  # only an approved template may open a WhatsApp conversation; results have none
        language = recipient.language if recipient.language in flow.languages else flow.default_language
        district = recipient.attributes.get(DISTRICT_ATTRIBUTE)
        values, with_district = figures.values(flow, language, district if isinstance(district, str) else None)
        text = compose(flow.results_back, language, values, district=with_district, weighted=figures.weighted)
        if recipient.channel == "sms" and flow.sms.fold_diacritics:
            text = fold_to_gsm(text)
        key = results_key(campaign_id, recipient.resident_id)
        quiet_hours = flow.schedule.quiet_hours or DEFAULT_QUIET_HOURS  # results are never worth a night
        zone = resident_zone(recipient.timezone)
        return NewMessage(
            idempotency_key=key,
            resident_id=recipient.resident_id,
            contact_id=recipient.contact_id,
            kind=KIND,
            text=text,
            campaign_id=campaign_id,
            not_before=release_time(now, QuietHours.parse(quiet_hours), zone, key=key, spread=self._spread),
            quiet_hours=quiet_hours,
            timezone=recipient.timezone,
        )


@dataclass(frozen=True)
class ResultsBackPreview:
    respondents: Counter[str]  # per channel: who would get the results if the campaign closed now
    sms_segments: int  # at the message's longest (flows.preview.results_back_preview)
    sms_cost: float


async def preview_results_back(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, prices: dict[str, float]
) -> ResultsBackPreview:
    """Who would get the results back if the campaign closed now, per channel, and the SMS part's cost."""
    assert record.id is not None and flow.results_back is not None
    respondents: Counter[str] = Counter()
    segments, cost, after = 0, 0.0, 0
    while True:
        async with read_session(sessions) as session:
            page = await ResultsBackRepository(session).recipients(record.id, after=after, limit=PAGE)
            residents = ResidentRepository(session)
            for recipient in page:
                respondents[recipient.channel] += 1
                if recipient.channel != "sms":
                    continue
                language = recipient.language if recipient.language in flow.languages else flow.default_language
                text = results_back_preview(flow, language)
                count = count_segments(fold_to_gsm(text) if flow.sms.fold_diacritics else text).segments
                address = address_of(session, await residents.contact(recipient.contact_id))
                segments += count
                cost += count * price_for(address, prices)[0]
        if len(page) < PAGE:
            return ResultsBackPreview(respondents, segments, cost)
        after = page[-1].resident_id
