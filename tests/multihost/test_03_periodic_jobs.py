"""The reconciler runs on every host's worker; loans whose jobs were lost are scored once.

Loans are written straight into the database as PENDING and overdue, with no job queued (as after a
Redis flush). All three reconcilers find them and queue them; each loan must be scored once: one
score token asked of the engine, one decision."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from lms_soap.models.tables import loans
from .cluster import DECIDED


def test_three_reconcilers_score_each_lost_loan_once(cluster, customers):
    numbers = customers(8)
    now = datetime.now(timezone.utc)
    rows = [{"id": f"LNMH{n}", "customer_number": n, "amount": "500.00", "currency": "KES",
             "status": "PENDING", "request_id": f"lost-{n}", "scoring_attempts": 0, "initiate_attempts": 0,
             "next_attempt_at": now - timedelta(seconds=30), "created_at": now - timedelta(seconds=30),
             "updated_at": now - timedelta(seconds=30), "version": 1} for n in numbers]
    with cluster.engine.begin() as conn:
        conn.execute(insert(loans), rows)
    ids = [row["id"] for row in rows]

    statuses = cluster.wait_decided(ids, timeout=90)
    assert all(statuses[i] in DECIDED for i in ids), statuses
    assert set(cluster.decisions(ids).values()) == {1}, cluster.decisions(ids)
    tokens = cluster.sim_state()["tokens_by_customer"]
    assert {n: tokens.get(n, 0) for n in numbers} == {n: 1 for n in numbers}, "engine asked more than once"
