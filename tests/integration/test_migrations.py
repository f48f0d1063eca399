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
    migrate.downgrade(engine, "0002")
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


# --- 0002: requestId per API client, first_attempt_at ----------------------------------------
def _scratch_engine(database_url, tmp_path):
    """A database of its own for a migration run from the start: a SQLite file, or a scratch
    PostgreSQL database beside the session's (whose schema the other tests use)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from lms_soap.config import load_settings
    from lms_soap.models.db import build_engine

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        # Through build_engine: foreign keys enforced, as `lms-soap db upgrade` runs it.
        return build_engine(load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.db'}"})), None
    scratch = f"{url.database}_scratch"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    return create_engine(url.set(database=scratch)), (admin, scratch)


def _drop_scratch(engine, scratch) -> None:
    from sqlalchemy import text

    engine.dispose()
    if scratch is not None:
        admin, name = scratch
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_0002_keeps_the_data_scopes_request_ids_per_client_and_round_trips(database_url, tmp_path):
    from datetime import datetime, timezone

    import pytest
    from sqlalchemy import insert, select, text
    from sqlalchemy.exc import IntegrityError

    from lms_soap.models.tables import audit_log, customers, loan_events, loans

    engine, scratch = _scratch_engine(database_url, tmp_path)
    try:
        migrate.upgrade(engine, "0001")
        now = datetime.now(timezone.utc)
        row = dict(customer_number="1", amount=1, currency="KES", created_at=now, updated_at=now, version=1)
        with engine.begin() as conn:  # a 1.0 database: columns of 0001 only
            conn.execute(insert(customers).values(customer_number="1", kyc_status="ACTIVE", registered_at=now,
                                                  kyc_refreshed_at=now))
            for loan_id, status, request_id in (("A", "REJECTED", "r-1"), ("B", "PENDING", "r-2"),
                                                ("C", "CLOSED", None)):
                conn.execute(insert(loans).values(id=loan_id, status=status, request_id=request_id,
                                                  initiate_attempts=0, scoring_attempts=0, **row))
                conn.execute(insert(loan_events).values(loan_id=loan_id, to_status="PENDING", at=now))
            conn.execute(insert(audit_log).values(at=now, principal="bank-a", operation="SubmitLoan", loan_id="A",
                                                  outcome="OK", authenticated=True))
        migrate.upgrade(engine)
        assert _differences(engine) == []
        with engine.connect() as conn:
            kept = dict(conn.execute(select(loans.c.id, loans.c.created_by)).all())
            assert kept == {"A": "bank-a", "B": None, "C": None}  # from the audit log where it tells
            assert conn.execute(select(loans.c.first_attempt_at).where(loans.c.id == "B")).scalar() is None
            assert conn.execute(select(loan_events.c.loan_id)).scalars().all() == ["A", "B", "C"]
        with engine.begin() as conn:  # another client may reuse r-1; one more REJECTED loan is fine
            conn.execute(insert(loans).values(id="D", status="REJECTED", request_id="r-1", created_by="bank-b", **row))
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:  # the same client may not
                conn.execute(insert(loans).values(id="E", status="REJECTED", request_id="r-1",
                                                  created_by="bank-a", **row))
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:  # the ongoing-loan index is still partial and unique
                conn.execute(insert(loans).values(id="F", status="SCORING", created_by="bank-a", **row))
        migrate.downgrade(engine, "0001")
        with engine.connect() as conn:  # D's requestId collided across clients: cleared, loan kept
            assert dict(conn.execute(text("SELECT id, request_id FROM loans")).all()) == {
                "A": "r-1", "B": "r-2", "C": None, "D": None}
        migrate.upgrade(engine)
        assert _differences(engine) == []
    finally:
        _drop_scratch(engine, scratch)
