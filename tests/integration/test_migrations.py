"""Alembic migrations and the SQLAlchemy tables must agree, on PostgreSQL and on SQLite."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from lms_soap.models import migrate
from lms_soap.models.tables import ONGOING_INDEX, metadata


def _differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def _audit_triggers(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                        "AND tbl_name = 'audit_log'")).scalars())


def test_migrated_database_matches_the_models(database_url):
    """The session database was built by `upgrade head` (tests/conftest.py)."""
    engine = create_engine(database_url)
    try:
        assert _differences(engine) == []
        assert migrate.current(engine) is not None
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite_file(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)
    assert _differences(engine) == []
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("loans")}
    assert indexes[ONGOING_INDEX]["unique"]
    assert _audit_triggers(engine) == ["audit_log_no_delete", "audit_log_no_update"]
    migrate.downgrade(engine, "-1")
    assert _audit_triggers(engine) == []  # the append-only migration (0003) takes its triggers back
    migrate.upgrade(engine)
    assert _audit_triggers(engine) == ["audit_log_no_delete", "audit_log_no_update"]
    migrate.downgrade(engine, "base")
    assert [t for t in inspect(engine).get_table_names() if t != "alembic_version"] == []
    migrate.upgrade(engine)
    assert _differences(engine) == []
    engine.dispose()


def test_the_ongoing_loan_index_is_partial_in_the_database(database_url):
    """A second ongoing loan is refused by the database itself, not only by a read before the write."""
    from datetime import datetime, timezone

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from lms_soap.models.tables import customers, loans
    from tests.conftest import empty_tables

    empty_tables(database_url)
    engine = create_engine(database_url)
    now = datetime.now(timezone.utc)
    row = dict(customer_number="1", amount=1, currency="KES", created_at=now, updated_at=now, version=1)
    with engine.begin() as conn:
        conn.execute(insert(customers).values(customer_number="1", kyc_status="ACTIVE", registered_at=now,
                                              kyc_refreshed_at=now))
        conn.execute(insert(loans).values(id="A", status="REJECTED", **row))
        conn.execute(insert(loans).values(id="B", status="CLOSED", **row))
        conn.execute(insert(loans).values(id="C", status="PENDING", **row))
    try:
        with engine.begin() as conn:
            conn.execute(insert(loans).values(id="D", status="APPROVED", **row))
        raise AssertionError("a second ongoing loan was stored")
    except IntegrityError:
        pass
    finally:
        empty_tables(database_url)
        engine.dispose()
