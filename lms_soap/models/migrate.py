"""Schema migrations with Alembic (`lms-soap db upgrade`), configured in code: no alembic.ini."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def empty_tables(engine: Engine) -> None:
    """Delete every row, keeping the schema: for tests, benchmarks and soak runs, never production.

    audit_log refuses DELETE (and TRUNCATE on PostgreSQL) by triggers (migration 0003): they are
    set aside for this one transaction and are back, unchanged, when it commits.
    """
    from sqlalchemy import text

    from .tables import audit_log, metadata

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
