"""The Twilio stand-in speaks Twilio's wire format: raw HTTP in, Twilio's answers out."""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from channels.base import Outbound, Request
from channels.standins.twilio import SIGNATURE_HEADER, SteadyFaults, TwilioStandIn, twilio_signature
from channels.twilio_sms import TwilioChannel
from tests.providers import SMS_FROM as SENDER
from tests.providers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.providers import TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.providers import TWILIO_SERVICE_SID as SERVICE_SID

RESIDENT = "+48600100200"


def basic(sid: str = ACCOUNT_SID, token: str = AUTH_TOKEN) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


@pytest.fixture
async def standin() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as running:
        yield running


async def post(
    standin: TwilioStandIn, form: dict[str, str], *, auth: str | None = None, account: str = ACCOUNT_SID
) -> tuple[int, dict[str, Any], dict[str, str]]:
    url = f"{standin.base_url}/2010-04-01/Accounts/{account}/Messages.json"
    headers = {"Authorization": auth if auth is not None else basic()}
    async with aiohttp.ClientSession() as session, session.post(url, data=form, headers=headers) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body, dict(response.headers)


def twilio_error(status: int, code: int) -> dict[str, Any]:
    return {"code": code, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


async def test_created_message_looks_like_twilios(standin: TwilioStandIn) -> None:
    form = {"To": RESIDENT, "From": SENDER, "Body": "Dziękujemy!", "StatusCallback": "https://x.example/status"}
    status, body, headers = await post(standin, form)
    assert status == 201 and headers["Content-Type"].startswith("application/json")
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued" and body["direction"] == "outbound-api"
    assert (body["to"], body["from"], body["body"]) == (RESIDENT, SENDER, "Dziękujemy!")
    assert body["num_segments"] == "1" and body["num_media"] == "0"
    assert body["error_code"] is None and body["error_message"] is None and body["price"] is None
    assert body["account_sid"] == ACCOUNT_SID and body["api_version"] == "2010-04-01"
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", body["date_created"])
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{body['sid']}.json"
    [request] = standin.requests
    assert request.form == form and request.path == standin.messages_path()
    [message] = standin.messages
    assert (message.sid, message.status_callback, message.num_segments) == (body["sid"], form["StatusCallback"], 1)


@pytest.mark.parametrize(
    ("label", "text", "segments"),
    [
        ("GSM-7 160", "a" * 160, "1"),
        ("GSM-7 161", "a" * 161, "2"),
        ("Polish 71", "ą" * 71, "2"),
    ],
)
async def test_num_segments_table(standin: TwilioStandIn, label: str, text: str, segments: str) -> None:
    _, body, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": text})
    assert body["num_segments"] == segments, label


async def test_messaging_service_message_is_accepted_without_a_sender_yet(standin: TwilioStandIn) -> None:
    status, body, _ = await post(standin, {"To": RESIDENT, "MessagingServiceSid": SERVICE_SID, "Body": "Tak"})
    assert status == 201
    assert (body["status"], body["from"], body["messaging_service_sid"], body["num_segments"]) == (
        "accepted",
        None,
        SERVICE_SID,
        "0",
    )


@pytest.mark.parametrize(
    ("label", "form", "auth", "account", "status", "code"),
    [
        ("wrong token", {"To": RESIDENT, "From": SENDER, "Body": "x"}, basic(token="nope"), ACCOUNT_SID, 401, 20003),
        ("no credentials", {"To": RESIDENT, "From": SENDER, "Body": "x"}, "", ACCOUNT_SID, 401, 20003),
        ("other account in the path", {"To": RESIDENT, "From": SENDER, "Body": "x"}, None, "AC" + "9" * 32, 404, 20404),
        ("missing To", {"From": SENDER, "Body": "x"}, None, ACCOUNT_SID, 400, 21604),
        ("missing Body", {"To": RESIDENT, "From": SENDER}, None, ACCOUNT_SID, 400, 21602),
        ("empty Body", {"To": RESIDENT, "From": SENDER, "Body": ""}, None, ACCOUNT_SID, 400, 21602),
        ("missing From and service", {"To": RESIDENT, "Body": "x"}, None, ACCOUNT_SID, 400, 21603),
        ("body over 1600", {"To": RESIDENT, "From": SENDER, "Body": "a" * 1601}, None, ACCOUNT_SID, 400, 21617),
    ],
)
async def test_refusals_table(
    standin: TwilioStandIn,
    label: str,
    form: dict[str, str],
    auth: str | None,
    account: str,
    status: int,
    code: int,
) -> None:
    got_status, body, _ = await post(standin, form, auth=auth, account=account)
    assert got_status == status, label
    assert {key: body[key] for key in ("code", "more_info", "status")} == twilio_error(status, code), label
    assert isinstance(body["message"], str) and body["message"]
    assert not standin.messages and len(standin.requests) == 1


async def test_authentication_error_is_twilios_exact_json(standin: TwilioStandIn) -> None:
    _, body, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"}, auth=basic(token="nope"))
    assert body == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_script_by_address_answers_every_time_and_spares_others(standin: TwilioStandIn) -> None:
    standin.script(to=RESIDENT, status=400, code=21610)
    form = {"To": RESIDENT, "From": SENDER, "Body": "x"}
    for _ in range(2):
        status, body, _ = await post(standin, form)
        assert (status, body["code"]) == (400, 21610)
    status, _, _ = await post(standin, {**form, "To": "+48600100300"})
    assert status == 201
    # a WhatsApp address matches its bare number
    status, _, _ = await post(standin, {**form, "To": "whatsapp:" + RESIDENT, "From": "whatsapp:" + SENDER})
    assert status == 400


async def test_script_times_and_fail_next_in_order(standin: TwilioStandIn) -> None:
    standin.script(to=RESIDENT, status=400, code=21211, times=1)
    standin.fail_next(status=429, code=20429, retry_after="3", times=2)
    standin.fail_next(status=500, code=20500)
    form = {"To": RESIDENT, "From": SENDER, "Body": "x"}
    answers = []
    for _ in range(5):
        status, body, headers = await post(standin, form)
        answers.append((status, body.get("code"), headers.get("Retry-After")))
    assert answers == [
        (400, 21211, None),
        (429, 20429, "3"),
        (429, 20429, "3"),
        (500, 20500, None),
        (201, None, None),
    ]
    assert len(standin.requests) == 5 and len(standin.messages) == 1


async def test_script_quotes_the_number_as_twilio_does(standin: TwilioStandIn) -> None:
    standin.script(to=RESIDENT, status=400, code=21211)
    _, body, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})
    assert RESIDENT in body["message"]  # why adapters must never log Twilio's message


