"""Schema upgrades with alembic, callable from the CLI and from running event loops alike.

Alembic (about 0.1 s of imports) is imported when a schema is upgraded, not at import time: the `db`
command's start-up and every module that only names `upgrade` go without it (issue 18)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def compared_objects(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object for comparing the models with a database of `dialect`: an index the
    models make on SQLite only is not missing from PostgreSQL."""

    def include(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        return not (type_ == "index" and name in SQLITE_ONLY_INDEXES and dialect != "sqlite")

    return include
