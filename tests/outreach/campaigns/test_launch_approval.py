"""The two-person rule of a large launch (outreach.campaigns.launch_approval): over the threshold a draft
launches only with an approval of its current version by an approver who did not ask for it; an edit
voids the approval; every step is in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import col

from flows.campaign import Campaign
from flows.loader import load_campaign
from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.campaigns import fatigue
from outreach.campaigns.commands import CampaignCommandError, create_campaign, ensure_unchanged, launch_campaign
from outreach.campaigns.drafts import revise_draft
from outreach.campaigns.fatigue import DEFAULT_FATIGUE, fatigue_split
from outreach.campaigns.launch_approval import (
    ApprovalForbidden,
    ApprovalRequired,
    LaunchApprovalError,
    decide,
    request_launch,
    version_hash,
    waiting_for,
)
from outreach.officials.accounts import account_policy, acting, add_official
from storage.audit import AuditFilter, AuditRepository
from storage.db import read_session
from storage.launch_request_tables import LaunchRequest
from storage.official_tables import Official
from storage.officials import OfficialRepository
from storage.tables import CampaignRecord
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML

THRESHOLD = 2
OPERATOR = Actor("cli", "operator", "operator")


async def account(services: Services, email: str, role: str) -> Official:
    policy = account_policy(services.settings)
    await add_official(services.sessions, email, role, now=services.clock(), policy=policy)
    async with read_session(services.sessions) as session:
        official = await OfficialRepository(session).by_email(email)
    assert official is not None
    return official


async def draft_for(services: Services, residents: int) -> CampaignRecord:
    for number in range(residents):
        await add_resident(services, phone=f"+4860010030{number}")
    return await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)


async def launch(services: Services, record: CampaignRecord, actor: Actor = OPERATOR) -> str:
    report = await launch_campaign(
        services.sessions, record.slug, clock=services.clock, actor=actor, approval_threshold=THRESHOLD
    )
    return report.status


async def ask(services: Services, record: CampaignRecord, requester: Official, audience: int = 3) -> int:
    requested = await request_launch(
        services.sessions,
        record,
        requester,
        audience=audience,
        threshold=THRESHOLD,
        clock=services.clock,
        actor=acting(requester),
    )
    assert requested.request.id is not None
    return requested.request.id


async def decided(
    services: Services, request_id: int, official: Official, *, approve: bool, comment: str | None = None
) -> LaunchRequest:
    """`official` approves or rejects the request, acting under their own name."""
    return await decide(
        services.sessions,
        request_id,
        official,
        approve=approve,
        comment=comment,
        clock=services.clock,
        actor=acting(official),
    )


async def actions(services: Services) -> list[tuple[str, str, dict[str, object]]]:
    async with read_session(services.sessions) as session:
        entries = await AuditRepository(session).page(AuditFilter(), before_id=None, limit=50)
    return [(entry.action, entry.actor_label, dict(entry.details)) for entry in reversed(entries)]


async def test_a_launch_up_to_the_threshold_needs_no_approval(services: Services) -> None:
    record = await draft_for(services, THRESHOLD)
    assert await launch(services, record) == "active"


async def test_over_the_threshold_a_launch_waits_for_a_second_officials_approval(services: Services) -> None:
    record = await draft_for(services, THRESHOLD + 1)
    editor = await account(services, "ewa@gdansk.gda.pl", "editor")
    approver = await account(services, "adam@gdansk.gda.pl", "approver")
    other_editor = await account(services, "olga@gdansk.gda.pl", "editor")

    with pytest.raises(ApprovalRequired) as refused:
        await launch(services, record)
    assert (refused.value.audience, refused.value.request) == (3, None)
    assert "request-launch" in str(refused.value)

    request_id = await ask(services, record, editor)
    assert [w.request.id for w in await waiting_for(services.sessions, approver)] == [request_id]
    assert await waiting_for(services.sessions, other_editor) == []  # may not approve: not told
    with pytest.raises(ApprovalRequired) as still:
        await launch(services, record)
    assert still.value.request is not None and still.value.request.id == request_id and still.value.current

    for who in (other_editor, editor):  # an editor may not approve; the requester may not, whatever the role
        with pytest.raises(ApprovalForbidden):
            await decided(services, request_id, who, approve=True)
    decision = await decided(services, request_id, approver, approve=True, comment="ok")
    assert (decision.state, decision.decided_by, decision.comment) == ("approved", approver.id, "ok")
    assert await waiting_for(services.sessions, approver) == []

    assert await launch(services, record, acting(editor)) == "active"
    logged = await actions(services)
    assert [(action, label) for action, label, _ in logged] == [
        ("launch.refused", "operator"),
        ("launch.request", "ewa@gdansk.gda.pl"),
        ("launch.refused", "operator"),
        ("launch.approve", "adam@gdansk.gda.pl"),
        ("campaign.launch", "ewa@gdansk.gda.pl"),
    ]
    assert logged[-1][2] == {"slug": record.slug, "status": "active", "approval": request_id}


async def test_an_edit_voids_the_approval_of_the_version_before_it(services: Services) -> None:
    record = await draft_for(services, THRESHOLD + 1)
    editor = await account(services, "ewa@gdansk.gda.pl", "editor")
    approver = await account(services, "adam@gdansk.gda.pl", "admin")
    request_id = await ask(services, record, editor)
    await decided(services, request_id, approver, approve=True)

    edited = dict(record.definition) | {"name": "Tramwaj na Morenę (poprawiony)"}
    assert version_hash(edited) != version_hash(record.definition)
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(CampaignRecord).where(col(CampaignRecord.id) == record.id).values(definition=edited)
        )

    with pytest.raises(ApprovalRequired) as refused:
        await launch(services, record)
    assert refused.value.request is not None and not refused.value.current
    assert "changed since launch request" in str(refused.value)

    # A request waiting when the campaign changed can no longer be approved either.
    second = await ask(services, record, editor)
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(CampaignRecord).where(col(CampaignRecord.id) == record.id).values(definition=dict(record.definition))
        )
    assert await waiting_for(services.sessions, approver) == []
    with pytest.raises(LaunchApprovalError, match="changed since"):
        await decided(services, second, approver, approve=True)


async def test_a_viewer_may_not_ask_and_a_rejection_keeps_the_launch_refused(services: Services) -> None:
    record = await draft_for(services, THRESHOLD + 1)
    viewer = await account(services, "wiktor@gdansk.gda.pl", "viewer")
    editor = await account(services, "ewa@gdansk.gda.pl", "editor")
    approver = await account(services, "adam@gdansk.gda.pl", "approver")
    with pytest.raises(ApprovalForbidden):
        await ask(services, record, viewer)
    with pytest.raises(LaunchApprovalError, match="needs no approval"):
        await ask(services, record, editor, audience=THRESHOLD)

    own = await ask(services, record, approver)  # an approver may ask too, but not approve their own
    with pytest.raises(ApprovalForbidden, match="you asked for this launch"):
        await decided(services, own, approver, approve=True)

    request_id = await ask(services, record, editor)  # withdraws the approver's own request
    await decided(services, request_id, approver, approve=False, comment="za drogo")
    with pytest.raises(ApprovalRequired, match="was rejected"):
        await launch(services, record)
    with pytest.raises(LaunchApprovalError, match="rejected already"):
        await decided(services, request_id, approver, approve=True)


async def test_a_launch_refuses_a_campaign_edited_after_its_checks_read_it(services: Services) -> None:
    record = await draft_for(services, 1)
    flow = load_campaign(CAMPAIGN_YAML)
    await revise_draft(
        services.sessions, record.slug, flow.model_copy(update={"name": "Inna nazwa"}), clock=services.clock
    )
    async with services.sessions() as session, session.begin():
        with pytest.raises(CampaignCommandError, match="changed while it was being launched"):
            await ensure_unchanged(session, record)  # `record` as the launch's checks read it, before the save


async def test_the_rule_reads_the_audience_only_as_far_as_the_threshold_and_a_refusal_counts_it_all(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: the rule read a draft's whole audience before every launch, as a preview does; a city's
    500,000 took minutes. Now the pages stop once more than the threshold are eligible, and only a
    refusal's message reads on, for its exact figure."""
    monkeypatch.setattr(fatigue, "READ_PAGE", 2)
    record = await draft_for(services, 7)
    assert record.id is not None
    flow = Campaign.model_validate(record.definition)
    now = services.clock()
    split = await fatigue_split(
        services.sessions, record.id, flow, now=now, fatigue=DEFAULT_FATIGUE, stop_above=THRESHOLD
    )
    assert len(split.eligible) == 4  # two pages of two: the second shows more than THRESHOLD
    with pytest.raises(ApprovalRequired) as refused:
        await launch(services, record)
    assert refused.value.audience == 7
