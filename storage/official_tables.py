"""The officials who use the pages under /admin, and their login sessions (issue 21).

Kept apart from storage/tables.py (which imports these, so that the metadata alembic and the tests
compare always has them): they are the service's users, not residents' data. An official's e-mail is
their login; a password is kept only as its argon2 hash, a one-time password link and a session only
as the sha256 of their token."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime

EMAIL_LENGTH = 320
ROLE_LENGTH = 16


class Official(SQLModel, table=True):
    __tablename__ = "officials"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=EMAIL_LENGTH, unique=True)  # lower-cased
    role: str = Field(max_length=ROLE_LENGTH)  # outreach.officials.roles.ROLES
    password_hash: str | None = Field(default=None, max_length=200)  # argon2id; None until set by a link
    password_link_hash: str | None = Field(default=None, max_length=64, unique=True)  # sha256 of the link's token
    password_link_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    failed_logins: int = 0  # consecutive, reset by a login
    locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OfficialSession(SQLModel, table=True):
    """A browser logged in as an official: the cookie holds the token, this row its hash."""

    __tablename__ = "official_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    official_id: int = Field(foreign_key="officials.id", index=True)
    csrf_token: str = Field(max_length=64)  # every form of this session carries it
    created_at: datetime = Field(sa_type=UtcDateTime)  # the absolute expiry counts from here
    last_seen_at: datetime = Field(sa_type=UtcDateTime)  # the idle expiry counts from here
