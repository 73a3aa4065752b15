"""Launch requests: an official asks to launch a campaign too large to launch alone, and a second
official with the approver role approves or rejects it (issue 21).

A request is bound to one version of the campaign: `version_hash` is the sha256 of its stored
definition when asked (outreach.campaigns.launch_approval.version_hash), so an approval of an
earlier version approves nothing once the campaign is edited."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime

COMMENT_LENGTH = 500
# waiting: asked, nobody decided yet; approved / rejected: an approver decided; withdrawn: a newer
# request replaced it (the campaign changed, or its requester asked again).
LAUNCH_REQUEST_STATES = ("waiting", "approved", "rejected", "withdrawn")


class LaunchRequest(SQLModel, table=True):
    __tablename__ = "launch_requests"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    version_hash: str = Field(max_length=64)  # sha256 hex of the campaign's definition when asked
    audience: int  # residents a launch would have asked when asked (the figure the approver saw)
    state: str = Field(max_length=16)  # LAUNCH_REQUEST_STATES
    requested_by: int = Field(foreign_key="officials.id")
    requested_at: datetime = Field(sa_type=UtcDateTime)
    decided_by: int | None = Field(default=None, foreign_key="officials.id")
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    comment: str | None = Field(default=None, max_length=COMMENT_LENGTH)  # the approver's words, if any
