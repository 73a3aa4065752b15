"""Reconcile sends of unknown outcome (issue 18): ask the provider where it can answer, else apply the
campaign's on_unknown policy (outreach.outbound.unknown_sends), and record what became of each.

Run by the dispatcher (`Dispatcher.reconcile_unknown`, every `DispatchPolicy.reconcile_seconds` while it
runs). Several workers may reconcile at once: each write applies only to the send as it was read."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, Outbound, SentLookup, SentRecords, Template
from flows.unknown_outcomes import OnUnknown
from outreach.campaigns.conversations import stored_choices
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.clock import Clock
from outreach.outbound.delivery_status import apply_early_report
from outreach.outbound.unknown_sends import Decision, decide, message_kind
from storage.campaigns import CampaignRepository
from storage.db import SessionFactory, read_session
from storage.outbox import ClaimedMessage
from storage.unknown_sends import UnknownSend, UnknownSendRepository

log = logging.getLogger(__name__)

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class Reconciliation:
    def __init__(
        self,
        sessions: SessionFactory,
        transaction: Transaction,
        channels: Mapping[str, Channel],
        *,
        clock: Clock,
        definitions: CampaignDefinitions | None,
        patience: timedelta,
        batch_size: int = 100,
    ) -> None:
        self._sessions = sessions
        self._transaction = transaction
        self._channels = channels
        self._clock = clock
        self._definitions = definitions
        self._patience = patience
        self._batch_size = batch_size

    async def run_once(self) -> Counter[Decision]:
        """Reconcile up to one batch of unknown sends of the channels enabled here; what was decided."""
        async with read_session(self._sessions) as session:
            sends = await UnknownSendRepository(session).unknown_to_reconcile(limit=self._batch_size)
            policies = {send.message.id: await self._policy(session, send.message) for send in sends}
        decided: Counter[Decision] = Counter()
        for send in sends:
            channel = self._channels.get(send.message.channel)
            if channel is None:
                continue  # another worker, with that channel, reconciles it
            lookup = await self._lookup(channel, send)
            kind = message_kind(send.message.kind, send.message.idempotency_key)
            waited = self._clock() - send.started_at
            decision = decide(lookup, kind, policies[send.message.id], waited=waited, patience=self._patience)
            if decision != "wait" and await self._apply(send, decision, lookup):
                decided[decision] += 1
                self._log(send, decision, kind)
        return decided

    async def _policy(self, session: AsyncSession, message: ClaimedMessage) -> OnUnknown:
        if self._definitions is None or message.campaign_id is None:
            return OnUnknown()
        record = await CampaignRepository(session).get(message.campaign_id)
        return self._definitions.flow(record).on_unknown

    async def _lookup(self, channel: Channel, send: UnknownSend) -> SentLookup | None:
        if not isinstance(channel, SentRecords):
            return None
        return await channel.find_sent(outbound_of(send.message), started_at=send.started_at, now=self._clock())

    async def _apply(self, send: UnknownSend, decision: Decision, lookup: SentLookup | None) -> bool:
        async with self._transaction() as session:
            outbox = UnknownSendRepository(session)
            if decision == "confirm":
                assert lookup is not None and lookup.provider_id is not None
                confirmed = await outbox.confirm_unknown(send, provider_id=lookup.provider_id)
                if confirmed:  # its delivery reports may have come before we knew its id
                    await apply_early_report(session, send.message.channel, lookup.provider_id, clock=self._clock)
                return confirmed
            if decision in ("requeue", "resend"):
                outcome = "not_seen" if decision == "requeue" else "resent"
                return await outbox.requeue_unknown(send, now=self._clock(), outcome=outcome)
            return await outbox.give_up_unknown(send)

    @staticmethod
    def _log(send: UnknownSend, decision: Decision, kind: str) -> None:
        # Ids and kinds only: never the address or the text.
        message = send.message
        if decision == "resend":
            log.warning(
                "outbox %s: outcome unknown; resent under on_unknown (%s: resend, campaign %s)",
                message.id,
                kind,
                message.campaign_id,
            )
        elif decision == "give_up":
            log.warning(
                "outbox %s: outcome unknown; given up under on_unknown (%s: give_up, campaign %s)",
                message.id,
                kind,
                message.campaign_id,
            )
        elif decision == "requeue":
            log.info("outbox %s: outcome unknown; the provider never had it, queued again", message.id)
        else:
            log.info("outbox %s: outcome unknown; the provider has it, recorded as sent", message.id)


def outbound_of(message: ClaimedMessage) -> Outbound:
    """The message as a channel sends it (the dispatcher's send and this lookup build the same)."""
    return Outbound(
        key=message.idempotency_key,
        channel=message.channel,
        address=message.address,
        text=message.text,
        choices=stored_choices(message.choices),
        choice_style=message.choice_style,
        submit_label=message.submit_label,
        template=Template(message.template["content_sid"], message.template["variables"]) if message.template else None,
    )
