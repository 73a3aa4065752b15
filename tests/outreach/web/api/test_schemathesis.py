"""A property-based run of schemathesis against the OpenAPI document the running service serves:
for every operation, generated requests (valid ones, and invalid ones) must never get a 5xx, and
every answer must be documented and match its schema."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.campaigns.import_jobs import ImportOptions, create_job
from outreach.web.api.application import API_ROUTES
from outreach.web.app import create_app
from storage.residents import OnMatch
from tests.conftest import DATABASES
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import bearer, seeded_survey, token
from tests.outreach.webhooks_out.dns import StaticResolver

OPERATOR = Actor("official", "1", "test operator")

SEEN = web.AppKey("seen", Counter[tuple[str, str, int]])

# Per operation, mode and set of fixed parameters (derandomized: the same requests every run). 15 reach
# every handler (the test checks it) in half the time 30 took: 162 s of the CI suite at load 10.
EXAMPLES = 15
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance]
EXAMPLES_BY_OPERATION = {route.operation_id: route.body_example for route in API_ROUTES if route.body_example}


def exercise(
    strategy: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    checks: list[Any],
    examples: int = EXAMPLES,
) -> None:
    """Call the service with examples drawn from `strategy`; raises on the first finding."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=checks)

    check()


def run_schemathesis(
    base_url: str,
    headers: dict[str, str],
    fixed_ids: dict[str, int],
    *,
    only: Callable[[str, str], bool] = lambda method, path: True,
    examples: int = EXAMPLES,
) -> list[str]:
    """Every operation of the served document (or those `only` keeps, by method and path), with
    generated and with real ids; the findings."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    session = requests.Session()
    findings: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            findings.append(f"an operation of the document cannot be tested: {result.err()}")
            continue
        operation = result.ok()
        if not only(operation.method.upper(), operation.path):
            continue
        names = [parameter.name for parameter in operation.path_parameters]
        choices: list[dict[str, Any] | None] = [None]
        if names:
            choices.append({name: fixed_ids[name] for name in names})
        runs: list[tuple[str, Any, list[Any]]] = []
        example = EXAMPLES_BY_OPERATION.get(str(operation.definition.raw.get("operationId")))
        if example is not None:  # the documented body: valid by construction, so it reaches the handler
            strategy = operation.as_strategy(
                GenerationMode.POSITIVE, body=example, headers=headers, media_type="application/json"
            )
            runs.append(("documented example", strategy, POSITIVE_CHECKS))
        for mode, checks in ((GenerationMode.POSITIVE, POSITIVE_CHECKS), (GenerationMode.NEGATIVE, NEGATIVE_CHECKS)):
            for path_parameters in choices:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters, headers=headers)
                runs.append((f"{mode.value}, ids {path_parameters}", strategy, checks))
        for label, strategy, checks in runs:
            try:
                exercise(strategy, base_url, session, headers, checks, examples)
            except Unsatisfiable:
                assert label.startswith("negative")  # nothing to make invalid: no query, no body
            except (Exception, BaseExceptionGroup) as error:  # a finding, reported with its operation
                findings.append(f"{operation.label} ({label}): {error}")
    session.close()
    return findings


async def _count(request: web.Request, response: web.StreamResponse) -> None:
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else "?"
    request.config_dict[SEEN][(request.method, path, response.status // 100)] += 1


@pytest.fixture
async def counted(services: Services) -> AsyncIterator[tuple[AppClient, Counter[tuple[str, str, int]]]]:
    """The API over a real socket, counting answers by (method, route, status class)."""
    app = create_app(services, run_background=False)
    app[SEEN] = Counter()
    app.on_response_prepare.append(_count)
    async with TestClient(TestServer(app)) as client:
        yield client, app[SEEN]


# One backend: PostgreSQL where it is selected, the stricter of the two (an int4 overflow or a bad cast
# is a 500 there first); both backends' storage is covered by the API's own tests.
@pytest.mark.parametrize("database_url", ["postgresql" if "postgresql" in DATABASES else DATABASES[0]], indirect=True)
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    services: Services, counted: tuple[AppClient, Counter[tuple[str, str, int]]]
) -> None:
    api, seen = counted
    object.__setattr__(services.settings, "api_rate_limit_per_minute", 1_000_000)
    # Subscribers' hosts resolve from a table (no network): the documented example's is public.
    services.subscriptions.resolver = StaticResolver({"hooks.example.org": ["93.184.215.14"]})
    subscribed = await services.subscriptions.subscribe(
        OPERATOR, url="https://hooks.example.org/a", events=["response.created"]
    )
    campaign_id = await seeded_survey(services)
    await services.webhooks.fan_out()  # the survey's answers, each a delivery (the worker is not running)
    admin = await token(services, "admin")
    await token(services, "responses:read")  # token 2: the one DELETE /tokens/{id} may revoke
    options = ImportOptions("PL", OnMatch.SKIP, "api")  # a job for GET /residents/imports/{id} (it stays queued)
    import_id = await create_job(
        services.sessions, options, actor=Actor.cli(), token_id=None, size=1, clock=services.clock
    )
    base_url = str(api.make_url("")).rstrip("/")
    fixed_ids = {"campaign_id": campaign_id, "token_id": 2, "subscriber_id": subscribed.subscriber.id or 0}
    fixed_ids |= {"delivery_id": 1, "import_id": import_id}
    findings = await asyncio.to_thread(run_schemathesis, base_url, bearer(admin), fixed_ids)
    assert not findings, "\n\n".join(findings)
    # The run reached every handler, not only the checks in front of them.
    succeeded = {(method, path) for method, path, kind in seen if kind == 2}
    unreached = [route.operation_id for route in API_ROUTES if (route.method, route.full_path) not in succeeded]
    assert not unreached, f"no generated request succeeded on {unreached}; seen: {sorted(seen.items())}"


WRITE_EXAMPLES = 4  # per write, mode and token: the writes' own tests cover them; this looks for 5xx
OTHER_SCOPES = ["campaigns:read", "responses:read", "responses:rows", "campaigns:write", "residents:write"]


def _is_write(method: str, path: str) -> bool:
    """The campaign writes and previews (the other writes have tests of their own)."""
    return path.startswith("/api/v1/campaigns") and (method == "POST" or path.endswith("/preview"))


@pytest.mark.parametrize("database_url", ["postgresql" if "postgresql" in DATABASES else DATABASES[0]], indirect=True)
async def test_schemathesis_writes_with_a_token_of_each_scope(
    services: Services, counted: tuple[AppClient, Counter[tuple[str, str, int]]]
) -> None:
    """The writes (and the campaign preview) with every other scope than admin: no 5xx, every answer
    documented, 403 where the scope falls short, and each write reached by the token that may."""
    api, seen = counted
    object.__setattr__(services.settings, "api_rate_limit_per_minute", 1_000_000)
    campaign_id = await seeded_survey(services)
    base_url = str(api.make_url("")).rstrip("/")
    for scope in OTHER_SCOPES:
        headers = bearer(await token(services, scope))
        findings = await asyncio.to_thread(
            run_schemathesis,
            base_url,
            headers,
            {"campaign_id": campaign_id, "token_id": 1},
            only=_is_write,
            examples=WRITE_EXAMPLES,
        )
        assert not findings, f"with {scope}:\n" + "\n\n".join(findings)
    succeeded = {(method, path) for method, path, kind in seen if kind == 2}
    writes = [route for route in API_ROUTES if route.scope == "campaigns:write"]
    unreached = [route.operation_id for route in writes if (route.method, route.full_path) not in succeeded]
    assert not unreached, f"no generated request succeeded on {unreached}"
