"""The contract every channel adapter fulfils; nothing here knows the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry; the dispatcher and previews read these, never provider details."""

    max_length: int
    buttons: bool = False
    signed_webhooks: bool = False


@dataclass(frozen=True)
class Request:
    """A webhook request without any web framework, so channel tests need no server."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


TapAction = Literal["answer", "toggle", "submit"]


@dataclass(frozen=True)
class ButtonTap:
    """A tap on an answer button: which campaign's which question, and what it does.

    "answer": `key` is the answer (an option key, or its 1-based number). On a multi question,
    "toggle" picks or unpicks the option numbered `key`, and "submit" (the "done" button, `key`
    empty) answers with the options picked so far.
    """

    campaign_id: int
    question_id: str
    key: str
    callback_id: str  # the provider's id of the tap, to acknowledge it
    message_id: str | None = None  # the message the button was on, to edit it after the tap
    action: TapAction = "answer"


@dataclass(frozen=True)
class Inbound:
    """One message (or button tap, or command) a resident sent, as the provider reported it."""

    channel: str
    provider_id: str  # the provider's own id: the deduplication key
    address: str
    text: str
    received_at: datetime
    tap: ButtonTap | None = None
    command: str | None = None  # "start", "stop", "help", "language" (Telegram's /start …)
    argument: str | None = None  # e.g. the enrolment source of "/start SOURCE"
    language_hint: str | None = None  # the language the resident's app reports, if any
    opted_out_by_provider: bool = False  # the provider already confirmed a STOP (Twilio Advanced Opt-Out)
    full_text: str | None = None  # the whole message when `text` is only part of it (an email's quotes)


@dataclass(frozen=True)
class DeliveryStatus:
    """A provider's later word on a message it accepted (delivered, failed, …)."""

    channel: str
    provider_id: str  # the id `send` returned in Sent
    status: str  # queued, sent, delivered, read, undelivered, failed
    error_code: str | None
    reported_at: datetime


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    picked: bool = False  # a multi question's option the resident already ticked (shown ticked)


@dataclass(frozen=True)
class Outbound:
    """One message to send; `key` is the outbox idempotency key, passed on where a provider accepts one."""

    key: str
    channel: str
    address: str
    text: str
    choices: Sequence[Choice] = ()
    # "numbered": options answered by their number (or a tap); "values": the labels are the answers
    # (a scale); "multi": several may be chosen, typed as numbers ("1,3") or, where the channel has
    # buttons, toggled one by one and sent with a "done" button labelled `submit_label`
    choice_style: str = "numbered"
    submit_label: str | None = None
    # An approved template to send instead of free text (WhatsApp's first message): its id and its
    # variables ("1" → text). Channels without templates ignore it.
    template: Template | None = None


@dataclass(frozen=True)
class Template:
    content_sid: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    provider_id: str
    segments: int | None = None  # what the provider billed, where it says (SMS segments)


class SendError(Exception):
    """A send that failed, classified once, by the channel that knows the provider.

    retryable: the message surely did not leave and may be tried again later.
    stop_contact: the address must never be written to again (blocked, opted out at the provider).
    address_invalid: the address cannot be reached at all (not a number, not a mobile, never started
    the bot): it is marked unreachable and not tried again.
    retry_after: seconds the provider asked us to wait, when it said so.
    The message must never carry the address or the text: it is logged and stored.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        stop_contact: bool = False,
        address_invalid: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.stop_contact = stop_contact
        self.address_invalid = address_invalid
        self.retry_after = retry_after


class OutcomeUnknown(Exception):
    """The provider's answer leaves open whether the message exists (a gateway in front of it gave up
    waiting): like a dropped connection, recorded as unknown and never resent automatically."""


@dataclass(frozen=True)
class SentLookup:
    """What a provider's own records say of a send whose outcome we lost (`SentRecords.find_sent`).

    `provider_id`: the provider has the message (its id). Otherwise `settled` says whether the absence
    is final (the provider would list the message by now) or could still be its own lag."""

    provider_id: str | None = None
    settled: bool = False

    @property
    def unsure(self) -> bool:
        return self.provider_id is None and not self.settled


@runtime_checkable
class SentRecords(Protocol):
    """A channel whose provider can list what it sent (Twilio's Messages list); Telegram and SMTP cannot."""

    async def find_sent(self, outbound: Outbound, *, started_at: datetime, now: datetime) -> SentLookup:
        """Look for the message `outbound` whose send started at `started_at` (our clock, `now`)."""
        ...


@runtime_checkable
class Channel(Protocol):
    name: str
    capabilities: ClassVar[Capabilities]

    def verify(self, request: Request) -> bool: ...

    def parse_inbound(self, request: Request) -> list[Inbound]: ...

    async def send(self, outbound: Outbound) -> Sent: ...


def render_plain(outbound: Outbound) -> str:
    """Buttons degrade to numbered lines on channels that have none."""
    if not outbound.choices:
        return outbound.text
    if outbound.choice_style == "values":
        return outbound.text + "\n" + " | ".join(choice.label for choice in outbound.choices)
    lines = [f"{number}) {choice.label}" for number, choice in enumerate(outbound.choices, start=1)]
    return outbound.text + "\n" + "\n".join(lines)


class InvalidRequest(Exception):
    """A webhook whose signature held but whose content is not what the provider sends (answered 400)."""
