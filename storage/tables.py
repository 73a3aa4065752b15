"""The tables. Personal data (addresses) lives only in `contact_addresses`; everything else
refers to residents by id or by their pseudonym."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.blind_index import INDEX_LENGTH
from storage.commit_order import writing_transaction
from storage.inbound_queue_table import QueuedInbound as QueuedInbound
from storage.launch_request_tables import LaunchRequest as LaunchRequest

# Registered with the metadata wherever the tables are (alembic, the schema tests); re-exported.
from storage.official_tables import Official as Official
from storage.official_tables import OfficialSession as OfficialSession
from storage.sealing import sealed_length
from storage.types import UtcDateTime
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber

RESULTS_INDEX = "ix_responses_results"  # SQLite only: see Response
SQLITE_ONLY_INDEXES = frozenset({RESULTS_INDEX})
# Outgoing webhooks' tables live in their own module; named here so that importing this one registers them.
WEBHOOK_TABLES = (WebhookSubscriber, WebhookEvent, WebhookDelivery)

# A provider's id for a message: Twilio's SID (34 characters), Telegram's message number, or a mail's
# Message-ID. Ours is TOKEN@reply domain: 32 + 1 + the domain, which DNS allows up to 253 characters
# (286 in all, so 255 would not do); a resident's mail program writes its own, up to what a header line
# holds: a Message-ID cannot be folded and RFC 5322 caps a line at 998 characters. So 998 keeps every
# standard id exactly as it came (the mailbox keeps a longer, non-standard one as its digest), and ASCII
# ids that long still fit a PostgreSQL index entry (2704 bytes). VARCHAR costs the value's length only.
PROVIDER_ID_LENGTH = 998
# A provider's delivery status word (channels.delivery_status ranks them): Twilio's longest is
# "partially_delivered" (19); room for a longer one without a migration.
DELIVERY_STATUS_LENGTH = 32
# Why an inbound event failed, in words (storage.failures.reason names a column or constraint too).
INBOUND_REASON_LENGTH = 200
# Population margins: a set's name, and a dimension, value or label (a joint cell joins several).
MARGINS_NAME_LENGTH = 80
MARGINS_TEXT_LENGTH = 400
# A consent ledger row's detail: an import's label (a file name) or a /start source, cut to fit.
CONSENT_DETAIL_LENGTH = 200
# The longest address a resident can have (an email: RFC 5321's 320 characters), and its sealed form
# (each character up to 4 bytes of UTF-8, a key id, nonce and tag, base64).
ADDRESS_LENGTH = 320
SEALED_ADDRESS_LENGTH = sealed_length(4 * ADDRESS_LENGTH)


class Resident(SQLModel, table=True):
    __tablename__ = "residents"

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=32, unique=True)
    language: str = Field(max_length=8)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    # Set on the anonymous stand-in an erasure leaves for one campaign's answers (storage.erasure):
    # no address, never asked again, left out of the register and of participation (revision 0025).
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ContactAddress(SQLModel, table=True):
    """A resident's address, encrypted at rest (revision 0029): `address_sealed` is AES-256-GCM under a
    key of the ring, bound to the channel; `address_index` the keyed blind index every lookup uses
    (storage.address_keys). Open the address only where it is needed: sending, an access request."""

    __tablename__ = "contact_addresses"
    __table_args__ = (UniqueConstraint("channel", "address_index", name="uq_contact_channel_address_index"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    channel: str = Field(max_length=16)  # the address kind: sms, telegram, email
    address_index: str = Field(max_length=INDEX_LENGTH)
    address_sealed: str = Field(max_length=SEALED_ADDRESS_LENGTH)
    consent_source: str | None = Field(default=None, max_length=120)
    consent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    opted_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the resident said stop
    unreachable_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the address is dead
    last_inbound_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # e.g. WhatsApp's 24 h window
    created_at: datetime = Field(sa_type=UtcDateTime)


class CampaignRecord(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The YAML the definition was last saved from, comments and all (the CLI's file, the editor's YAML
    # tab or form): the editor writes a form onto it (flows.campaign_text). None: none kept (0032).
    source: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(max_length=16)  # draft, scheduled, active, paused, closed
    # From the definition's schedule, as columns so the scheduler can ask what is due.
    starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    launched_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    paused_because: str | None = Field(default=None, max_length=200)  # set when the service paused it
    spent: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})  # on SMS, in the price currency
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Opening the audience's conversations (outreach.campaigns.launches), a page per transaction:
    # "opening" until the whole audience has a conversation or a recorded skip, then "opened"; the
    # cursor is the last resident id gone past, committed with its page, so any worker goes on from it.
    launch_state: str | None = Field(default=None, max_length=16)
    launch_cursor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Residents the launch's latest pass held back by fatigue (outreach.campaigns.fatigue), counted
    # with each page; a sampled campaign's are in its design (campaign_samples.allocation).
    launch_held_back: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When its results went back to its respondents (outreach.results.results_back): set once the job
    # has queued every message of a closed campaign, so no tick looks at it again (revision 0015).
    results_back_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "resident_id", name="uq_conversation_campaign_resident"),
        Index("ix_conversations_contact_status", "contact_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    resident_id: int = Field(foreign_key="residents.id", index=True)
    contact_id: int = Field(foreign_key="contact_addresses.id")
    respondent: str = Field(max_length=32)  # HMAC pseudonym for this campaign (outreach.campaigns.pseudonyms)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # waiting (another campaign holds the address), active, completed, expired, stopped, closed
    status: str = Field(max_length=16)
    started_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    asked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the current question's ask
    last_reply_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reminders_sent: int = 0
    next_reminder_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)


class LaunchSkip(SQLModel, table=True):
    """A resident a launch could not open a conversation with (the database refused their data): the
    reason is the database's error code in words, never the data itself."""

    __tablename__ = "launch_skips"
    __table_args__ = (UniqueConstraint("campaign_id", "resident_id", name="uq_launch_skip_campaign_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    reason: str = Field(max_length=200)
    skipped_at: datetime = Field(sa_type=UtcDateTime)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_due_by_channel", "status", "channel", "next_attempt_at"),  # a dispatcher lane's claim
        Index("ix_outbox_contact_sent", "contact_id", "sent_at"),  # the daily cap per address
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=160, unique=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    contact_id: int = Field(foreign_key="contact_addresses.id")
    channel: str = Field(max_length=16)  # the address's channel, copied so a lane's claim needs no join
    kind: str = Field(max_length=16)  # question, say, system, results (outreach.results.results_back)
    text: str
    choices: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    choice_style: str = Field(default="numbered", max_length=16)  # see channels.base.Outbound
    submit_label: str | None = Field(default=None, max_length=64)  # a multi question's "done" button
    # An approved template instead of free text (WhatsApp's first message): content_sid, variables.
    template: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    status: str = Field(max_length=16)  # queued, held, sending, sent, failed, unknown, cancelled
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    provider_id: str | None = Field(default=None, max_length=PROVIDER_ID_LENGTH, index=True)
    segments: int | None = None  # as the provider billed it
    # The provider's later word (status callbacks): never moves backwards; failure codes kept.
    delivery_status: str | None = Field(default=None, max_length=DELIVERY_STATUS_LENGTH)
    delivery_error: str | None = Field(default=None, max_length=16)
    error_class: str | None = Field(default=None, max_length=16)  # retryable, permanent, stop_contact, unknown
    error_detail: str | None = Field(default=None, max_length=500)
    # A send whose outcome was unknown, reconciled (revision 0016): confirmed, not_seen, resent, given_up.
    unknown_outcome: str | None = Field(default=None, max_length=16)
    # What this send holds of its campaign's SMS budget (revision 0017): reserved when the send starts,
    # set to the billed cost when sent, given back (None) when the send surely never left.
    cost: float | None = None
    # Set on messages the service starts (not replies): re-checked when a retry falls due.
    quiet_hours: str | None = Field(default=None, max_length=11)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class InboundEvent(SQLModel, table=True):
    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "provider_id", name="uq_inbound_channel_provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=PROVIDER_ID_LENGTH)
    contact_id: int | None = Field(default=None, foreign_key="contact_addresses.id")
    text: str  # kept for audit; never logged, never exported
    full_text: str | None = None  # the whole message where `text` is the part we read (email)
    outcome: str = Field(max_length=24)
    received_at: datetime = Field(sa_type=UtcDateTime)
    # Why the event could not be handled (outcome "failed"): the store's refusal in words and its
    # SQLSTATE (storage.failures.reason), never the refused value (revision 0008).
    reason: str | None = Field(default=None, max_length=INBOUND_REASON_LENGTH)


class Response(SQLModel, table=True):
    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("campaign_id", "resident_id", "question_id", name="uq_response_once"),
        Index("ix_responses_campaign_commit_order", "campaign_id", "txid", "id"),
        # What results group answers by, in order: SQLite aggregates by sorting, and this index hands it
        # the answers already sorted (revision 0014). PostgreSQL hashes instead and cannot index json.
        Index(
            RESULTS_INDEX, "campaign_id", "question_id", "value", "language", "attributes", "inclusion_probability"
        ).ddl_if(dialect="sqlite"),
        {"sqlite_autoincrement": True},  # an id is never reused: it is the commit order on SQLite
    )

    id: int | None = Field(default=None, primary_key=True)
    # The writing transaction (PostgreSQL; 0 on SQLite): with id, the commit order that incremental
    # sync follows (storage.commit_order). Set by the database on insert, never by the caller.
    txid: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, nullable=False, default=writing_transaction(), server_default="0"),
    )
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    question_id: str = Field(max_length=64)
    resident_id: int = Field(foreign_key="residents.id")
    respondent: str = Field(max_length=32)  # the conversation's pseudonym: the only id that leaves the service
    value: Any = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )  # None: asked, never answered
    channel: str = Field(max_length=16)
    inbound_event_id: int | None = Field(default=None, foreign_key="inbound_events.id")
    answered_at: datetime = Field(sa_type=UtcDateTime)
    # The respondent as they were when answering (revision 0006): exports, the answer feed and results
    # read these, never the resident's row, so a later import cannot rewrite an answer already given.
    language: str = Field(max_length=8)
    attributes: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The probability the campaign's sample drew the respondent with (revision 0014; None: not sampled,
    # asked with certainty), copied onto the answer so weighted results need no join per answer.
    inclusion_probability: float | None = Field(default=None)
    # When retention replaced a free-text answer's raw words by their scrubbed form (revision 0031;
    # None: raw still, or not free text): each daily run reads only the answers not yet past it.
    text_scrubbed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ServiceKey(SQLModel, table=True):
    """Random keys made once per installation (e.g. the pseudonym key when no setting gives one)."""

    __tablename__ = "service_keys"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)
    created_at: datetime = Field(sa_type=UtcDateTime)


