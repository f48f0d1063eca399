"""SQLite (the embedded default): a unit of work takes the write lock only when it writes.

A read-only unit of work (GetLoanStatus, ListLoans, a credential check) neither waits for a writer
nor makes one wait; a unit of work that writes takes the lock (BEGIN IMMEDIATE) before its first
locking read or write, so two writers still serialise instead of failing on a lock upgrade.
Runs on a fresh SQLite file whatever LMS_TEST_DB says.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from lms_soap.config import load_settings
from lms_soap.lending.model import KycStatus
from lms_soap.models import migrate
from lms_soap.models.db import build_engine
from lms_soap.models.orm import start_mappers
from lms_soap.models.tables import customers
from lms_soap.models.unit_of_work import SqlUnitOfWorkFactory

NUMBER = "100200300"


@pytest.fixture
def sqlite_file(tmp_path):
    start_mappers()  # as bootstrap does (idempotent)
    path = tmp_path / "lms.db"
    engine = build_engine(load_settings({"DATABASE_URL": f"sqlite:///{path}"}))
    migrate.upgrade(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(customers), {"customer_number": NUMBER, "first_name": "Ada", "last_name": "Lovelace",
                                         "kyc_status": KycStatus.ACTIVE, "registered_at": now,
                                         "kyc_refreshed_at": now})
    yield path, engine
    engine.dispose()


def other_writer(path) -> sqlite3.Connection:
    """Another process's connection (the worker, another gunicorn worker), without a busy wait."""
    conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    return conn


def test_a_read_only_unit_of_work_neither_waits_for_a_writer_nor_blocks_one(sqlite_file):
    path, engine = sqlite_file
    uow_factory = SqlUnitOfWorkFactory(engine)
    writer = other_writer(path)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the write lock, held while the reads run
        writer.execute("UPDATE customers SET first_name = 'Grace' WHERE customer_number = ?", (NUMBER,))
        with uow_factory() as uow:
            assert uow.customers.get(NUMBER).first_name == "Ada"  # the last committed row
        writer.execute("COMMIT")

        with uow_factory() as uow:
            assert uow.customers.get(NUMBER).first_name == "Grace"
            # This unit of work has read and is still open: it holds no lock, so a writer commits.
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE customers SET first_name = 'Edsger' WHERE customer_number = ?", (NUMBER,))
            writer.execute("COMMIT")
    finally:
        writer.close()


def test_a_writing_unit_of_work_holds_the_write_lock_from_its_locking_read_to_its_commit(sqlite_file):
    path, engine = sqlite_file
    uow_factory = SqlUnitOfWorkFactory(engine)
    writer = other_writer(path)
    try:
        with uow_factory() as uow:
            uow.customers.get(NUMBER)  # a plain read first: no lock yet
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE customers SET first_name = 'Grace' WHERE customer_number = ?", (NUMBER,))
            writer.execute("COMMIT")
            customer = uow.customers.get(NUMBER, for_update=True)  # takes the lock: reads the latest row
            assert customer.first_name == "Grace"
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.execute("BEGIN IMMEDIATE")  # the unit of work holds the lock until it commits
            customer.first_name = "Barbara"
            uow.commit()
        writer.execute("BEGIN IMMEDIATE")  # released by the commit
        writer.execute("COMMIT")
        with uow_factory() as uow:
            assert uow.customers.get(NUMBER).first_name == "Barbara"
    finally:
        writer.close()


def test_other_users_of_the_engine_still_begin_with_the_write_lock(sqlite_file):
    path, engine = sqlite_file
    SqlUnitOfWorkFactory(engine)  # installing the unit of work's hooks changes nothing for the rest
    writer = other_writer(path)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.execute("BEGIN IMMEDIATE")
    finally:
        writer.close()
