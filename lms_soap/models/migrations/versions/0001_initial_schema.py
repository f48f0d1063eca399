"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 06:36:57.045302
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('api_clients',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('bank', 'scoring', 'admin', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('username', name=op.f('uq_api_clients_username'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('principal', sa.String(length=64), nullable=True),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('customer_number', sa.String(length=32), nullable=True),
    sa.Column('loan_id', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('authenticated', sa.Boolean(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('customers',
    sa.Column('customer_number', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('id_type', sa.String(length=32), nullable=True),
    sa.Column('id_number', sa.String(length=64), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('monthly_income', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('kyc_status', sa.Enum('ACTIVE', 'INACTIVE', name='kycstatus', native_enum=False, length=16), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kyc_refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_number', name=op.f('pk_customers'))
    )
    op.create_table('scoring_registrations',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('token_ciphertext', sa.Text(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_registrations'))
    )
    op.create_table('loans',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('customer_number', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'SCORING', 'APPROVED', 'REJECTED', 'FAILED', 'CANCELLED', 'CLOSED', name='loanstatus', native_enum=False, length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=255), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('limit_amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('exclusion', sa.String(length=100), nullable=True),
    sa.Column('exclusion_reason', sa.String(length=255), nullable=True),
    sa.Column('scoring_token', sa.String(length=255), nullable=True),
    sa.Column('scoring_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('initiate_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outstanding', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_number'], ['customers.customer_number'], name=op.f('fk_loans_customer_number_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
    sa.UniqueConstraint('request_id', name=op.f('uq_loans_request_id'))
    )
    op.create_index('ix_loans_customer_created', 'loans', ['customer_number', 'created_at'], unique=False)
    op.create_index('ix_loans_due', 'loans', ['next_attempt_at'], unique=False)
    op.create_index('uq_loans_one_ongoing_per_customer', 'loans', ['customer_number'], unique=True, postgresql_where=sa.text("status IN ('APPROVED', 'PENDING', 'SCORING')"), sqlite_where=sa.text("status IN ('APPROVED', 'PENDING', 'SCORING')"))
    op.create_table('loan_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('loan_id', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.Enum('PENDING', 'SCORING', 'APPROVED', 'REJECTED', 'FAILED', 'CANCELLED', 'CLOSED', name='loanstatus', native_enum=False, length=16), nullable=True),
    sa.Column('to_status', sa.Enum('PENDING', 'SCORING', 'APPROVED', 'REJECTED', 'FAILED', 'CANCELLED', 'CLOSED', name='loanstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_events_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_events'))
    )
    op.create_index(op.f('ix_loan_events_loan_id'), 'loan_events', ['loan_id'], unique=False)
    op.create_table('repayments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('loan_id', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_repayments_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayments')),
    sa.UniqueConstraint('loan_id', 'reference', name='uq_repayments_loan_reference')
    )



def downgrade() -> None:

    op.drop_table('repayments')
    op.drop_index(op.f('ix_loan_events_loan_id'), table_name='loan_events')
    op.drop_table('loan_events')
    op.drop_index('uq_loans_one_ongoing_per_customer', table_name='loans', postgresql_where=sa.text("status IN ('APPROVED', 'PENDING', 'SCORING')"), sqlite_where=sa.text("status IN ('APPROVED', 'PENDING', 'SCORING')"))
    op.drop_index('ix_loans_due', table_name='loans')
    op.drop_index('ix_loans_customer_created', table_name='loans')
    op.drop_table('loans')
    op.drop_table('scoring_registrations')
    op.drop_table('customers')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('api_clients')

