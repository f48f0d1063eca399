"""An LMS host cut off from Redis: its SubmitLoan calls still succeed (the loan is in the
database; the job waits), and those loans are scored by the reconciler (any host's) and once
Redis is back."""
from .cluster import DECIDED


def test_a_host_cut_off_from_redis_still_accepts_loans_and_they_are_scored(cluster, customers):
    numbers = customers(4)
    app3 = cluster.apps["app3"].host
    app3.block(cluster.redis_host)
    try:
        results = cluster.drive({"mode": "burst", "requests": [
            cluster.submit("app3", n, f"cut-{n}") for n in numbers]})
        assert [(r["http"], r["error"]) for r in results] == [(200, None)] * len(numbers), results
    finally:
        app3.unblock(cluster.redis_host)
    ids = [r["loanId"] for r in results]
    statuses = cluster.wait_decided(ids, timeout=90)
    assert all(statuses[i] in DECIDED for i in ids), statuses
    assert set(cluster.decisions(ids).values()) == {1}

    # app3's own worker is back on the queue: a loan it accepts now is scored too
    (late,) = customers(1)
    (result,) = cluster.drive({"mode": "burst", "requests": [cluster.submit("app3", late, f"cut-{late}")]})
    assert cluster.wait_decided([result["loanId"]], timeout=60)[result["loanId"]] in DECIDED