class ApiToken(SQLModel, table=True):
    """A token other systems use on the REST API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the token
    prefix: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})  # shown in lists
    label: str = Field(max_length=120)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")  # bound to one campaign
    created_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # None: until revoked (revision 0018)


class Lease(SQLModel, table=True):
    """A job only one worker may run at a time (Telegram long polling, the IMAP poller)."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class EarlyDeliveryReport(SQLModel, table=True):
    """A provider's status report that came before we had recorded the send (its callback raced our
    commit): kept until the send is recorded, then applied. Per channel (provider ids are unique only
    within a provider), bounded and expiring (outreach.outbound.delivery_status; revision 0009)."""

    __tablename__ = "early_delivery_reports"
    __table_args__ = (Index("ix_early_delivery_reports_age", "channel", "received_at"),)

    channel: str = Field(primary_key=True, max_length=16)
    provider_id: str = Field(primary_key=True, max_length=PROVIDER_ID_LENGTH)
    status: str = Field(max_length=DELIVERY_STATUS_LENGTH)
    error_code: str | None = Field(default=None, max_length=16)
    received_at: datetime = Field(sa_type=UtcDateTime)


class MarginSet(SQLModel, table=True):
    """One version of a named set of population margins (outreach.survey.margins): importing a file
    under a name that exists adds a version; the latest is the one used (revision 0011)."""

    __tablename__ = "margin_sets"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_margin_set_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MARGINS_NAME_LENGTH)
    version: int
    source: str = Field(max_length=MARGINS_TEXT_LENGTH)  # the file it came from, as the importer named it
    created_at: datetime = Field(sa_type=UtcDateTime)


