"""PostgreSQL restarted behind PgBouncer: requests fail with Server.ServiceUnavailable while it is
down, then succeed again, without restarting PgBouncer or any LMS process.

PgBouncer holds a query while no server answers, up to its query_wait_timeout (3 s in the
harness): a shorter outage is only a delay. The outage here is longer, so it is seen."""
import json
import time

OUTAGE_SECONDS = 6


def test_postgres_restart_behind_pgbouncer_costs_the_outage_only(cluster, customers):
    (customer,) = customers(1)
    fields = f"<tns:customerNumber>{customer}</tns:customerNumber>"
    plan = {"mode": "loop", "seconds": 20, "interval": 0.1,
            "requests": [cluster.soap(role, "GetCustomer", fields) for role in ("app1", "app2", "app3")]}
    driver = cluster.drive_async(plan)
    time.sleep(2)
    cluster.db.stop_postgres()
    time.sleep(OUTAGE_SECONDS)
    cluster.db.start_postgres(cluster.base_env())
    back = time.time()
    out, _ = driver.communicate(timeout=60)
    results = json.loads(out)
    outcomes = [(r["t"], r["http"] == 200, r["fault"] or r["error"]) for r in results]
    assert {o[2] for o in outcomes if not o[1]} <= {"Server.ServiceUnavailable"}, outcomes
    assert any(not ok for _, ok, _ in outcomes), "the outage was not seen"
    first_ok_after = next(i for i, (t, ok, _) in enumerate(outcomes) if ok and t >= back)
    assert all(ok for _, ok, _ in outcomes[first_ok_after:]), outcomes[first_ok_after:]
    assert len(outcomes) - first_ok_after >= 10, "too few requests after the restart to judge"
