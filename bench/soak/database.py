"""The soak test's database: created if missing, migrated and emptied before the run; its API clients;
the loans of its customers read back for the checks."""
from __future__ import annotations


def prepare_database(url: str, reset: bool) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from lms_soap.models import migrate

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": parsed.database}).scalar():
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    engine = create_engine(url)
    migrate.upgrade(engine)
    if reset:
        migrate.empty_tables(engine)
    engine.dispose()


def create_clients(settings) -> dict[str, tuple[str, str]]:
    from lms_soap.bootstrap import build_container
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.model import Role

    container = build_container(settings)
    try:
        creds = {}
        for role in ("bank", "scoring", "admin"):
            client, secret = add_client(f"soak-{role}", Role(role), container.uow(), container.box,
                                        container.clock, generate_secret, rotate=True)
            creds[role] = (client.username, secret)
        return creds
    finally:
        container.close()


def loan_rows(database_url: str, numbers: list[str]) -> list:
    """The loans of these customers, each with the sum of its repayments (`repaid`)."""
    from sqlalchemy import create_engine, func, select

    from lms_soap.models.tables import loans, repayments

    repaid = (select(repayments.c.loan_id, func.sum(repayments.c.amount).label("repaid"))
              .group_by(repayments.c.loan_id).subquery())
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(
                select(loans.c.id, loans.c.customer_number, loans.c.status, loans.c.status_reason,
                       loans.c.request_id, loans.c.amount, loans.c.outstanding, repaid.c.repaid)
                .outerjoin(repaid, repaid.c.loan_id == loans.c.id)
                .where(loans.c.customer_number.in_(numbers))))
    finally:
        engine.dispose()


def status_of(row) -> str:
    return getattr(row.status, "value", row.status)
