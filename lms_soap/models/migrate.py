"""Schema migrations with Alembic (`lms-soap db upgrade`), configured in code: no alembic.ini."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with _migrating(engine) as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with _migrating(engine) as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for the migrations.

    On SQLite, Alembic alters a table by copying it and dropping the original; with foreign keys
    enforced (models/db.py turns them on) dropping `loans` fails while loan_events refer to it.
    So, as SQLite's own ALTER TABLE procedure says, enforcement is off while migrating (the pragma
    only takes effect outside a transaction), and the result is checked before the commit."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        raw = connection.connection.dbapi_connection
        enforced = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke {len(broken)} foreign key(s): {broken[:3]}")
        finally:
            raw.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def empty_tables(engine: Engine) -> None:
    """Delete every row, keeping the schema: for tests, benchmarks and soak runs, never production.
    The STANDARD product, which the migrations seed, is seeded again."""
    from sqlalchemy import insert, text

    from lms_soap.lending.products import STANDARD

    from .lifecycle_repositories import product_row
    from .tables import metadata, products

    names = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(insert(products).values(**product_row(STANDARD)))