async def test_drop_closes_without_an_answer(standin: TwilioStandIn) -> None:
    standin.drop_next()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})
    assert len(standin.requests) == 1 and not standin.messages
    status, _, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})
    assert status == 201


async def test_hang_never_answers_until_stopped() -> None:
    standin = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    await standin.start()
    standin.hang_next()
    try:
        with pytest.raises(TimeoutError):
            url = standin.base_url + standin.messages_path()
            timeout = aiohttp.ClientTimeout(total=0.3)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data={"To": RESIDENT}, headers={"Authorization": basic()}),
            ):
                pass
    finally:
        await standin.stop()
    assert len(standin.requests) == 1


async def test_reset_forgets_everything(standin: TwilioStandIn) -> None:
    standin.fail_next(status=500, code=20500)
    await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})
    standin.reset()
    assert not standin.requests and not standin.messages
    status, _, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})
    assert status == 201


def test_base_url_needs_a_start() -> None:
    with pytest.raises(RuntimeError):
        _ = TwilioStandIn().base_url


# --- signatures and callbacks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "url", "form"),
    [
        ("empty form", "https://example.gda.pl/webhooks/twilio/status", {}),
        ("status", "https://example.gda.pl/webhooks/twilio/status", {"MessageSid": "SM1", "MessageStatus": "sent"}),
        ("query and port", "https://example.gda.pl:8443/hook?a=1&b=2", {"Body": "Zażółć", "From": RESIDENT}),
        ("unicode and symbols", "http://127.0.0.1:8080/x", {"Body": "Дякуємо 👍 & = +", "To": "whatsapp:+48"}),
        ("names sorted case-sensitively", "https://e.pl/h", {"b": "1", "B": "2", "a": "3", "A": "4"}),
    ],
)
def test_signature_is_twilios_table(label: str, url: str, form: dict[str, str]) -> None:
    ours = twilio_signature(AUTH_TOKEN, url, form)
    validator = RequestValidator(AUTH_TOKEN)
    assert ours == validator.compute_signature(url, form), label
    assert validator.validate(url, form, ours), label
    assert not RequestValidator("other").validate(url, form, ours), label


