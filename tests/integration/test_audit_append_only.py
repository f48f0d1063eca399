"""The audit log is append-only in the database itself (migration 0003): an UPDATE or a DELETE of an
audit row fails whoever sends it, on PostgreSQL (TRUNCATE too) and on the embedded SQLite default.
The test helper that empties every table between tests still works, and leaves the rule in place."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from lms_soap.models import migrate
from lms_soap.models.tables import audit_log

ROW = dict(principal="test-bank", operation="SubmitLoan", customer_number="234774784", loan_id=None,
           outcome="OK", request_id="req-1", duration_ms=3, authenticated=True)


@pytest.fixture(params=["session-database", "fresh-sqlite"])
def engine(request, tmp_path):
    if request.param == "session-database":
        url = request.getfixturevalue("db")
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        migrate.upgrade(create_engine(url))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(at=datetime.now(timezone.utc), **ROW))
    yield engine
    engine.dispose()


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.outcome, audit_log.c.principal))]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET outcome = 'Client.NotAuthorized'",
    "UPDATE audit_log SET principal = NULL WHERE request_id = 'req-1'",
    "DELETE FROM audit_log",
    "DELETE FROM audit_log WHERE request_id = 'req-1'",
    "TRUNCATE audit_log",  # PostgreSQL: row triggers do not see it, a statement trigger does
])
def test_the_database_refuses_to_change_or_remove_an_audit_row(engine, statement):
    if engine.dialect.name == "sqlite" and statement.startswith("TRUNCATE"):
        statement = "DELETE FROM audit_log"  # SQLite's TRUNCATE (its truncate optimisation)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))

    assert rows(engine) == [("OK", "test-bank")]


def test_new_rows_are_still_accepted(engine):
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(at=datetime.now(timezone.utc), **{**ROW, "outcome": "X"}))

    assert len(rows(engine)) == 2


def test_emptying_the_tables_for_tests_keeps_the_rule(engine):
    migrate.empty_tables(engine)

    assert rows(engine) == []
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(at=datetime.now(timezone.utc), **ROW))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 1
