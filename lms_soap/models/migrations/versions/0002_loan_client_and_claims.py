"""requestId unique per API client; the scoring deadline counts from the first attempt

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00

- loans.created_by: the API client (username) that submitted the loan. Loans stored before this
  revision get it from the audit log's successful SubmitLoan row, where there is one.
- UNIQUE (created_by, request_id) replaces UNIQUE (request_id): one client's requestId no longer
  collides with another's.
- loans.first_attempt_at: when a scoring step first claimed the loan to call the engine;
  SCORING_DEADLINE runs from there, not from created_at. Loans in scoring that did reach the
  engine take their created_at (their deadline is what it was); a PENDING loan never tried keeps
  NULL: its deadline starts with its first attempt.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ONGOING_INDEX = 'uq_loans_one_ongoing_per_customer'
ONGOING_WHERE = "status IN ('APPROVED', 'PENDING', 'SCORING')"


def _recreating_loans(upgrade_steps) -> None:
    """Alter `loans` in a batch. On SQLite the batch copies the table, so the partial index of
    one ongoing loan per customer is dropped first and made again after (with its WHERE)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index(ONGOING_INDEX, table_name='loans')
    with op.batch_alter_table('loans') as batch:
        upgrade_steps(batch)
    if sqlite:
        op.create_index(ONGOING_INDEX, 'loans', ['customer_number'], unique=True,
                        sqlite_where=sa.text(ONGOING_WHERE))


def upgrade() -> None:
    def steps(batch) -> None:
        batch.add_column(sa.Column('created_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint('uq_loans_request_id', type_='unique')
        batch.create_unique_constraint('uq_loans_created_by_request_id', ['created_by', 'request_id'])

    _recreating_loans(steps)
    op.execute(
        "UPDATE loans SET created_by = (SELECT a.principal FROM audit_log a WHERE a.loan_id = loans.id"
        " AND a.operation = 'SubmitLoan' AND a.outcome = 'OK' ORDER BY a.id LIMIT 1)"
        " WHERE created_by IS NULL"
    )
    op.execute(
        "UPDATE loans SET first_attempt_at = created_at"
        " WHERE status = 'SCORING' OR (status = 'PENDING' AND initiate_attempts > 0)"
    )


def downgrade() -> None:
    # Before 0002 requestId was unique over all clients: two clients' equal requestIds cannot go
    # back to that. Keep the first loan's and clear the later ones' (those loans stay; only their
    # replay by requestId is lost), so the downgrade never fails on data.
    op.execute(
        "UPDATE loans SET request_id = NULL WHERE request_id IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM loans AS earlier WHERE earlier.request_id = loans.request_id"
        " AND (earlier.created_at < loans.created_at"
        " OR (earlier.created_at = loans.created_at AND earlier.id < loans.id)))"
    )

    def steps(batch) -> None:
        batch.drop_constraint('uq_loans_created_by_request_id', type_='unique')
        batch.create_unique_constraint('uq_loans_request_id', ['request_id'])
        batch.drop_column('first_attempt_at')
        batch.drop_column('created_by')

    _recreating_loans(steps)
