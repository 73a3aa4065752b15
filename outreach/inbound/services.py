"""What the inbound side takes from the wiring: a read-only view that `outreach.bootstrap.Services`
satisfies, so this room never imports the bootstrap that builds it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from channels.base import Channel
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.clock import Clock
from outreach.inbound.enrolment import District
from outreach.inbound.pipeline import InboundPipeline
from outreach.settings import Settings
from storage.db import SessionFactory


class InboundServices(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def sessions(self) -> SessionFactory: ...
    @property
    def pipeline(self) -> InboundPipeline: ...
    @property
    def channels(self) -> Mapping[str, Channel]: ...
    @property
    def definitions(self) -> CampaignDefinitions: ...
    @property
    def districts(self) -> list[District]: ...