class Receiver:
    """Our side of a webhook: records what arrives and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/twilio/{kind}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        posted = await request.post()
        form = {name: value for name, value in posted.items() if isinstance(value, str)}
        self.received.append((str(request.url), dict(request.headers), form))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = Receiver()
    await running.start()
    yield running
    await running.stop()


def channel_for(standin: TwilioStandIn, public_url: str, **overrides: Any) -> TwilioChannel:
    kwargs: dict[str, Any] = {
        "name": "sms",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sender": SENDER,
        "api_base_url": standin.base_url,
        "public_url": public_url,
    }
    kwargs.update(overrides)
    return TwilioChannel(**kwargs)


@pytest.mark.parametrize(
    ("label", "status", "error_code"),
    [("delivered", "delivered", None), ("undelivered", "undelivered", "30003"), ("sent", "sent", None)],
)
async def test_deliver_status_is_signed_and_parses(
    standin: TwilioStandIn,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    status: str,
    error_code: str | None,
) -> None:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    channel = channel_for(standin, receiver.url)
    await channel.start()
    try:
        sent = (await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))).provider_id
    finally:
        await channel.close()
    assert await standin.deliver_status(sent, status, error_code=error_code) == 200
    [(url, headers, form)] = receiver.received
    assert url == receiver.url + "/webhooks/twilio/status"
    request = Request(url=url, headers=headers, form=form)
    assert channel.verify(request), label
    assert headers[SIGNATURE_HEADER] == twilio_signature(AUTH_TOKEN, url, form)
    [parsed] = channel.parse_status(request)
    assert (parsed.provider_id, parsed.status, parsed.error_code) == (sent, status, error_code), label
    assert ("ErrorCode" in form) is (error_code is not None)


async def test_deliver_status_to_another_url(standin: TwilioStandIn, receiver: Receiver) -> None:
    _, body, _ = await post(standin, {"To": RESIDENT, "MessagingServiceSid": SERVICE_SID, "Body": "x"})
    url = receiver.url + "/webhooks/twilio/status?attempt=2"
    assert await standin.deliver_status(body["sid"], "failed", error_code="30008", url=url) == 200
    [(got_url, headers, form)] = receiver.received
    assert got_url == url and form["MessagingServiceSid"] == SERVICE_SID
    assert RequestValidator(AUTH_TOKEN).validate(url, form, headers[SIGNATURE_HEADER])


async def test_a_fragment_is_neither_sent_nor_signed(standin: TwilioStandIn, receiver: Receiver) -> None:
    """Twilio's connection overrides ride in the URL's fragment; the request and its signature are the
    URL without it."""
    _, body, _ = await post(standin, {"To": RESIDENT, "MessagingServiceSid": SERVICE_SID, "Body": "x"})
    url = receiver.url + "/webhooks/twilio/status"
    assert await standin.deliver_status(body["sid"], "sent", url=url + "#rc=5&rp=all") == 200
    [(got_url, headers, form)] = receiver.received
    assert got_url == url
    assert RequestValidator(AUTH_TOKEN).validate(url, form, headers[SIGNATURE_HEADER])


async def test_deliver_status_needs_a_known_message_and_a_url(standin: TwilioStandIn) -> None:
    with pytest.raises(KeyError):
        await standin.deliver_status("SM" + "0" * 32, "sent")
    _, body, _ = await post(standin, {"To": RESIDENT, "From": SENDER, "Body": "x"})  # no StatusCallback
    with pytest.raises(ValueError):
        await standin.deliver_status(body["sid"], "sent")


@pytest.mark.parametrize(
    ("label", "from_", "opt_out_type", "expected"),
    [
        ("SMS reply", RESIDENT, None, ("sms", RESIDENT, "Tak", False)),
        ("WhatsApp reply", "whatsapp:" + RESIDENT, None, ("whatsapp", RESIDENT, "Tak", False)),
        ("Advanced Opt-Out STOP", RESIDENT, "STOP", ("sms", RESIDENT, "Tak", True)),
    ],
)
async def test_deliver_inbound_is_signed_and_parses(
    standin: TwilioStandIn,
    receiver: Receiver,
    label: str,
    from_: str,
    opt_out_type: str | None,
    expected: tuple[str, str, str, bool],
) -> None:
    url = receiver.url + "/webhooks/twilio/sms"
    status, sid = await standin.deliver_inbound(url, from_=from_, to=SENDER, body="Tak", opt_out_type=opt_out_type)
    assert status == 200
    [(got_url, headers, form)] = receiver.received
    request = Request(url=got_url, headers=headers, form=form)
    channel = channel_for(standin, receiver.url)
    assert channel.verify(request), label
    [inbound] = channel.parse_inbound(request)
    assert inbound.provider_id == sid, label
    assert (inbound.channel, inbound.address, inbound.text, inbound.opted_out_by_provider) == expected, label


# --- steady faults -----------------------------------------------------------------------------------

EVERY_FAULT = SteadyFaults(
    rate_limited=1 / 7,
    server_error=1 / 7,
    unavailable=1 / 7,
    slow=1 / 7,
    hang=1 / 7,
    drop=1 / 7,
    retry_after=7,
    slow_seconds=0.1,
    hang_seconds=5.0,
    seed=5,
)
CLIENT_TIMEOUT = 2.0  # well above a slow answer (a loaded CI machine), shorter than a hang


def test_steady_draws_are_reproducible_and_keep_their_shares() -> None:
    faults = SteadyFaults(rate_limited=0.2, server_error=0.1, hang=0.05, seed=11)
    requests = [(f"+48600{n:06d}", attempt) for n in range(2000) for attempt in (1, 2)]
    draws = [faults.draw(to, attempt) for to, attempt in requests]
    assert draws == [faults.draw(to, attempt) for to, attempt in requests]  # whatever the order of arrival
    counts = Counter(draws)
    for kind, share in [*faults.shares(), ("ok", 0.65)]:
        assert counts[kind] / len(draws) == pytest.approx(share, abs=0.02), kind
    reseeded = SteadyFaults(rate_limited=0.2, server_error=0.1, hang=0.05, seed=12)
    assert [reseeded.draw(to, attempt) for to, attempt in requests] != draws


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("shares over 1", {"rate_limited": 0.6, "drop": 0.5}),
        ("negative share", {"slow": -0.1}),
        ("retry_after under a second", {"retry_after": 0}),
        ("no hang", {"hang_seconds": 0.0}),
    ],
)
def test_steady_faults_refuse_nonsense(label: str, overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SteadyFaults(**overrides)  # type: ignore[arg-type]


async def attempt(standin: TwilioStandIn, to: str) -> tuple[tuple[object, ...], float]:
    """One message request with a client timeout: (what came back, seconds it took)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    form = {"To": to, "From": SENDER, "Body": "Czy jeździsz tramwajem?"}
    try:
        async with asyncio.timeout(CLIENT_TIMEOUT):
            status, body, headers = await post(standin, form)
    except TimeoutError:
        return ("timeout",), loop.time() - started
    except aiohttp.ServerDisconnectedError:
        return ("dropped",), loop.time() - started
    return (status, body.get("code"), headers.get("Retry-After")), loop.time() - started


