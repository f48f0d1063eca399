"""Loan servicing (release 1.1): products, disbursement, balances, charges, arrears, the outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10 09:00:00

- products (seeded with STANDARD: a caller that never names a product gets it);
- loans: product_code, disbursed_at, due_date, disbursement_reference, the three balances
  (principal, fees, penalties outstanding) replacing `outstanding`, recovered, written_off_at,
  next_arrears_at (when the arrears job next has a step to take);
- repayments: how each was allocated (penalty_part, fee_part, principal_part) and recovery;
- loan_charges (FEE at disbursement, PENALTY when OVERDUE) and the outbox of NotifyLoanEvent;
- the one-ongoing-loan index covers DISBURSED, OVERDUE and DEFAULTED too.

Data: an APPROVED loan of 1.0 took repayments, as a disbursed loan does now: it becomes DISBURSED
(disbursed when decided, due 30 days later, as STANDARD says), with that step in its history and
no notification (the bank was never told of 1.0 decisions by callback). Its `outstanding` becomes
its principal outstanding; a 1.0 repayment was all principal.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ONGOING_INDEX = 'uq_loans_one_ongoing_per_customer'
OLD_ONGOING = "status IN ('APPROVED', 'PENDING', 'SCORING')"
NEW_ONGOING = "status IN ('APPROVED', 'DEFAULTED', 'DISBURSED', 'OVERDUE', 'PENDING', 'SCORING')"
LOAN_STATUS = sa.Enum('PENDING', 'SCORING', 'APPROVED', 'REJECTED', 'FAILED', 'CANCELLED', 'CLOSED',
                      'DISBURSED', 'OVERDUE', 'DEFAULTED', 'WRITTEN_OFF', 'EXPIRED', name='loanstatus',
                      native_enum=False, length=16)
MONEY = sa.Numeric(precision=18, scale=2)
DAY = 86400
STANDARD = dict(code='STANDARD', name='Standard micro-loan', currency='KES', min_amount=1,
                max_amount=1000000, tenor_seconds=30 * DAY, fee_percent=0, late_penalty_percent=0,
                grace_seconds=3 * DAY, default_after_seconds=60 * DAY,
                write_off_after_seconds=180 * DAY, approval_validity_seconds=7 * DAY,
                auto_disburse=True)


def _id_column():
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                     nullable=False)


def _ongoing_index(where: str) -> None:
    op.create_index(ONGOING_INDEX, 'loans', ['customer_number'], unique=True,
                    postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def _plus_days(column: str, days: int) -> str:
    if op.get_bind().dialect.name == 'sqlite':
        return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+{days} days')"
    return f"{column} + interval '{days} days'"


def upgrade() -> None:
    products = op.create_table(
        'products',
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('min_amount', MONEY, nullable=False),
        sa.Column('max_amount', MONEY, nullable=False),
        sa.Column('tenor_seconds', sa.BigInteger(), nullable=False),
        sa.Column('fee_percent', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('late_penalty_percent', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('grace_seconds', sa.BigInteger(), nullable=False),
        sa.Column('default_after_seconds', sa.BigInteger(), nullable=False),
        sa.Column('write_off_after_seconds', sa.BigInteger(), nullable=False),
        sa.Column('approval_validity_seconds', sa.BigInteger(), nullable=False),
        sa.Column('auto_disburse', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_products')),
    )
    op.bulk_insert(products, [STANDARD])

    # The index is rebuilt on both backends (its WHERE changes); on SQLite the batch copies the
    # table, so it is dropped before the copy anyway.
    op.drop_index(ONGOING_INDEX, table_name='loans')
    with op.batch_alter_table('loans') as batch:
        batch.add_column(sa.Column('product_code', sa.String(length=32), server_default='STANDARD',
                                   nullable=False))
        for name in ('disbursed_at', 'due_date'):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('disbursement_reference', sa.String(length=64), nullable=True))
        for name in ('principal_outstanding', 'fees_outstanding', 'penalties_outstanding'):
            batch.add_column(sa.Column(name, MONEY, nullable=True))
        batch.add_column(sa.Column('recovered', MONEY, server_default='0', nullable=False))
        for name in ('written_off_at', 'next_arrears_at'):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.alter_column('status', existing_type=sa.String(length=16), type_=LOAN_STATUS)
        batch.create_foreign_key(op.f('fk_loans_product_code_products'), 'products',
                                 ['product_code'], ['code'])
        batch.create_index('ix_loans_next_arrears_at', ['next_arrears_at'], unique=False)

    op.execute("UPDATE loans SET principal_outstanding = outstanding, fees_outstanding = 0,"
               " penalties_outstanding = 0 WHERE outstanding IS NOT NULL")
    op.execute("INSERT INTO loan_events (loan_id, from_status, to_status, reason, at)"
               " SELECT id, 'APPROVED', 'DISBURSED', 'DISBURSED_AT_UPGRADE', decided_at FROM loans"
               " WHERE status = 'APPROVED'")
    op.execute(f"UPDATE loans SET status = 'DISBURSED', status_reason = 'DISBURSED_AT_UPGRADE',"
               f" disbursed_at = decided_at, due_date = {_plus_days('decided_at', 30)},"
               f" next_arrears_at = {_plus_days('decided_at', 33)},"
               f" disbursement_reference = 'AUTO-' || id, version = version + 1"
               f" WHERE status = 'APPROVED'")
    with op.batch_alter_table('loans') as batch:
        batch.drop_column('outstanding')
    _ongoing_index(NEW_ONGOING)

    with op.batch_alter_table('repayments') as batch:
        for name in ('penalty_part', 'fee_part', 'principal_part'):
            batch.add_column(sa.Column(name, MONEY, server_default='0', nullable=False))
        batch.add_column(sa.Column('recovery', sa.Boolean(), server_default='0', nullable=False))
    op.execute("UPDATE repayments SET principal_part = amount")

    op.create_table(
        'loan_charges',
        _id_column(),
        sa.Column('loan_id', sa.String(length=40), nullable=False),
        sa.Column('type', sa.Enum('FEE', 'PENALTY', name='chargetype', native_enum=False, length=16),
                  nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_charges_loan_id_loans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_charges')),
    )
    op.create_index(op.f('ix_loan_charges_loan_id'), 'loan_charges', ['loan_id'], unique=False)
    op.create_table(
        'outbox',
        _id_column(),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('loan_id', sa.String(length=40), nullable=False),
        sa.Column('customer_number', sa.String(length=32), nullable=False),
        sa.Column('status', LOAN_STATUS, nullable=False),
        sa.Column('previous_status', LOAN_STATUS, nullable=True),
        sa.Column('reason', sa.String(length=255), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_outbox_loan_id_loans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id')),
    )
    op.create_index('ix_outbox_pending', 'outbox', ['delivered_at', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    # 1.0 knows none of the servicing statuses: an on-book loan goes back to APPROVED (which took
    # repayments then), a written-off one to CLOSED and an expired one to CANCELLED; the history
    # keeps what happened. Charges and unsent notifications are lost with their tables.
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index(op.f('ix_loan_charges_loan_id'), table_name='loan_charges')
    op.drop_table('loan_charges')
    with op.batch_alter_table('repayments') as batch:
        for name in ('recovery', 'principal_part', 'fee_part', 'penalty_part'):
            batch.drop_column(name)

    op.drop_index(ONGOING_INDEX, table_name='loans')
    with op.batch_alter_table('loans') as batch:
        batch.add_column(sa.Column('outstanding', MONEY, nullable=True))
    op.execute("UPDATE loans SET outstanding = principal_outstanding + COALESCE(fees_outstanding, 0)"
               " + COALESCE(penalties_outstanding, 0) WHERE principal_outstanding IS NOT NULL")
    op.execute("UPDATE loans SET status = 'APPROVED' WHERE status IN ('DISBURSED', 'OVERDUE', 'DEFAULTED')")
    op.execute("UPDATE loans SET status = 'CLOSED' WHERE status = 'WRITTEN_OFF'")
    op.execute("UPDATE loans SET status = 'CANCELLED' WHERE status = 'EXPIRED'")
    with op.batch_alter_table('loans') as batch:
        batch.drop_index('ix_loans_next_arrears_at')
        batch.drop_constraint(op.f('fk_loans_product_code_products'), type_='foreignkey')
        for name in ('next_arrears_at', 'written_off_at', 'recovered', 'penalties_outstanding',
                     'fees_outstanding', 'principal_outstanding', 'disbursement_reference',
                     'due_date', 'disbursed_at', 'product_code'):
            batch.drop_column(name)
    _ongoing_index(OLD_ONGOING)
    op.drop_table('products')
