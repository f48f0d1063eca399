"""The Redis primary killed: the Sentinels promote the replica, the LMS hosts and workers follow
it, and no loan is lost (a job lost with the old primary is queued again by the reconciler).

Switched off (LMS_MULTIHOST_NO_SENTINEL=1: the hosts know the primary's address only), the loans
submitted after the kill are never scored and this check fails."""
import json
import time

from .services import REDIS_PORTS
from .cluster import DECIDED


def test_the_lms_follows_a_sentinel_failover_and_loses_no_loan(cluster, customers):
    numbers = customers(12)
    roles = ("app1", "app2", "app3")
    first = cluster.drive({"mode": "burst", "requests": [
        cluster.submit(roles[i % 3], n, f"fo-{n}") for i, n in enumerate(numbers[:6])]})
    later = cluster.drive_async({"mode": "paced", "interval": 1.0, "requests": [
        cluster.submit(roles[i % 3], n, f"fo-{n}") for i, n in enumerate(numbers[6:])]})
    cluster.redis.kill(REDIS_PORTS["primary"])
    out, _ = later.communicate(timeout=60)
    results = first + json.loads(out)
    assert [r["http"] for r in results] == [200] * len(numbers), results

    deadline = time.monotonic() + 30
    while cluster.redis.primary_port() != REDIS_PORTS["replica"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cluster.redis.primary_port() == REDIS_PORTS["replica"], "the Sentinels did not promote the replica"

    ids = [r["loanId"] for r in results]
    statuses = cluster.wait_decided(ids, timeout=90)
    assert all(statuses[i] in DECIDED for i in ids), statuses
    assert set(cluster.decisions(ids).values()) == {1}, cluster.decisions(ids)