class MarginCell(SQLModel, table=True):
    """A population count of a margin set: one value of a dimension, or a joint cell of several (the
    dimension and value then name their parts joined by outreach.survey.margins.JOINT)."""

    __tablename__ = "margin_cells"
    __table_args__ = (UniqueConstraint("margin_set_id", "dimension", "value", name="uq_margin_cell"),)

    id: int | None = Field(default=None, primary_key=True)
    margin_set_id: int = Field(foreign_key="margin_sets.id", index=True)
    dimension: str = Field(max_length=MARGINS_TEXT_LENGTH)  # folded
    value: str = Field(max_length=MARGINS_TEXT_LENGTH)  # folded
    label: str = Field(max_length=MARGINS_TEXT_LENGTH)  # the value as the file wrote it
    population: float


class CampaignSample(SQLModel, table=True):
    """A sampled campaign's design, written once when its launch draws the sample
    (outreach.campaigns.sampling): the seed, the strata and each stratum's allocation, so results and
    reminders know how residents were chosen (revision 0012)."""

    __tablename__ = "campaign_samples"

    campaign_id: int = Field(primary_key=True, foreign_key="campaigns.id")
    seed: int = Field(sa_type=BigInteger)
    size: int  # asked for
    strata: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    margins: str | None = Field(default=None, max_length=MARGINS_NAME_LENGTH)
    # Per stratum: label, values, wanted, eligible, held_back (fatigue), drawn.
    allocation: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    drawn_at: datetime = Field(sa_type=UtcDateTime)


