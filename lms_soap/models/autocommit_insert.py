"""One INSERT sent straight through psycopg2 in autocommit mode (written against SQLAlchemy 2.x
and psycopg2 2.9, checked by tests/unit/test_library_seams.py).

The statement is its own transaction: one round-trip instead of three (BEGIN, INSERT, COMMIT),
and none of the ORM/Core layers' cost per call. The SQL is SQLAlchemy's own, compiled once for
the engine's dialect; the raw connection comes from the pool (its checkout checks apply) and
leans on psycopg2's `autocommit` and `closed`.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Engine

from .db import is_psycopg2


applies_to = is_psycopg2


class AutocommitInsert:
    """INSERT INTO `table` (`columns`) for `engine`, one row per call."""

    def __init__(self, engine: Engine, table: Table, columns: Iterable[str]):
        self.engine = engine
        values = {name: bindparam(name) for name in columns}
        self.sql = str(insert(table).inline().values(values).compile(dialect=engine.dialect))

    def __call__(self, row: dict) -> None:
        conn = self.engine.raw_connection()  # a pooled connection: checkout checks apply
        try:
            conn.driver_connection.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(self.sql, row)
        except Exception:
            conn.invalidate()  # a connection that failed here is not given to anyone else
            raise
        finally:
            try:
                if not conn.driver_connection.closed:
                    conn.driver_connection.autocommit = False
            finally:
                conn.close()  # back to the pool
