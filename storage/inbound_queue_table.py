"""The inbound queue's table: webhook messages stored before they are handled (storage.inbound_queue,
outreach.inbound.queue)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from storage.blind_index import INDEX_LENGTH
from storage.types import UtcDateTime


class QueuedInbound(SQLModel, table=True):
    """A verified webhook message stored before it is handled (outreach.inbound.queue): the provider is
    answered once this row is committed, and the row is deleted in the transaction that handles it.
    `taken_by` handles it until `taken_until`; after that any worker takes it over (its own died)."""

    __tablename__ = "inbound_queue"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids never reused: they are the arrival order

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address_index: str = Field(max_length=INDEX_LENGTH, index=True)  # an erasure removes its rows by it
    payload: str = Field(sa_type=Text)  # the message and its arrival, sealed (outreach.inbound.queue)
    taken_by: str = Field(max_length=64)
    taken_until: datetime = Field(sa_type=UtcDateTime, index=True)
