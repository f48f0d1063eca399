"""audit_log is append-only in the database itself

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

UPDATE and DELETE of an audit row fail in the database, whoever sends them; on PostgreSQL TRUNCATE
too (a statement trigger: row triggers do not see TRUNCATE). The triggers stop the application and
anyone using its database role by mistake; a role that owns the table can still drop them, so a
bank that wants more runs the LMS as a role without UPDATE/DELETE/TRUNCATE grants on audit_log.

A future migration that rebuilds audit_log (SQLite batch mode copies the table) must create these
triggers again.
"""
from alembic import op

revision = "0003"
down_revision = '0002'
branch_labels = None
depends_on = None

MESSAGE = "audit_log is append-only"

PG_FUNCTION = f"""
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:  # SQLite: one trigger per event (no "UPDATE OR DELETE", no TRUNCATE statement)
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {event} refused'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event}")
