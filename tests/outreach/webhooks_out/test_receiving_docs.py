"""docs/API.md's "Receiving webhooks" verification snippets, run as written against real deliveries:
the Python one executed, the shell one by bash with openssl. Both accept the delivery, refuse a body
changed by one byte, and refuse a delivery signed outside the replay window."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from outreach.bootstrap import Services
from outreach.webhooks_out.signing import signed_headers
from tests.outreach.helpers import launch
from tests.outreach.webhooks_out.helpers import subscribe
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber, Post

API_MD = Path(__file__).resolve().parents[3] / "docs" / "API.md"


def receiving_section() -> str:
    text = API_MD.read_text(encoding="utf-8")
    start = text.index("## Receiving webhooks\n")
    return text[start : text.index("\n## ", start + 1)]


def snippet(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", receiving_section(), flags=re.S)
    (found,) = [block for block in blocks if containing in block]
    return str(found)


def python_verify() -> Callable[[str, dict[str, str], bytes], None]:
    namespace: dict[str, Any] = {}
    exec(snippet("python", "def verify"), namespace)  # the documented code, as a subscriber copies it
    verify: Callable[[str, dict[str, str], bytes], None] = namespace["verify"]
    return verify


def shell_verify(secret: str, headers: dict[str, str], body: bytes, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "body.json").write_bytes(body)
    (folder / "verify.sh").write_text(snippet("sh", "openssl dgst"), encoding="utf-8")
    environment = os.environ | {
        "SECRET": secret,
        "WEBHOOK_ID": headers["webhook-id"],
        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
        "WEBHOOK_SIGNATURE": headers["webhook-signature"],
    }
    return subprocess.run(
        ["bash", "verify.sh"], cwd=folder, env=environment, capture_output=True, text=True, timeout=30, check=False
    )


async def a_delivery(services: Services) -> tuple[str, Post]:
    async with LoopbackSubscriber() as subscriber:
        made = await subscribe(services, subscriber, events=["campaign.status_changed"])
        await launch(services)
        await services.webhooks.drain()
    (post,) = subscriber.posts
    return made.secret, post


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the snippets, not the store, are tested
async def test_the_documented_snippets_verify_a_real_delivery(services: Services, tmp_path: Path) -> None:
    secret, post = await a_delivery(services)
    headers = lowered(post.headers)
    verify = python_verify()
    verify(secret, headers, post.body)
    accepted = shell_verify(secret, headers, post.body, tmp_path)
    assert (accepted.returncode, accepted.stdout.strip()) == (0, "verified"), accepted.stderr

    changed = post.body.replace(b"active", b"closed")
    with pytest.raises(ValueError, match="no signature matches"):
        verify(secret, headers, changed)
    refused = shell_verify(secret, headers, changed, tmp_path)
    assert (refused.returncode, refused.stdout.strip()) == (1, "no signature matches")

    stale = signed_headers([secret], headers["webhook-id"], int(time.time()) - 301, post.body)
    with pytest.raises(ValueError, match="replay window"):
        verify(secret, stale, post.body)
    late = shell_verify(secret, stale, post.body, tmp_path)
    assert (late.returncode, late.stdout.strip()) == (1, "outside the replay window")


def test_the_shell_snippet_accepts_either_signature_during_a_rotation(tmp_path: Path) -> None:
    old, new = "whsec_" + "A" * 43 + "=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"campaign.status_changed"}'
    headers = signed_headers([new, old], "msg_1", int(time.time()), body)
    for secret in (old, new):
        assert shell_verify(secret, headers, body, tmp_path).stdout.strip() == "verified"
        python_verify()(secret, headers, body)
