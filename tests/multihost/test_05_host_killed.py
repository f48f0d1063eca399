"""One LMS host killed (web and worker, SIGKILL, at once) while loans are scoring: every loan is
decided, none twice, and at most one engine score token is orphaned (the step in flight on the
killed worker)."""
import time
from .cluster import DECIDED


def test_a_host_killed_while_loans_score_loses_nothing(cluster, customers):
    numbers = customers(12)
    roles = ("app1", "app2", "app3")
    results = cluster.drive({"mode": "burst", "requests": [
        cluster.submit(roles[i % 3], n, f"kill-{n}") for i, n in enumerate(numbers)]})
    assert [r["http"] for r in results] == [200] * len(numbers), results
    ids = [r["loanId"] for r in results]
    time.sleep(0.3)  # scoring under way on every worker
    cluster.apps["app2"].kill()
    try:
        statuses = cluster.wait_decided(ids, timeout=90)
    finally:
        cluster.apps["app2"].start()  # the next checks use three hosts again
    assert all(statuses[i] in DECIDED for i in ids), statuses
    assert set(cluster.decisions(ids).values()) == {1}, cluster.decisions(ids)
    tokens = cluster.sim_state()["tokens_by_customer"]
    orphaned = sum(tokens.get(n, 0) - 1 for n in numbers)
    assert orphaned <= 1, {n: tokens.get(n, 0) for n in numbers}
