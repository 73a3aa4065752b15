"""OUTREACH_DATABASE_URL: the two databases the service speaks, given its async drivers; any other refused
in words that never repeat the URL past its scheme (it may hold a password)."""

from __future__ import annotations

import pytest

from outreach.settings import Settings
from storage.database_urls import with_async_driver


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite+aiosqlite:///./outreach.db", "sqlite+aiosqlite:///./outreach.db"),
        ("sqlite:////var/lib/outreach/outreach.db", "sqlite+aiosqlite:////var/lib/outreach/outreach.db"),
        ("postgresql+asyncpg://outreach@db:5432/outreach", "postgresql+asyncpg://outreach@db:5432/outreach"),
        ("postgresql://outreach:pw@db/outreach", "postgresql+asyncpg://outreach:pw@db/outreach"),
        ("postgres://outreach@db/outreach?ssl=require", "postgresql+asyncpg://outreach@db/outreach?ssl=require"),
        ("PostgreSQL://outreach@db/outreach", "postgresql+asyncpg://outreach@db/outreach"),
    ],
)
def test_a_database_we_speak_is_used_with_its_async_driver(given: str, used: str) -> None:
    assert with_async_driver(given) == used
    assert Settings(database_url=given, _env_file=None).database_url == used


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("mysql://outreach:s3cret@db/outreach", "mysql:// is not a database outreach speaks"),
        ("postgresql+psycopg2://outreach:s3cret@db/outreach", "postgresql+psycopg2:// is not a database"),
        ("outreach:s3cret@db/outreach", "a URL without a scheme is not a database outreach speaks"),
    ],
)
def test_any_other_database_is_refused_without_repeating_the_url(given: str, said: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite\+aiosqlite:///path/to/outreach\.db or postgresql") as refused:
        Settings(database_url=given, _env_file=None)
    assert said in str(refused.value) and "s3cret" not in str(refused.value)
