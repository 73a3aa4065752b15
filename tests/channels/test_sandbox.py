"""The sandbox channel, courier style: tables of requests in and expected results out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from channels.base import Channel, Choice, InvalidRequest, Outbound, Request
from channels.sandbox import SECRET_HEADER, SandboxChannel, sandbox_request

SECRET = "s3cret"


@pytest.fixture
def channel() -> SandboxChannel:
    return SandboxChannel("sms", SECRET)


def test_sandbox_is_a_channel(channel: SandboxChannel) -> None:
    assert isinstance(channel, Channel)


@pytest.mark.parametrize(
    ("label", "headers", "verified"),
    [
        ("right secret", {SECRET_HEADER: SECRET}, True),
        ("no secret", {}, False),
        ("wrong secret", {SECRET_HEADER: "s3cre"}, False),
        ("longer secret", {SECRET_HEADER: SECRET + "x"}, False),
        ("other header", {"X-Other": SECRET}, False),
    ],
)
def test_verify_table(channel: SandboxChannel, label: str, headers: dict[str, str], verified: bool) -> None:
    assert channel.verify(Request(url="/webhooks/sandbox/sms", headers=headers)) is verified, label


@pytest.mark.parametrize(
    ("label", "form", "expected"),
    [
        ("reply", {"id": "A1", "from": "+48600100200", "text": "tak"}, ("A1", "+48600100200", "tak")),
        (
            "empty text is a reply",
            {"id": "A2", "from": "+48600100200", "text": ""},
            ("A2", "+48600100200", ""),
        ),
        ("unicode kept", {"id": "A3", "from": "1", "text": " Так 👍 "}, ("A3", "1", " Так 👍 ")),
        ("missing text", {"id": "A4", "from": "+48600100200"}, InvalidRequest),
        ("missing id", {"from": "+48600100200", "text": "tak"}, InvalidRequest),
        ("empty from", {"id": "A5", "from": "", "text": "tak"}, InvalidRequest),
    ],
)
def test_parse_inbound_table(
    channel: SandboxChannel, label: str, form: dict[str, str], expected: tuple[str, str, str] | type
) -> None:
    request = Request(url="/webhooks/sandbox/sms", headers={SECRET_HEADER: SECRET}, form=form)
    if isinstance(expected, type):
        with pytest.raises(expected):
            channel.parse_inbound(request)
        return
    [inbound] = channel.parse_inbound(request)
    assert (inbound.provider_id, inbound.address, inbound.text) == expected, label
    assert inbound.channel == "sms" and inbound.received_at.tzinfo is not None


def test_sandbox_request_builds_what_parse_inbound_reads(channel: SandboxChannel) -> None:
    request = sandbox_request("sms", SECRET, provider_id="X", address="+48600100200", text="2")
    assert channel.verify(request)
    [inbound] = channel.parse_inbound(request)
    assert (inbound.provider_id, inbound.text) == ("X", "2")


@pytest.mark.parametrize(
    ("label", "outbound", "delivered"),
    [
        ("plain text", Outbound("k1", "sms", "+48600100200", "Dziękujemy!"), "Dziękujemy!"),
        (
            "choices become numbered lines",
            Outbound(
                "k2",
                "sms",
                "+48600100200",
                "Jak często?",
                (Choice("d", "codziennie"), Choice("w", "co tydzień")),
            ),
            "Jak często?\n1) codziennie\n2) co tydzień",
        ),
    ],
)
async def test_send_table(label: str, outbound: Outbound, delivered: str, tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    channel = SandboxChannel("sms", SECRET, delivery_log=log)
    heard: list[tuple[str, str]] = []
    channel.subscribe(lambda message, text: heard.append((message.key, text)))
    sent = await channel.send(outbound)
    assert sent.provider_id.startswith("SB")
    assert channel.inbox[outbound.address] == [delivered], label
    assert heard == [(outbound.key, delivered)]
    # The delivery log names the message, never the address (personal data).
    assert json.loads(log.read_text()) == {"key": outbound.key, "channel": "sms", "pid": os.getpid()}