class SampledResident(SQLModel, table=True):
    """A resident a sampled campaign drew: its launch opens conversations with these only."""

    __tablename__ = "sampled_residents"
    __table_args__ = (UniqueConstraint("campaign_id", "resident_id", name="uq_sampled_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign_samples.campaign_id")
    resident_id: int = Field(foreign_key="residents.id", index=True)
    stratum: str = Field(max_length=MARGINS_TEXT_LENGTH)  # its folded values joined by ×; "" without strata
    inclusion_probability: float


class AuditEntry(SQLModel, table=True):
    """One action of an official, an operator at the CLI or an API token (outreach.audit): who, when,
    what and on what, never the data itself (no address, answer or token). Append-only: the migration
    makes the database refuse an UPDATE or DELETE of a row (revision 0019)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action", "action", "id"),
        {"sqlite_autoincrement": True},  # an id is never reused: the log's cursor follows it
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    actor_kind: str = Field(max_length=16)  # token, cli, official, service, visitor
    actor_id: str = Field(max_length=64)  # the token's id, the OS user's name
    actor_label: str = Field(max_length=120)  # the token's label; the OS user's name again
    action: str = Field(max_length=48)  # e.g. campaign.create, token.revoke (outreach.audit names them)
    target_kind: str | None = Field(default=None, max_length=32)  # campaign, token, residents, ...
    target_id: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ImportJob(SQLModel, table=True):
    """A residents file uploaded to the API and imported in the background (revision 0022): its
    options, its progress (written after each batch, with `heartbeat_at`) and its rejected rows by line
    and reason (never a value). A job left queued or running by a process that stopped is marked failed."""

    __tablename__ = "import_jobs"

    id: int | None = Field(default=None, primary_key=True)
    token_id: int | None = Field(default=None, foreign_key="api_tokens.id", index=True)  # who may read it
    status: str = Field(max_length=16)  # queued, running, done, failed
    region: str = Field(max_length=8)
    on_match: str = Field(max_length=16)
    label: str = Field(max_length=120)  # the recruitment source of the residents it adds
    size_bytes: int = Field(sa_type=BigInteger)
    worker: str = Field(max_length=200)  # the process running it
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # [line, reason] of the first rejected rows (IMPORT_ERRORS_KEPT); `rejected` counts them all.
    errors: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    failure: str | None = Field(default=None, max_length=400)  # why a failed job failed, in words
    created_at: datetime = Field(sa_type=UtcDateTime)
    heartbeat_at: datetime = Field(sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class IdempotentRequest(SQLModel, table=True):
    """A POST to the API that carried an Idempotency-Key (outreach.web.api.idempotency): claimed
    before it runs, then its answer kept until `expires_at`, so that a retry with the same key replays
    that answer instead of acting twice. Keys are the token's own (revision 0023)."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_request_token_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_tokens.id")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)  # sha256 of the method, path, query and body
    status: int | None = None  # None: still running
    body: str | None = None  # the JSON answer, as sent
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)