async def test_steady_faults_meet_their_share_and_log_what_took_effect(standin: TwilioStandIn) -> None:
    standin.steady(EVERY_FAULT)
    recipients = [f"+48600{n:06d}" for n in range(60)]
    answers = dict(zip(recipients, await asyncio.gather(*(attempt(standin, to) for to in recipients)), strict=True))
    log = {entry.recipient: entry for entry in standin.steady_log}
    assert sorted(log) == recipients and {entry.number for entry in log.values()} == {1}
    assert {entry.fault for entry in log.values()} == {"ok", *(kind for kind, _ in EVERY_FAULT.shares())}
    expected: dict[str, tuple[object, ...]] = {
        "ok": (201, None, None),
        "slow": (201, None, None),
        "rate_limited": (429, 20429, "7"),
        "server_error": (500, 20500, None),
        "unavailable": (503, 20503, None),
        "hang": ("timeout",),
        "drop": ("dropped",),
    }
    assert {to: answer for to, (answer, _) in answers.items()} == {to: expected[log[to].fault] for to in recipients}
    assert all(seconds >= EVERY_FAULT.slow_seconds for to, (_, seconds) in answers.items() if log[to].fault == "slow")
    # A hang and a drop lose only the answer: those messages exist, as the log says; refusals created nothing.
    assert {m.to: m.sid for m in standin.messages} == {to: e.message_id for to, e in log.items() if e.took_effect}
    assert {log[m.to].fault for m in standin.messages} == {"ok", "slow", "hang", "drop"}


async def test_scripted_faults_come_before_steady_ones_and_reset_ends_them(standin: TwilioStandIn) -> None:
    standin.steady(SteadyFaults(server_error=1.0))
    standin.fail_next(status=400, code=21211)
    form = {"To": RESIDENT, "From": SENDER, "Body": "x"}
    assert [(await post(standin, form))[0] for _ in range(2)] == [400, 500]
    assert [(e.recipient, e.number, e.fault, e.took_effect) for e in standin.steady_log] == [
        (RESIDENT, 1, "server_error", False)
    ]
    standin.reset()
    assert (await post(standin, form))[0] == 201 and standin.steady_log == []
