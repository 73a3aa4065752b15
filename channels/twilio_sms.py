"""The Twilio channel: SMS and WhatsApp through Twilio's Messages API (one class, two instances).

Sending uses the `twilio` SDK's async client; the API base URL is a constructor argument, so the same
code talks to Twilio (https://api.twilio.com, or an edge such as https://api.dublin.ie1.twilio.com)
or to the loopback stand-in (`channels.standins.twilio`). Errors are classified here, once:

- `SendError(stop_contact=True)`: 21610, the resident replied STOP to our sender;
- `SendError(retryable=False, address_invalid=True)`: the address cannot get the message (21211,
  21408, 21606, 21612, 21614);
- `SendError(retryable=False)`: wrong credentials (20003 / HTTP 401), any other refusal (4xx);
- `SendError(retryable=True)`: HTTP 429 / 20429 (with `retry_after` when Twilio sent Retry-After), 500,
  503 and other 5xx Twilio answered itself, and a connection that could not be opened or timed out
  while opening (the request never left);
- `OutcomeUnknown`: 502 and 504, a gateway in front of Twilio that gave up waiting (the message may
  have been created behind it);
- anything else propagates as it is: a timeout after the request was written (TimeoutError) or a
  connection dropped after it (aiohttp.ServerDisconnectedError, ClientOSError) is an unknown outcome
  (the message may exist), and the caller must not send it again.

A send whose outcome was lost is looked up afterwards (`find_sent`) in Twilio's Messages list, which
filters only by To, From and the day of DateSent (a Messaging Service has no fixed From, so then only
To): the message is ours when its body is the one we sent and Twilio created it within the send's
window (its start, our timeout, and `clock_skew` either side). A message appears in that list only once
Twilio sent it, and the list itself lags, so no match means "never sent" only `list_grace` after the start.

Webhooks (`POST /webhooks/twilio/sms`, `POST /webhooks/twilio/status`) are checked with
`verify` against the URL Twilio was given (public URL + path + query), then read by `parse_inbound` /
`parse_status`. Status callbacks arrive unordered and repeated: `channels.delivery_status.status_rank`
tells whether one moves a message forward.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import warnings
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import urlparse

import aiohttp
from multidict import MultiDict
from twilio.base.exceptions import TwilioRestException, TwilioServiceException  # type: ignore[import-untyped]
from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped]
from twilio.request_validator import (  # type: ignore[import-untyped]
    RequestValidator,
    add_port,
    compare,
    remove_port,
)
from twilio.rest import Client  # type: ignore[import-untyped]
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped]

from channels import webhook_paths
from channels.base import (
    Capabilities,
    DeliveryStatus,
    Inbound,
    InvalidRequest,
    Outbound,
    OutcomeUnknown,
    Request,
    SendError,
    Sent,
    SentLookup,
    render_plain,
)
from channels.sms_segments import fold_to_gsm

SIGNATURE_HEADER = "X-Twilio-Signature"
WHATSAPP_PREFIX = "whatsapp:"
NAMES = ("sms", "whatsapp")

# Twilio error codes (https://www.twilio.com/docs/api/errors).
GATEWAY_GAVE_UP = frozenset({502, 504})  # a proxy's answer: Twilio may have created the message behind it
STOPPED = 21610  # the recipient replied STOP (or Twilio's opt-out list holds them)
UNREACHABLE = {
    21211: "invalid 'To' number",
    21408: "no permission to send to the 'To' number's region",
    21606: "the sender cannot send to this destination",
    21612: "the 'To' number is not reachable from this sender",
    21614: "the 'To' number is not a mobile number",
}
AUTHENTICATION = 20003
TOO_MANY_REQUESTS = 20429

LIST_PAGE_SIZE = 100  # a resident gets a few messages a day: one page nearly always
LIST_GRACE = timedelta(minutes=5)  # until then a message missing from the list may be Twilio's lag
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and Twilio's date_created

# twilio 9.13's AsyncTwilioHttpClient builds `aiohttp.BasicAuth(...)` and passes `auth=` to
# `ClientSession.request`, both deprecated since aiohttp 3.14. The two warnings fire on every send, from
# the SDK's own modules; they are silenced for those modules only (see `_silence_sdk_deprecations`).
SDK_DEPRECATIONS = (
    ("BasicAuth is deprecated and will be removed in aiohttp 4.0", "twilio.http.async_http_client"),
    ("The 'auth' parameter is deprecated and will be removed in v4", "twilio.base.client_base"),
)


@dataclass
class _Exchange:
    """What aiohttp reported about the current task's send (the SDK's exceptions drop it)."""

    request_written: bool = False  # the request headers went out: from then on, Twilio may have the message
    response_headers: Mapping[str, str] | None = None  # to read Retry-After


_exchange: ContextVar[_Exchange | None] = ContextVar("_twilio_exchange", default=None)


def _silence_sdk_deprecations() -> None:
    """Ignore the SDK's two aiohttp deprecation warnings, raised from the SDK's modules and nowhere else.

    Called by `start`, not at import. Adding the same filter twice keeps one entry.
    """
    for message, module in SDK_DEPRECATIONS:
        warnings.filterwarnings(
            "ignore", message=re.escape(message), category=DeprecationWarning, module=re.escape(module) + r"\Z"
        )


# --- webhooks ----------------------------------------------------------------------------------


@functools.cache
def empty_twiml() -> str:
    """The answer to an inbound-message webhook that sends no reply (Content-Type text/xml). Made once:
    the SDK builds it through ElementTree, 4% of a `serve --web-only` process's CPU when made per request."""
    return str(MessagingResponse())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _address(value: str) -> tuple[str, str]:
    """(channel name, bare E.164 address) of a Twilio address such as "whatsapp:+48600100200"."""
    if value.startswith(WHATSAPP_PREFIX):
        return "whatsapp", value.removeprefix(WHATSAPP_PREFIX)
    return "sms", value


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = _header(headers, "Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def _on_headers_sent(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestHeadersSentParams
) -> None:
    exchange = _exchange.get()
    if exchange is not None:
        exchange.request_written = True