class ConsentRecord(SQLModel, table=True):
    """One opt-in or opt-out of an address, appended in the transaction that changes its consent
    (storage.consent_ledger). Never updated, except detached from an address that is erased (a
    trigger refuses any other UPDATE, revision 0024); it holds no address itself."""

    __tablename__ = "consent_ledger"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(default=None, foreign_key="contact_addresses.id", index=True)
    change: str = Field(max_length=8)  # opt_in, opt_out
    source: str = Field(max_length=24)  # import, api, self_enrolment, keyword, command, unsubscribe_link, provider
    detail: str | None = Field(default=None, max_length=CONSENT_DETAIL_LENGTH)  # the import's label, /start source…
    channel: str | None = Field(default=None, max_length=16)  # where the resident said it; None: an import
    # What the resident was shown when they said yes (self-enrolment's words), or the consent an
    # import states (its consent_source), as it was then.
    notice: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    stated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # an import's consent_at
    inbound_event_id: int | None = None  # the message that said it (no key: retention deletes events)
    at: datetime = Field(sa_type=UtcDateTime)


class SuppressedAddress(SQLModel, table=True):
    """An erased resident's address that had opted out, kept only as a keyed hash (HMAC with the
    pseudonym key: pseudonymous data, storage.suppression) so that a later import never asks it
    again (revision 0025)."""

    __tablename__ = "suppressed_addresses"

    digest: str = Field(primary_key=True, max_length=64)  # hex HMAC-SHA256 of "channel:address"
    suppressed_at: datetime = Field(sa_type=UtcDateTime)


class ErasureNotice(SQLModel, table=True):
    """A tombstone for API consumers that copy answers: the respondent id an erasure took away from
    a campaign's answers (they now carry a fresh one), so a copy can follow (revision 0025)."""

    __tablename__ = "erasure_notices"
    __table_args__ = (
        Index("ix_erasure_notices_commit_order", "campaign_id", "txid", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # The commit order the erasures feed follows, as the answer feed's (storage.commit_order).
    txid: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, nullable=False, default=writing_transaction(), server_default="0"),
    )
    campaign_id: int = Field(foreign_key="campaigns.id")
    respondent: str = Field(max_length=32)  # the respondent id the campaign's answers had
    erased_at: datetime = Field(sa_type=UtcDateTime)
