"""Schema upgrades with alembic, callable from the CLI and from running event loops alike.

Alembic (about 0.1 s of imports) is imported when a schema is upgraded, not at import time: the `db`
command's start-up and every module that only names `upgrade` go without it (issue 18)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.keyring import Keyring
from storage.tables import SQLITE_ONLY_INDEXES

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str = "") -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head", keyring: Keyring | None = None) -> None:
    """Upgrade the schema; a revision that encrypts rows (0029) seals them with `keyring` (the
    service's keys: unset, the public development keys)."""
    from alembic import command

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        config.attributes["keyring"] = keyring
        command.upgrade(config, revision)
        if connection.dialect.name == "sqlite":  # the keys were off: check them before committing
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the upgrade left {len(broken)} rows pointing at rows that are gone")

    async with engine.connect() as connection:
        # SQLite's way to rebuild a table others point at (sqlite.org/lang_altertable.html): foreign
        # keys off, set before the transaction begins (inside one the pragma does nothing).
        await connection.run_sync(_sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade)
        finally:
            await connection.run_sync(_sqlite_foreign_keys, True)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    if connection.dialect.name == "sqlite":
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        cursor.close()


def compared_objects(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object for comparing the models with a database of `dialect`: an index the
    models make on SQLite only is not missing from PostgreSQL."""

    def include(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        return not (type_ == "index" and name in SQLITE_ONLY_INDEXES and dialect != "sqlite")

    return include
