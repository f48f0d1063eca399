"""Concurrent SubmitLoan for one customer, spread over the three LMS hosts: one loan.

Mechanism: the database's partial unique index on the customer's ongoing loan (not a lock in any
one process). Switched off (DROP INDEX of it) two hosts can both insert."""
from .cluster import APP_HOSTS


def test_concurrent_submits_for_one_customer_on_three_hosts_make_one_loan(cluster, customers):
    (customer,) = customers(1)
    plan = [cluster.submit(APP_HOSTS[i % 3], customer, f"one-{customer}-{i}") for i in range(9)]
    results = cluster.drive({"mode": "burst", "requests": plan})

    accepted = [r for r in results if r["http"] == 200]
    refused = [r["fault"] for r in results if r["http"] != 200]
    assert len(accepted) == 1, results
    assert set(refused) == {"Client.LoanInProgress"}, results
    rows = cluster.query("SELECT id FROM loans WHERE customer_number = :c", c=customer)
    assert [row[0] for row in rows] == [accepted[0]["loanId"]]
