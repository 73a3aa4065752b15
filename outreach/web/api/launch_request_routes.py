"""GET /api/v1/campaigns/{id}/launch-requests: the two-person rule's requests of a campaign, latest
first (outreach.campaigns.launch_approval), so that another system can see why a launch waits without
reading a 409. Officials appear as `official:ID`, their account as the audit log names it, never by
e-mail. Reading only: a token can neither ask for nor give an approval."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from outreach.campaigns.launch_approval import version_hash
from outreach.web.api.registry import ApiRoute, Call
from storage.db import read_session
from storage.launch_request_tables import LaunchRequest
from storage.launch_requests import LaunchRequestRepository

OfficialLabel = str  # "official:ID"
LaunchRequestState = Literal["waiting", "approved", "rejected", "withdrawn"]  # LAUNCH_REQUEST_STATES


def official_label(official_id: int | None) -> OfficialLabel | None:
    """An official as the audit log names them (actor kind and id), without their e-mail."""
    return None if official_id is None else f"official:{official_id}"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LaunchRequestInfo(_Out):
    id: int
    state: LaunchRequestState = Field(
        description="waiting: nobody decided yet; approved or rejected by an approver; withdrawn: a newer"
        " request replaced it (the campaign changed, or its requester asked again)."
    )
    version_hash: str = Field(description="The sha256 of the campaign's definition when asked.")
    current: bool = Field(
        description="Whether it is for the campaign's current version: an edit since voids an approval."
    )
    audience: int = Field(description="Residents a launch would have asked when it was asked.")
    requested_at: datetime
    requested_by: OfficialLabel = Field(description="The official who asked, as official:ID (the audit log's id).")
    decided_at: datetime | None
    decided_by: OfficialLabel | None = Field(description="The approver who decided, as official:ID.")
    comment: str | None = Field(description="The approver's words, if any.")


class LaunchRequestList(_Out):
    data: list[LaunchRequestInfo] = Field(description="Latest first.")


def request_info(request: LaunchRequest, current_version: str) -> LaunchRequestInfo:
    assert request.id is not None
    requested_by = official_label(request.requested_by)
    assert requested_by is not None
    return LaunchRequestInfo(
        id=request.id,
        state=cast(LaunchRequestState, request.state),  # validated by the model all the same
        version_hash=request.version_hash,
        current=request.version_hash == current_version,
        audience=request.audience,
        requested_at=request.requested_at,
        requested_by=requested_by,
        decided_at=request.decided_at,
        decided_by=official_label(request.decided_by),
        comment=request.comment,
    )


async def list_launch_requests(call: Call) -> LaunchRequestList:
    record = call.record
    assert record.id is not None
    async with read_session(call.services.sessions) as session:
        requests = await LaunchRequestRepository(session).of_campaign(record.id)
    current = version_hash(record.definition)
    return LaunchRequestList(data=[request_info(request, current) for request in requests])


LAUNCH_REQUEST_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/launch-requests",
        list_launch_requests,
        "listLaunchRequests",
        "Launch requests of a campaign",
        "campaigns",
        scope="campaigns:read",
        response=LaunchRequestList,
        description="The two-person rule's requests to launch this campaign, latest first: over"
        " OUTREACH_ADMIN_APPROVAL_THRESHOLD residents a launch needs an approval of the current version by an"
        " approver other than who asked. Officials ask and decide on the pages or at the CLI, never a token.",
    ),
]
