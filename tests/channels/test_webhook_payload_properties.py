"""Property-based tests of every webhook payload reader (issue 20): whatever a caller posts, each reader
answers with what it read or with the one error the web layer turns into a 400 — never another
exception (a 500) — and what it read keeps the provider's identifiers as given.

Twilio's form (inbound messages and status callbacks, and the signature check over any form), Telegram's
update JSON (as a document and as the raw bytes of a request), the sandbox's form, the secret-header
checks of Telegram and the sandbox (any header bytes), and the JSON body guard in front of every JSON
route."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import Inbound, InvalidRequest, Request
from channels.sandbox import SECRET_HEADER as SANDBOX_SECRET_HEADER
from channels.sandbox import SandboxChannel
from channels.telegram import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from channels.telegram import TelegramChannel
from channels.telegram_updates import parse_update
from channels.twilio_sms import TwilioChannel
from outreach.web.json_bodies import RefusedJson, parse_document

TWILIO_FIELDS = ["MessageSid", "SmsSid", "From", "To", "Body", "MessageStatus", "SmsStatus", "ErrorCode", "OptOutType"]
FORM_VALUES = st.one_of(
    st.sampled_from(["", "SM0123", "+48601234567", "whatsapp:+48601234567", "whatsapp:", "STOP", "delivered"]),
    st.text(max_size=40),
)
FORMS = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(max_size=10)), FORM_VALUES, max_size=8)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
UPDATE_KEYS = ["update_id", "message", "callback_query", "my_chat_member", "chat", "id", "type", "text", "from"]
UPDATE_KEYS += ["data", "new_chat_member", "status", "language_code", "message_id", "date"]
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(UPDATE_KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@cache
def twilio() -> TwilioChannel:
    return TwilioChannel(
        name="sms",
        account_sid="AC" + "0" * 32,
        auth_token="token",
        api_base_url="http://127.0.0.1:9",
        public_url="https://outreach.example.org",
        sender="+48500000000",
    )


@cache  # making the bot object is slow; the readers keep no state between requests
def telegram() -> TelegramChannel:
    return TelegramChannel(token="1:abc", api_base_url="http://127.0.0.1:9", webhook_secret="secret")


@cache
def sandbox() -> SandboxChannel:
    return SandboxChannel("sms", "sandbox-secret")


@SETTINGS
@given(FORMS)
def test_twilio_inbound_form_reads_or_is_invalid(form: dict[str, str]) -> None:
    try:
        messages = twilio().parse_inbound(Request(url="https://outreach.example.org/webhooks/twilio/sms", form=form))
    except InvalidRequest:
        assert not form.get("MessageSid") or not form.get("From", "").removeprefix("whatsapp:")
        return
    (message,) = messages
    assert message.provider_id == form["MessageSid"] and message.address and message.text == form.get("Body", "")


@SETTINGS
@given(FORMS)
def test_twilio_status_form_reads_or_is_invalid(form: dict[str, str]) -> None:
    try:
        (status,) = twilio().parse_status(Request(url="https://outreach.example.org/webhooks/twilio/status", form=form))
    except InvalidRequest:
        return
    assert status.provider_id in (form.get("MessageSid"), form.get("SmsSid")) and status.status == status.status.lower()


@SETTINGS
@given(FORMS, st.text(max_size=40))
def test_twilio_signature_check_answers_false_for_any_forged_request(form: dict[str, str], signature: str) -> None:
    request = Request(
        url="https://outreach.example.org/webhooks/twilio/sms", headers={"X-Twilio-Signature": signature}, form=form
    )
    assert twilio().verify(request) is False


@SETTINGS
@given(JSON_VALUES)
def test_telegram_update_reads_or_is_invalid(update: Any) -> None:
    try:
        messages = parse_update(update)
    except InvalidRequest:
        return
    assert isinstance(update, dict) and isinstance(update.get("update_id"), int)
    for message in messages:
        assert isinstance(message, Inbound) and message.provider_id == f"u{update['update_id']}"


@SETTINGS
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
def test_telegram_request_body_reads_or_is_invalid(body: bytes) -> None:
    try:
        messages = telegram().parse_inbound(Request(url="/webhooks/telegram", body=body))
    except InvalidRequest:
        return
    assert all(isinstance(message, Inbound) for message in messages)


@SETTINGS
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
def test_the_json_body_guard_returns_a_document_or_refuses(raw: bytes) -> None:
    try:
        document = parse_document(raw)
    except RefusedJson as refusal:
        assert str(refusal)
        return
    assert document == json.loads(raw.decode("utf-8"))


# A header as aiohttp hands it on: the bytes decoded as UTF-8 with surrogateescape, so any byte that is
# not UTF-8 arrives as a lone surrogate.
HEADER_VALUES = st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", "surrogateescape")) | st.text(max_size=40)


@SETTINGS
@given(HEADER_VALUES)
def test_the_secret_checks_answer_false_for_any_other_header(value: str) -> None:
    for channel, header, secret in (
        (telegram(), TELEGRAM_SECRET_HEADER, "secret"),
        (sandbox(), SANDBOX_SECRET_HEADER, "sandbox-secret"),
    ):
        assert channel.verify(Request(url="/", headers={header: value})) is (value == secret)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["id", "from", "text"]) | st.text(max_size=5), FORM_VALUES, max_size=5))
def test_the_sandbox_form_reads_or_is_invalid(form: dict[str, str]) -> None:
    try:
        (message,) = sandbox().parse_inbound(Request(url="/webhooks/sandbox/sms", form=form))
    except InvalidRequest:
        assert not form.get("id") or not form.get("from") or "text" not in form
        return
    assert (message.provider_id, message.address, message.text) == (form["id"], form["from"], form["text"])
