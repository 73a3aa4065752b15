"""OUTREACH_DATABASE_URL as the service uses it: one of the two databases it speaks, with its async driver."""

from __future__ import annotations

# The schemes the URL may have, and the async driver each is used with: a URL as PostgreSQL and
# hosting panels write it (postgres://, postgresql://) is given ours.
DATABASE_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def with_async_driver(url: str) -> str:
    """`url` with the driver the service uses; ValueError for any other database, which a driver's
    import would otherwise refuse later with a traceback. Only the scheme is ever said: the rest of a
    URL may hold a password."""
    scheme, separator, rest = url.partition("://")
    driver = DATABASE_DRIVERS.get(scheme.lower())
    if not separator or driver is None:
        said = f"{scheme}://" if separator else "a URL without a scheme"
        raise ValueError(
            f"{said} is not a database outreach speaks:"
            " sqlite+aiosqlite:///path/to/outreach.db or postgresql+asyncpg://user@host:5432/database"
        )
    return f"{driver}://{rest}"
