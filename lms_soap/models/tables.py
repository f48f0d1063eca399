"""The database schema (SQLAlchemy 2 Core tables). Alembic's migrations must match it:
tests/integration/test_migrations.py fails when they drift apart.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Enum,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from lms_soap.lending.model import KYC_FIELDS, ONGOING, ChargeType, KycStatus, LoanStatus, Role

# Stable constraint names, so that migrations and error mapping can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MONEY = Numeric(18, 2)  # exact decimal; never a float
PERCENT = Numeric(7, 4)  # a percentage such as 7.5000
SECONDS = BigInteger  # durations of products, in whole seconds


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone: we store naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the LMS stores UTC times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


UTC_TIME = UTCDateTime()


def _enum(enum_cls) -> Enum:
    # Stored as VARCHAR holding the enum's value: portable, readable, no PostgreSQL ENUM type to migrate.
    return Enum(enum_cls, native_enum=False, create_constraint=False, length=16,
                values_callable=lambda members: [m.value for m in members])

#: The partial unique index that makes "one ongoing loan per customer" a database rule.
ONGOING_INDEX = "uq_loans_one_ongoing_per_customer"
_ongoing_sql = text(
    "status IN (" + ", ".join(f"'{status.value}'" for status in sorted(ONGOING)) + ")"
)

#: requestId is unique per API client (the loan's created_by).
REQUEST_ID_CONSTRAINT = "uq_loans_created_by_request_id"

customers = Table(
    "customers",
    metadata,
    *[Column(f.name, MONEY if f.width is None else String(f.width), primary_key=f.name == "customer_number")
      for f in KYC_FIELDS],
    Column("kyc_status", _enum(KycStatus), nullable=False),
    Column("registered_at", UTC_TIME, nullable=False),
    Column("kyc_refreshed_at", UTC_TIME, nullable=False),
)

loans = Table(
    "loans",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_number", String(32), ForeignKey("customers.customer_number"), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", _enum(LoanStatus), nullable=False),
    Column("status_reason", String(255)),
    Column("request_id", String(64)),
    Column("created_by", String(64)),  # the API client's username
    Column("score", Integer),
    Column("limit_amount", MONEY),
    Column("exclusion", String(100)),
    Column("exclusion_reason", String(255)),
    Column("scoring_token", String(255)),
    Column("scoring_attempts", Integer, nullable=False, server_default="0"),
    Column("initiate_attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTC_TIME),
    Column("first_attempt_at", UTC_TIME),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Column("decided_at", UTC_TIME),
    Column("version", Integer, nullable=False),
    Column("product_code", String(32), ForeignKey("products.code"), nullable=False,
           server_default="STANDARD"),
    Column("disbursed_at", UTC_TIME),
    Column("due_date", UTC_TIME),
    Column("disbursement_reference", String(64)),
    Column("principal_outstanding", MONEY),
    Column("fees_outstanding", MONEY),
    Column("penalties_outstanding", MONEY),
    Column("recovered", MONEY, nullable=False, server_default="0"),
    Column("written_off_at", UTC_TIME),
    Column("next_arrears_at", UTC_TIME),
    # requestId is the caller's own: unique per API client, not globally.
    UniqueConstraint("created_by", "request_id", name=REQUEST_ID_CONSTRAINT),
    Index("ix_loans_customer_created", "customer_number", "created_at"),
    Index("ix_loans_due", "next_attempt_at"),
    Index("ix_loans_next_arrears_at", "next_arrears_at"),
    Index(
        ONGOING_INDEX,
        "customer_number",
        unique=True,
        postgresql_where=_ongoing_sql,
        sqlite_where=_ongoing_sql,
    ),
)

loan_events = Table(
    "loan_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("loan_id", String(40), ForeignKey("loans.id"), nullable=False, index=True),
    Column("from_status", _enum(LoanStatus)),
    Column("to_status", _enum(LoanStatus), nullable=False),
    Column("reason", String(255)),
    Column("at", UTC_TIME, nullable=False),
)

repayments = Table(
    "repayments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("loan_id", String(40), ForeignKey("loans.id"), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("at", UTC_TIME, nullable=False),
    # How the amount was allocated (they add up to it); a repayment before 1.1 was all principal.
    Column("penalty_part", MONEY, nullable=False, server_default="0"),
    Column("fee_part", MONEY, nullable=False, server_default="0"),
    Column("principal_part", MONEY, nullable=False, server_default="0"),
    Column("recovery", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("loan_id", "reference", name="uq_repayments_loan_reference"),
)

products = Table(
    "products",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("min_amount", MONEY, nullable=False),
    Column("max_amount", MONEY, nullable=False),
    Column("tenor_seconds", SECONDS, nullable=False),
    Column("fee_percent", PERCENT, nullable=False),
    Column("late_penalty_percent", PERCENT, nullable=False),
    Column("grace_seconds", SECONDS, nullable=False),
    Column("default_after_seconds", SECONDS, nullable=False),
    Column("write_off_after_seconds", SECONDS, nullable=False),
    Column("approval_validity_seconds", SECONDS, nullable=False),
    Column("auto_disburse", Boolean, nullable=False),
)

loan_charges = Table(
    "loan_charges",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("loan_id", String(40), ForeignKey("loans.id"), nullable=False, index=True),
    Column("type", _enum(ChargeType), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("applied_at", UTC_TIME, nullable=False),
)

#: The transactional outbox of the bank's NotifyLoanEvent: rows written with the transition.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("loan_id", String(40), ForeignKey("loans.id"), nullable=False),
    Column("customer_number", String(32), nullable=False),
    Column("status", _enum(LoanStatus), nullable=False),
    Column("previous_status", _enum(LoanStatus)),
    Column("reason", String(255)),
    Column("occurred_at", UTC_TIME, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTC_TIME),
    Column("delivered_at", UTC_TIME),
    Column("last_error", String(500)),
    # The delivery's query: undelivered rows by due time.
    Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", _enum(Role), nullable=False),
    Column("secret_hash", String(255), nullable=False),
    Column("description", String(255)),
    Column("created_at", UTC_TIME, nullable=False),
    Column("revoked_at", UTC_TIME),
)

scoring_registrations = Table(
    "scoring_registrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("client_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("url", String(500), nullable=False),
    Column("username", String(64), nullable=False),
    Column("token_ciphertext", Text, nullable=False),
    Column("registered_at", UTC_TIME, nullable=False),
)

#: Append-only: one row per non-read operation and per failed authentication. Never secrets.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTC_TIME, nullable=False, index=True),
    Column("principal", String(64)),
    Column("operation", String(64), nullable=False),
    Column("customer_number", String(32)),
    Column("loan_id", String(40)),
    Column("outcome", String(64), nullable=False),
    Column("request_id", String(64)),
    Column("duration_ms", Integer),
    Column("authenticated", Boolean, nullable=False, server_default="1"),
)
