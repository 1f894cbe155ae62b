"""Schema migrations with Alembic, driven from code (`walletcards db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from walletcards.db import Database

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade to ``revision``. On SQLite foreign keys are off while the scripts run: batch mode
    copies a table and drops the original, which enforced keys refuse while rows reference it
    (https://www.sqlite.org/lang_altertable.html, "other kinds of table schema changes"); the
    keys are checked once the scripts have committed."""
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        assert raw is not None
        if sqlite:  # outside a transaction, where SQLite honours the pragma
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config = alembic_config(database)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            if sqlite:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def revision(database: Database, message: str) -> None:
    """Developer tool: autogenerate a new revision against the current models."""
    with database.engine.begin() as connection:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
