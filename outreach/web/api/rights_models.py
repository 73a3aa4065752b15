"""The pydantic models of the residents' rights endpoints (find, export, erase) and of the erasures
feed. The address travels in a JSON body only, never in a URL, so it stays out of access logs."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(
        min_length=1,
        max_length=320,
        description="Any of the resident's addresses in any form: +48600100200, 600 100 200 (the service's"
        " region), an email in any case, a Telegram chat id.",
    )


class FoundResidentInfo(_Out):
    resident: str = Field(description="The resident's pseudonym (never an address).")
    channels: list[str] = Field(description="The kinds of address they have: sms, whatsapp, telegram, email.")
    campaigns: int = Field(description="Campaigns that opened a conversation with them.")
    answers: int


class FoundResidents(_Out):
    residents: list[FoundResidentInfo] = Field(description="Normally one; empty when nobody has the address.")


class ResidentExport(_Out):
    residents: list[dict[str, Any]] = Field(
        description="Everything held about each resident the address names: resident (pseudonym), language,"
        " attributes, addresses with their consent, campaigns asked, answers, messages_sent,"
        " messages_received."
    )


class ErasureDone(_Out):
    resident: str = Field(description="The pseudonym the resident had; it now names nobody.")
    addresses: int = Field(description="Addresses deleted.")
    campaigns: int = Field(description="Campaigns whose answers were anonymised (a fresh respondent id each).")
    answers: int = Field(description="Answers kept, anonymised.")
    messages_received: int = Field(description="Messages from the resident deleted.")
    messages_sent: int = Field(description="Messages to the resident whose text and provider id were cleared.")
    suppressed: int = Field(description="Opted-out addresses kept suppressed as a keyed hash.")


class ErasuresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000, description="Notices per page.")
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page.")
    since: str | None = Field(
        default=None, max_length=200, description="A `watermark` kept from an earlier sync: only later erasures."
    )


class ErasureNoticeInfo(_Out):
    respondent: str = Field(description="The respondent id the campaign's answers had: drop it from your copy.")
    erased_on: date = Field(description="The day of the erasure (UTC).")


class ErasurePage(_Out):
    data: list[ErasureNoticeInfo]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null when caught up.")
    watermark: str = Field(description="Keep it: pass as `since` later to get only erasures after this page.")
