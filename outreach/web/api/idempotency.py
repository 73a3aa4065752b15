"""Idempotency-Key on the API's POSTs: a retried write acts once. The first request with a key
claims it (per token) before it runs; its answer (status and body) is kept for KEY_LIFETIME and
replayed to any retry with the same key and the same request; the same key with another request is
422, and a retry while the first still runs is 409. A request that fails on the service's side (5xx,
an outage) gives its key up, so its retry runs afresh; a claim whose process died is given up after
STALE_CLAIM."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from outreach.bootstrap import Services
from outreach.web.api.errors import ApiError, error_response
from storage.db import STORE_UNAVAILABLE
from storage.idempotency import IdempotencyRepository

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)
KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces: a UUID, a ULID, a request id
PURGE_BATCH = 100


def _fingerprint(request: web.Request, body: bytes | None) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path_qs, request.content_type):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    if body is None:  # a streamed upload: its length stands for it
        digest.update(f"length:{request.content_length}".encode())
    else:
        digest.update(body)
    return digest.hexdigest()


async def idempotent(
    request: web.Request,
    services: Services,
    token_id: int,
    run: Callable[[], Awaitable[web.StreamResponse]],
    *,
    read_body: bool = True,
) -> web.StreamResponse:
    """`run` once per key: the request itself, or the answer it gave replayed."""
    key = request.headers.get(HEADER)
    if key is None:
        return await run()
    if not KEY.fullmatch(key):
        raise ApiError(400, "invalid_idempotency_key", f"{HEADER} takes 1 to 255 printable ASCII characters, no spaces")
    fingerprint = _fingerprint(request, await request.read() if read_body else None)
    now = services.clock()
    async with services.sessions() as session, session.begin():
        keys = IdempotencyRepository(session)
        await keys.purge_expired(now=now, limit=PURGE_BATCH)
        held = await keys.claim(
            token_id, key, fingerprint, now=now, expires_at=now + KEY_LIFETIME, stale_before=now - STALE_CLAIM
        )
    if held is not None:
        if held.fingerprint != fingerprint:
            raise ApiError(
                422, "idempotency_key_reused", f"this {HEADER} was used for another request; use a new key for it"
            )
        if held.status is None or held.body is None:
            raise ApiError(409, "idempotency_key_in_use", f"a request with this {HEADER} is still running; retry later")
        return web.Response(
            text=held.body, status=held.status, content_type="application/json", headers={REPLAYED_HEADER: "true"}
        )
    try:
        response = await run()
    except ApiError as error:
        response = error_response(error.status, error.code, error.message, details=error.details, headers=error.headers)
    except BaseException:
        await _release(services, token_id, key)
        raise
    if response.status >= 500 or not isinstance(response, web.Response) or response.text is None:
        await _release(services, token_id, key)
        return response
    async with services.sessions() as session, session.begin():
        await IdempotencyRepository(session).complete(token_id, key, status=response.status, body=response.text)
    return response


async def _release(services: Services, token_id: int, key: str) -> None:
    try:
        async with services.sessions() as session, session.begin():
            await IdempotencyRepository(session).release(token_id, key)
    except STORE_UNAVAILABLE:  # the claim goes stale by itself
        log.warning("an idempotency key's claim could not be given up; it lapses in %s", STALE_CLAIM)
