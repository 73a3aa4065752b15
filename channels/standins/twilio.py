"""A Twilio Messages API stand-in: an aiohttp server on loopback that speaks Twilio's wire format.

The real `twilio` SDK talks to it unchanged (point `client.api.base_url` at `await standin.start()`).
It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does: HTTP basic auth
(account SID and auth token), form fields To, From or MessagingServiceSid, Body, StatusCallback, a 201
with the message resource as JSON, and errors as Twilio's JSON `{code, message, more_info, status}`.

Tests script it: `script(to=…)` makes every request to one address fail with a given status and Twilio
error code, `fail_next` fails the next requests, `hang_next` never answers (a timeout), `drop_next`
reads the request and closes the connection (an unknown outcome). Every request is recorded in
`requests`, the messages it accepted in `messages`; `subscribe` hears each accepted message as it
arrives (the demo's simulated residents read their SMS that way).

`steady(SteadyFaults(...))` adds faults at a steady rate: a share of message requests meets 429 with
Retry-After, 500, 503, a slow answer, a hang or a dropped connection. A hang and a drop there happen
after the message was created (it is in `messages`: only the answer is lost). `steady_log` says what
each such request met and whether its message exists. (`SteadyFaults` serves the Telegram stand-in too.)

`GET …/Messages.json` lists the accepted messages as Twilio's Messages list does, with exactly its
filters: To, From and DateSent (a day, `YYYY-MM-DD`; the SDK writes `YYYY-MM-DDT00:00:00Z`, whose day
counts), newest first, in pages of PageSize (50 by default, at most 1000) linked by `next_page_uri`
(Page and PageToken). A message is listed under DateSent only once it was sent: `list_lag` after it was
created (Twilio's own queue and lag), by the stand-in's `clock`. A message via a Messaging Service
lists the sender Twilio picked (`pool_sender`), as Twilio does once it sent it.

It can also play Twilio calling us: `deliver_status` posts a status callback and `deliver_inbound` an
incoming message, both signed with `X-Twilio-Signature` exactly as Twilio signs them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import random
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Literal, Self
from urllib.parse import quote

import aiohttp
from aiohttp import web

from channels.sms_segments import count_segments

API_VERSION = "2010-04-01"
MAX_BODY = 1600  # Twilio's limit for a concatenated message body (error 21617)
SIGNATURE_HEADER = "X-Twilio-Signature"

# The messages Twilio answers with; some quote the number, as Twilio's do (adapters must not log them).
ERROR_MESSAGES: Mapping[int, str] = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number: {to}",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


def twilio_signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio puts on a webhook request.

    Base64 of HMAC-SHA1, keyed with the auth token, over the full URL followed by every form field's
    name and value, fields sorted by name (what `twilio.request_validator.RequestValidator` checks).
    """
    payload = url + "".join(name + form[name] for name in sorted(form))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _rfc2822(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")  # as Twilio writes dates


def _utc_now() -> datetime:
    return datetime.now(UTC)


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_FILTERS = ("To", "From", "DateSent")  # all Twilio's Messages list filters on (with paging)


def error_body(status: int, code: int, message: str | None = None) -> dict[str, object]:
    return {
        "code": code,
        "message": message if message is not None else ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received, before it decided how to answer."""

    method: str
    path: str
    headers: Mapping[str, str]
    form: Mapping[str, str]


@dataclass(frozen=True)
class StoredMessage:
    """A message the stand-in accepted (answered 201)."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    num_segments: int
    created_at: datetime = field(default_factory=_utc_now)


MessageListener = Callable[[StoredMessage], None]

FaultKind = Literal["error", "hang", "drop", "gateway"]


@dataclass
class Fault:
    """How to answer a request instead of accepting it."""

    kind: FaultKind
    status: int = 500
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None  # the Retry-After header, when set
    to: str | None = None  # only requests to this address (bare or with "whatsapp:"); None: any
    times: int | None = 1  # how many requests it answers; None: all of them

    def matches(self, to: str) -> bool:
        return self.to is None or self.to in (to, to.removeprefix("whatsapp:"))


SteadyFaultKind = Literal["ok", "rate_limited", "server_error", "unavailable", "slow", "hang", "drop"]
RETRYABLE_FAULTS: frozenset[SteadyFaultKind] = frozenset({"rate_limited", "server_error", "unavailable"})
EFFECTIVE_FAULTS: frozenset[SteadyFaultKind] = frozenset({"ok", "slow", "hang", "drop"})  # the message exists


@dataclass(frozen=True)
class SteadyFaults:
    """Faults at a steady rate: the share of message requests that meets each one (the rest succeed).

    The n-th request to one recipient meets a fault drawn from a generator seeded with (seed, recipient,
    n), so a run is reproducible however concurrent sends interleave, and over many requests each
    fault's share tends to its weight. Retryable: rate_limited (429 with retry_after), server_error
    (500), unavailable (503); nothing is created. slow: created, answered after `slow_seconds` (keep it
    shorter than the client's timeout: the send succeeds). hang: created, answered after `hang_seconds`
    at the earliest (longer than the client's timeout). drop: created, then the connection is closed
    without an answer. After a hang or a drop the sender cannot know the message exists.
    """

    rate_limited: float = 0.0
    server_error: float = 0.0
    unavailable: float = 0.0
    slow: float = 0.0
    hang: float = 0.0
    drop: float = 0.0
    retry_after: int = 1  # seconds, what a 429 asks for
    slow_seconds: float = 0.1
    hang_seconds: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        shares = [share for _, share in self.shares()]
        if any(share < 0 for share in shares) or sum(shares) > 1:
            raise ValueError("fault shares must be non-negative and add up to at most 1")
        if self.retry_after < 1 or self.slow_seconds < 0 or self.hang_seconds <= 0:
            raise ValueError("retry_after must be at least 1 s, slow_seconds non-negative, hang_seconds positive")

    def shares(self) -> list[tuple[SteadyFaultKind, float]]:
        return [
            ("rate_limited", self.rate_limited),
            ("server_error", self.server_error),
            ("unavailable", self.unavailable),
            ("slow", self.slow),
            ("hang", self.hang),
            ("drop", self.drop),
        ]

    def draw(self, recipient: str, number: int) -> SteadyFaultKind:
        """The fault the `number`-th (1-based) request to `recipient` meets; "ok" for none."""
        roll = random.Random(f"{self.seed}:{recipient}:{number}").random()  # str seeds are stable across runs
        for kind, share in self.shares():
            if roll < share:
                return kind
            roll -= share
        return "ok"


@dataclass(frozen=True)
class SteadyOutcome:
    """What one request under steady faults met, as the provider saw it."""

    recipient: str  # the To address (Twilio) or the chat id (Telegram)
    number: int  # 1-based: the how-many-th request to this recipient
    fault: SteadyFaultKind
    message_id: str | None  # the created message (sid, or Telegram message_id); None: nothing was created

    @property
    def took_effect(self) -> bool:
        return self.message_id is not None


class TwilioStandIn:
    """Speaks the Twilio Messages API on 127.0.0.1 (a free port) for tests and the demo."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "standin-auth-token",
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock  # Twilio's own time: date_created, and what the list shows yet
        self.list_lag = timedelta(0)  # how long after it was created a message appears under DateSent
        self.pool_sender = "+48500000999"  # the number a Messaging Service picks
        self.requests: list[RecordedRequest] = []
        self.messages: list[StoredMessage] = []
        self._faults: list[Fault] = []
        self._steady: SteadyFaults | None = None
        self._steady_counts: Counter[str] = Counter()
        self.steady_log: list[SteadyOutcome] = []
        self._listeners: list[MessageListener] = []
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._base_url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> str:
        """Start serving; returns the base URL (what `api_base_url` of the channel takes)."""
        app = web.Application()
        app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._create_message)
        app.router.add_get(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._list_messages)
        self._release = asyncio.Event()
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        return self._base_url

    async def stop(self) -> None:
        """Stop serving; hanging requests are released (their connections closed, never answered)."""
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the Twilio stand-in is not started")
        return self._base_url

    def messages_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def subscribe(self, listener: MessageListener) -> None:
        """Call `listener(message)` with every message accepted from now on (answered 201).

        It runs inside the request handler, before the 201 goes out: it should take note or schedule
        work, not wait. `reset` keeps the listeners.
        """
        self._listeners.append(listener)

    # -- scripting -------------------------------------------------------------------------------

    def script(
        self,
        *,
        to: str,
        status: int,
        code: int,
        message: str | None = None,
        retry_after: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer requests to `to` with this Twilio error (every time unless `times` is given)."""
        self._faults.append(Fault("error", status, code, message, retry_after, to=to, times=times))

    def fail_next(
        self,
        *,
        status: int,
        code: int,
        message: str | None = None,
        retry_after: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with this Twilio error."""
        self._faults.append(Fault("error", status, code, message, retry_after, times=times))

    def hang_next(self, *, times: int = 1) -> None:
        """Read the next `times` requests and never answer them (until `stop`)."""
        self._faults.append(Fault("hang", times=times))

    def gateway_error_next(self, *, status: int = 504, times: int = 1) -> None:
        """Create the next `times` messages, then answer as a proxy in front of Twilio that gave up
        waiting (a 502/504 page, not Twilio's JSON): the message exists, the client cannot tell."""
        self._faults.append(Fault("gateway", status=status, times=times))

    def drop_next(self, *, times: int = 1) -> None:
        """Read the next `times` requests, then close the connection without answering."""
        self._faults.append(Fault("drop", times=times))

    def steady(self, faults: SteadyFaults | None) -> None:
        """Meet message requests with faults at a steady rate from now on (None: no more); scripted
        faults (`script`, `fail_next`, …) come first."""
        self._steady = faults

    def reset(self) -> None:
        """Forget scripted and steady faults, recorded requests and accepted messages."""
        self._faults.clear()
        self._steady = None
        self._steady_counts.clear()
        self.steady_log.clear()
        self.requests.clear()
        self.messages.clear()

    def _take_fault(self, to: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(to):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- the API ---------------------------------------------------------------------------------

    async def _create_message(self, request: web.Request) -> web.StreamResponse:
        posted = await request.post()
        form = {name: value for name, value in posted.items() if isinstance(value, str)}
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.headers), form))

        if request.match_info["account_sid"] != self.account_sid:
            return self._error(404, 20404, path=request.path)
        if not self._authorized(request.headers.get("Authorization", "")):
            return self._error(401, 20003)

        to = form.get("To", "")
        fault = self._take_fault(to)
        if fault is not None and fault.kind == "gateway":
            created = self._create(form)
            if isinstance(created, web.Response):
                return created
            return web.Response(status=fault.status, text="<html><body>Gateway Timeout</body></html>")
        if fault is not None:
            return await self._misbehave(request, fault, to)
        if self._steady is not None:
            return await self._steadily(request, self._steady, form)
        created = self._create(form)
        return created if isinstance(created, web.Response) else self._created(created)

    def _create(self, form: Mapping[str, str]) -> StoredMessage | web.Response:
        """Create the message the form asks for (heard by listeners), or Twilio's refusal."""
        to = form.get("To", "")
        from_, service_sid, body = form.get("From"), form.get("MessagingServiceSid"), form.get("Body")
        content_sid = form.get("ContentSid")
        if not to:
            return self._error(400, 21604)
        if content_sid:  # a Content API template: Twilio renders the body from it and the variables
            body = f"[template {content_sid}] {form.get('ContentVariables', '{}')}"
        if body is None or body == "":
            return self._error(400, 21602)
        if not from_ and not service_sid:
            return self._error(400, 21603)
        if len(body) > MAX_BODY:
            return self._error(400, 21617)

        sid = "SM" + secrets.token_hex(16)
        # With a Messaging Service Twilio picks the sender later: status "accepted", from null, 0 segments.
        segments = 0 if not from_ else count_segments(body).segments
        stored = StoredMessage(
            sid, to, from_ or None, service_sid, body, form.get("StatusCallback"), segments, self.clock()
        )
        self.messages.append(stored)
        for listener in self._listeners:
            listener(stored)
        return stored

    def _created(self, stored: StoredMessage) -> web.Response:
        """The 201 with the message resource, as Twilio answers a created message."""
        resource = self._resource(stored, listed=False)
        return web.json_response(resource, status=201)

    def _resource(self, stored: StoredMessage, *, listed: bool) -> dict[str, object]:
        """The message resource: as created (queued, not sent), or as listed (sent, `list_lag` later)."""
        sid, via_service = stored.sid, stored.from_ is None
        created = _rfc2822(stored.created_at)
        status = "sent" if listed else "accepted" if via_service else "queued"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": stored.body,
            "date_created": created,
            "date_sent": _rfc2822(stored.created_at + self.list_lag) if listed else None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": stored.from_ or (self.pool_sender if listed else None),
            "messaging_service_sid": stored.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(stored.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json",
            },
            "to": stored.to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    async def _list_messages(self, request: web.Request) -> web.StreamResponse:
        """Twilio's Messages list: To, From and DateSent filters, newest first, paged."""
        query = request.query
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.headers), dict(query)))
        if request.match_info["account_sid"] != self.account_sid:
            return self._error(404, 20404, path=request.path)
        if not self._authorized(request.headers.get("Authorization", "")):
            return self._error(401, 20003)
        try:
            size = int(query.get("PageSize", DEFAULT_PAGE_SIZE))
            page = int(query.get("Page", "0"))
            day = date.fromisoformat(query["DateSent"][:10]) if "DateSent" in query else None
        except ValueError:
            return self._error(400, 20001, "Invalid paging or DateSent")
        if not 1 <= size <= MAX_PAGE_SIZE or page < 0:
            return self._error(400, 20001, "Invalid paging")
        now = self.clock()
        listed = [
            message
            for message in reversed(self.messages)  # newest first, as Twilio lists them
            if self._listed(message, now=now, to=query.get("To"), sender=query.get("From"), day=day)
        ]
        start = page * size
        token = query.get("PageToken")
        if token is not None:  # continues after the last message of the page before
            after = [index for index, message in enumerate(listed) if "PA" + message.sid == token]
            start = after[0] + 1 if after else len(listed)
        chunk = listed[start : start + size]
        filters = "".join(f"{name}={quote(query[name])}&" for name in LIST_FILTERS if name in query)
        base = self.messages_path() + "?" + filters + f"PageSize={size}"
        more = start + size < len(listed)
        return web.json_response(
            {
                "messages": [self._resource(message, listed=True) for message in chunk],
                "page": page,
                "page_size": size,
                "start": start,
                "end": start + max(len(chunk) - 1, 0),
                "uri": base + f"&Page={page}",
                "first_page_uri": base + "&Page=0",
                "previous_page_uri": base + f"&Page={page - 1}" if page > 0 else None,
                "next_page_uri": base + f"&Page={page + 1}&PageToken=PA{chunk[-1].sid}" if more and chunk else None,
            }
        )

    def _listed(
        self, message: StoredMessage, *, now: datetime, to: str | None, sender: str | None, day: date | None
    ) -> bool:
        sent_at = message.created_at + self.list_lag
        if sent_at > now:  # still in Twilio's queue: no DateSent yet, so no DateSent filter finds it
            return False
        if to is not None and message.to != to:
            return False
        if sender is not None and (message.from_ or self.pool_sender) != sender:
            return False
        return day is None or sent_at.astimezone(UTC).date() == day

    async def _steadily(
        self, request: web.Request, faults: SteadyFaults, form: Mapping[str, str]
    ) -> web.StreamResponse:
        """Answer a message request under steady faults, and log what it met."""
        to = form.get("To", "")
        self._steady_counts[to] += 1
        number = self._steady_counts[to]
        kind = faults.draw(to, number)
        if kind in RETRYABLE_FAULTS:
            self.steady_log.append(SteadyOutcome(to, number, kind, None))
            if kind == "rate_limited":
                response = self._error(429, 20429)
                response.headers["Retry-After"] = str(faults.retry_after)
                return response
            return self._error(500, 20500) if kind == "server_error" else self._error(503, 20503)
        if kind == "slow":
            await asyncio.sleep(faults.slow_seconds)
        created = self._create(form)
        self.steady_log.append(
            SteadyOutcome(to, number, kind, None if isinstance(created, web.Response) else created.sid)
        )
        if isinstance(created, web.Response):
            return created
        if kind == "hang":
            assert self._release is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), faults.hang_seconds)
        if kind == "drop" or (kind == "hang" and self._release is not None and self._release.is_set()):
            if request.transport is not None:
                request.transport.abort()  # the message exists; the client never hears so
            raise asyncio.CancelledError  # aiohttp's way for a handler to end without a response
        return self._created(created)

    def _authorized(self, header: str) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return hmac.compare_digest(header.encode(), expected.encode())

    def _error(
        self, status: int, code: int, message: str | None = None, *, to: str = "", path: str = ""
    ) -> web.Response:
        text = message if message is not None else ERROR_MESSAGES.get(code, "Error").format(to=to, path=path)
        return web.json_response(error_body(status, code, text), status=status)

    async def _misbehave(self, request: web.Request, fault: Fault, to: str) -> web.StreamResponse:
        if fault.kind == "hang":
            assert self._release is not None
            await self._release.wait()
        if fault.kind in ("hang", "drop"):
            if request.transport is not None:
                request.transport.abort()  # the client never hears back: it cannot know what happened
            raise asyncio.CancelledError  # aiohttp's way for a handler to end without a response
        assert fault.code is not None
        response = self._error(fault.status, fault.code, fault.message, to=to)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    # -- Twilio calling us -----------------------------------------------------------------------

    def find_message(self, sid: str) -> StoredMessage:
        for message in self.messages:
            if message.sid == sid:
                return message
        raise KeyError(sid)

    async def deliver_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: str | None = None,
        url: str | None = None,
    ) -> int:
        """POST a signed status callback for an accepted message, as Twilio does; returns the HTTP status.

        It goes to the message's StatusCallback unless `url` is given.
        """
        message = self.find_message(sid)
        target = url or message.status_callback
        if target is None:
            raise ValueError(f"message {sid} has no StatusCallback and no url was given")
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            form["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            form["ErrorCode"] = error_code
        return await self.post_signed(target, form)

    async def deliver_inbound(
        self,
        url: str,
        *,
        from_: str,
        to: str,
        body: str,
        opt_out_type: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> tuple[int, str]:
        """POST a signed incoming message (a resident's reply) to `url`; returns (HTTP status, sid).

        `opt_out_type` ("STOP", "START", "HELP") is what Twilio adds when a Messaging Service with
        Advanced Opt-Out recognised a keyword.
        """
        sid = "SM" + secrets.token_hex(16)
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(max(count_segments(body).segments, 1)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        if opt_out_type is not None:
            form["OptOutType"] = opt_out_type
        if messaging_service_sid is not None:
            form["MessagingServiceSid"] = messaging_service_sid
        if from_.startswith("whatsapp:"):
            form["WaId"] = from_.removeprefix("whatsapp:+")
        return await self.post_signed(url, form), sid

    async def post_signed(self, url: str, form: Mapping[str, str]) -> int:
        """POST a form to `url` with the X-Twilio-Signature Twilio would put on it. A fragment
        (`#rc=5&rp=all`, Twilio's connection overrides) is neither sent nor signed, as by Twilio."""
        url = url.partition("#")[0]
        headers = {SIGNATURE_HEADER: twilio_signature(self.auth_token, url, form)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=dict(form), headers=headers) as response,
        ):
            await response.read()
            return response.status
