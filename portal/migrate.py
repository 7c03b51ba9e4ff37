"""Applying the Alembic migrations from code (`portal db upgrade`, the demo, the tests)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported when it is used, not with the app: it announces its plugins at
# import, which only buries what an operator needs to read.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to `revision`. Blocking: call it outside the event loop."""
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


@dataclass(frozen=True)
class Schema:
    """Where the code's migrations end, read once per process (`Schema.of_code`), to
    compare with the database's `alembic_version` (`Schema.state`)."""

    head: str
    known: frozenset[str]  # every revision of this code, the head included

    @classmethod
    @functools.cache
    def of_code(cls) -> Schema:
        # The code's own migrations: the same in every process, read once.
        from alembic.script import ScriptDirectory

        scripts = ScriptDirectory(str(MIGRATIONS))
        return cls(
            head=scripts.get_current_head() or "",
            known=frozenset(script.revision for script in scripts.walk_revisions()),
        )

    def state(self, revision: str | None) -> str:
        """`current`, `behind` (a revision of this code before its head, or none: the
        migrations must be applied first) or `ahead` (a revision this code does not know:
        a newer release migrated the database, which an older one still serves during a
        rolling upgrade, as migrations only add until the release after)."""
        if revision == self.head:
            return "current"
        if revision is None or revision in self.known:
            return "behind"
        return "ahead"


_VERSION = text("SELECT version_num FROM alembic_version")


async def database_revision(engine: AsyncEngine) -> str | None:
    """The database's Alembic revision; None for a database never migrated."""
    async with engine.connect() as connection:
        if not await connection.run_sync(
            lambda sync: sync.dialect.has_table(sync, "alembic_version")
        ):
            return None
        revision: str | None = await connection.scalar(_VERSION)
        return revision