async def _on_request_end(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    exchange = _exchange.get()
    if exchange is not None:
        exchange.response_headers = params.response.headers


class TwilioChannel:
    """SMS or WhatsApp through Twilio; `name` says which ("sms" or "whatsapp")."""

    capabilities: ClassVar[Capabilities] = Capabilities(max_length=1600, buttons=False, signed_webhooks=True)

    def __init__(
        self,
        *,
        name: str,
        account_sid: str,
        auth_token: str,
        api_base_url: str,
        public_url: str,
        sender: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback_path: str = webhook_paths.TWILIO_STATUS,
        timeout: float = 10.0,
        fold_diacritics: bool = False,
        list_grace: timedelta = LIST_GRACE,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        if name not in NAMES:
            raise ValueError(f"a Twilio channel is named one of {NAMES}, not {name!r}")
        if (sender is None) == (messaging_service_sid is None):
            raise ValueError("give exactly one of sender (a From number) and messaging_service_sid")
        if not account_sid or not auth_token:
            raise ValueError("account_sid and auth_token are required")
        for label, url in (("api_base_url", api_base_url), ("public_url", public_url)):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{label} must be an http(s) URL")
        if not status_callback_path.startswith("/"):
            raise ValueError("status_callback_path must start with '/'")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.name = name
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender = sender
        self._messaging_service_sid = messaging_service_sid
        self._api_base_url = api_base_url.rstrip("/")
        # With the retry override: a status our 503 met during an outage is posted again.
        self._status_callback = public_url.rstrip("/") + status_callback_path + webhook_paths.TWILIO_RETRY_OVERRIDES
        self._timeout = timeout
        self._fold = fold_diacritics
        self._list_grace = list_grace
        self._clock_skew = clock_skew
        self._validator = RequestValidator(auth_token)
        self._http: Any = None  # AsyncTwilioHttpClient, made in start() inside the running loop
        self._client: Any = None  # twilio.rest.Client

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is not None:
            return
        _silence_sdk_deprecations()
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_on_headers_sent)
        trace.on_request_end.append(_on_request_end)
        # Never pass max_retries: the SDK would re-POST on 5xx and on exceptions, sending an SMS twice.
        # The SDK stores `timeout` but (9.13) does not apply it to requests: `send` enforces it itself.
        self._http = AsyncTwilioHttpClient(timeout=self._timeout, trace_configs=[trace])
        client = Client(self._account_sid, self._auth_token, http_client=self._http)
        client.api.base_url = self._api_base_url
        # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host: the URL is the setting.
        client.edge = None
        client.region = None
        self._client = client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    # --- sending ------------------------------------------------------------------------------

    def body(self, outbound: Outbound) -> str:
        """The text Twilio gets for this message (numbered lines for choices, folded when asked)."""
        text = render_plain(outbound)
        return fold_to_gsm(text) if self._fold else text

    def _prefixed(self, address: str) -> str:
        if self.name == "whatsapp" and not address.startswith(WHATSAPP_PREFIX):
            return WHATSAPP_PREFIX + address
        return address

    async def send(self, outbound: Outbound) -> Sent:
        if self._client is None:
            raise RuntimeError("TwilioChannel.start() must be awaited before send()")
        params: dict[str, str] = {"to": self._prefixed(outbound.address), "status_callback": self._status_callback}
        if outbound.template is not None and self.name == "whatsapp":
            # Outside WhatsApp's 24-hour window only an approved template may open a conversation.
            params["content_sid"] = outbound.template.content_sid
            params["content_variables"] = json.dumps(dict(outbound.template.variables), ensure_ascii=False)
        else:
            params["body"] = self.body(outbound)
        if self._sender is not None:
            params["from_"] = self._prefixed(self._sender)
        else:
            assert self._messaging_service_sid is not None
            params["messaging_service_sid"] = self._messaging_service_sid
        exchange = _Exchange()
        token = _exchange.set(exchange)
        try:
            async with asyncio.timeout(self._timeout):
                message = await self._client.messages.create_async(**params)
        except (TwilioRestException, TwilioServiceException) as error:
            if error.status in GATEWAY_GAVE_UP:
                raise OutcomeUnknown(f"twilio HTTP {error.status}: a gateway gave up; the message may exist") from None
            # `from None`: Twilio's own message may quote the number; it must not reach logs.
            raise _classify(error.status, error.code, exchange.response_headers) from None
        except aiohttp.ClientConnectorError:
            raise SendError("twilio: could not connect to the API; the request never left", retryable=True) from None
        except TimeoutError:
            if not exchange.request_written:  # still connecting: nothing reached Twilio
                raise SendError("twilio: timed out connecting; the request never left", retryable=True) from None
            raise  # written, unanswered: the message may exist (unknown outcome)
        finally:
            _exchange.reset(token)
        return Sent(provider_id=str(message.sid), segments=_segments(message.num_segments))

    # --- sends of unknown outcome -------------------------------------------------------------

    async def find_sent(self, outbound: Outbound, *, started_at: datetime, now: datetime) -> SentLookup:
        """Whether Twilio has the message `outbound` whose send started at `started_at` (see the module
        docstring); unsure while the list could still be lagging, or when it could not be read."""
        if self._client is None:
            raise RuntimeError("TwilioChannel.start() must be awaited before find_sent()")
        if outbound.template is not None and self.name == "whatsapp":
            return SentLookup()  # Twilio renders a template's body: nothing of ours to match it by
        body = self.body(outbound)
        earliest = started_at - self._clock_skew
        latest = started_at + timedelta(seconds=self._timeout) + self._clock_skew
        try:
            for day in _days(earliest, min(max(now, latest), latest + self._list_grace)):
                for message in await self._sent_on(self._prefixed(outbound.address), day):
                    created = message.date_created
                    if message.body == body and created is not None and earliest <= created <= latest:
                        return SentLookup(provider_id=str(message.sid))
        except (TwilioRestException, TwilioServiceException, aiohttp.ClientError, TimeoutError):
            return SentLookup()  # the list could not be read: ask again later
        return SentLookup(settled=now - started_at >= self._list_grace)

    async def _sent_on(self, to: str, day: date) -> list[Any]:
        """Twilio's messages to `to` (from our number, when there is one) sent on `day`, every page."""
        filters: dict[str, str] = {"to": to, "date_sent": day.isoformat()}
        if self._sender is not None:
            filters["from_"] = self._prefixed(self._sender)
        async with asyncio.timeout(self._timeout * 3):
            return list(await self._client.messages.list_async(**filters, page_size=LIST_PAGE_SIZE))

    # --- webhooks ------------------------------------------------------------------------------

    def verify(self, request: Request) -> bool:
        signature = _header(request.headers, SIGNATURE_HEADER)
        if not signature:
            return False
        # RequestValidator.validate's check for a form, but the URL with its port is signed only when the
        # URL without it does not match: validate computes both HMACs every time (each about 4% of a
        # web process's CPU under load). A MultiDict, since the validator reads each field with getall(),
        # trying getlist() and [] after it on a plain dict: two exceptions per field (3.8%, py-spy).
        params, url = MultiDict(request.form), urlparse(request.url)
        return any(
            compare(self._validator.compute_signature(candidate, params), signature)
            for candidate in (remove_port(url), add_port(url))
        )

    def parse_inbound(self, request: Request) -> list[Inbound]:
        form = request.form
        provider_id, sender = form.get("MessageSid", ""), form.get("From", "")
        if not provider_id or not sender:
            raise InvalidRequest("twilio inbound lacks MessageSid or From")
        channel, address = _address(sender)
        if not address:
            raise InvalidRequest("twilio inbound has an empty From")
        return [
            Inbound(
                channel=channel,
                provider_id=provider_id,
                address=address,
                text=form.get("Body", ""),
                received_at=datetime.now(UTC),
                # Advanced Opt-Out (a Messaging Service) adds OptOutType STOP/START/HELP to keyword messages;
                # STOP means Twilio already blocks this sender-recipient pair.
                opted_out_by_provider=form.get("OptOutType", "").upper() == "STOP",
            )
        ]

    def parse_status(self, request: Request) -> list[DeliveryStatus]:
        form = request.form
        provider_id = form.get("MessageSid") or form.get("SmsSid") or ""
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if not provider_id or not status:
            raise InvalidRequest("twilio status callback lacks MessageSid or MessageStatus")
        whatsapp = any(form.get(field, "").startswith(WHATSAPP_PREFIX) for field in ("To", "From"))
        return [
            DeliveryStatus(
                channel="whatsapp" if whatsapp else "sms",
                provider_id=provider_id,
                status=status.lower(),
                error_code=form.get("ErrorCode") or None,
                reported_at=datetime.now(UTC),
            )
        ]


def _days(first: datetime, last: datetime) -> list[date]:
    """The UTC days from `first` to `last`: DateSent filters by the day, and a send may cross midnight."""
    days, day = [], first.astimezone(UTC).date()
    while day <= last.astimezone(UTC).date():
        days.append(day)
        day += timedelta(days=1)
    return days


def _segments(value: object) -> int | None:
    """Segments Twilio billed; None when it does not say yet (0 via a Messaging Service)."""
    try:
        segments = int(str(value))
    except ValueError:
        return None
    return segments if segments > 0 else None


def _classify(status: object, code: object, headers: Mapping[str, str] | None) -> SendError:
    """One Twilio error answer as a SendError; the message never carries the address or the text."""
    http = int(status) if isinstance(status, int | str) and str(status).isdigit() else 0
    number = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    label = f"twilio HTTP {http} error {number}"
    if number == STOPPED:
        return SendError(f"{label}: the recipient replied STOP", retryable=False, stop_contact=True)
    if number in UNREACHABLE:
        return SendError(f"{label}: {UNREACHABLE[number]}", retryable=False, address_invalid=True)
    if number == AUTHENTICATION or http == 401:
        return SendError(f"{label}: authentication failed, the Twilio credentials are wrong", retryable=False)
    if http == 429 or number == TOO_MANY_REQUESTS:
        return SendError(f"{label}: too many requests", retryable=True, retry_after=_retry_after(headers))
    if http >= 500:
        return SendError(f"{label}: Twilio failed; the message was not created", retryable=True)
    return SendError(f"{label}: refused", retryable=False)
