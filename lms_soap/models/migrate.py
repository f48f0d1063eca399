"""Schema migrations with Alembic (`lms-soap db upgrade`), configured in code: no alembic.ini."""
from __future__ import annotations

from contextlib import contextmanager
from importlib.resources import files
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

#: Shipped as package data; Alembic scans it as a folder, which a pip-installed package is.
MIGRATIONS = files("lms_soap.models") / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _no_statement_timeout(connection) -> None:
    """A migration may rewrite a big table: DB_STATEMENT_TIMEOUT bounds requests, not this."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with _migrating(engine) as connection:
        _no_statement_timeout(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with _migrating(engine) as connection:
        _no_statement_timeout(connection)
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

    audit_log refuses DELETE (and TRUNCATE on PostgreSQL) by triggers (migration 0003): they are
    set aside for this one transaction and are back, unchanged, when it commits. The STANDARD
    product, which the migrations seed, is seeded again.
    """
    from sqlalchemy import insert, text

    from lms_soap.lending.products import STANDARD

    from .lifecycle_repositories import product_row
    from .tables import audit_log, metadata, products

    names = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {audit_log.name} DISABLE TRIGGER USER"))
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            conn.execute(text(f"ALTER TABLE {audit_log.name} ENABLE TRIGGER USER"))
        else:
            guards = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       "AND tbl_name = :t"), {"t": audit_log.name}).all()
            for name, _ in guards:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))
            for _, sql in guards:
                conn.execute(text(sql))
        conn.execute(insert(products).values(**product_row(STANDARD)))
