"""The mixed traffic: client threads sending RegisterCustomer, SubmitLoan (new, repeated and conflicting
requestIds), GetLoanStatus, ListLoans, CancelLoan, RepayLoan, GetTransactions and the REST
transactions endpoint on synthetic customers, and the Ledger of what the LMS answered."""
from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .client import Client, Stats, tag


@dataclass
class Ledger:
    """What the LMS told us: accepted loans, requestIds, loans seen APPROVED (with outstanding)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    loans: dict = field(default_factory=dict)  # loanId -> (customer, requestId)
    by_customer: dict = field(default_factory=lambda: defaultdict(list))
    request_ids: dict = field(default_factory=dict)  # requestId -> (loanId, customer, amount)
    approved: dict = field(default_factory=dict)  # loanId -> outstanding Decimal
    registered: set = field(default_factory=set)  # customers RegisterCustomer accepted

    def accept(self, loan_id: str, customer: str, request_id: str | None, amount: Decimal,
               stats: Stats) -> None:
        with self.lock:
            if loan_id not in self.loans:
                self.loans[loan_id] = (customer, request_id)
                self.by_customer[customer].append(loan_id)
            if request_id:
                seen = self.request_ids.setdefault(request_id, (loan_id, customer, amount))
                if seen[0] != loan_id:
                    stats.problem(f"requestId {request_id} answered loans {seen[0]} and {loan_id}")


def traffic(client: Client, ledger: Ledger, customers: list[str], rng: random.Random, deadline: float,
            max_iterations: int, thread_no: int, stop: threading.Event) -> None:
    stats = client.stats
    own_request_ids: list[str] = []
    seq = itertools.count()
    operations = ["register", "submit", "submit", "status", "status", "list", "cancel", "repay", "repay",
                  "transactions", "rest"]
    for _ in range(max_iterations):
        if time.monotonic() > deadline or stop.is_set():
            return
        op = rng.choice(operations)
        number = rng.choice(customers)
        if op != "register" and rng.random() < 0.9:  # mostly customers known to be registered
            with ledger.lock:
                if ledger.registered:
                    number = rng.choice(tuple(ledger.registered))
        if op == "register":
            if client.soap("RegisterCustomer", tag("customerNumber", number)).ok:
                with ledger.lock:
                    ledger.registered.add(number)
        elif op == "submit":
            roll = rng.random()
            if own_request_ids and roll < 0.2:  # a retry of an earlier request: the same loan back
                request_id = rng.choice(own_request_ids)
                with ledger.lock:
                    _, number, amount = ledger.request_ids.get(request_id, (None, number, Decimal("100.00")))
            else:
                request_id = f"soak-{thread_no}-{next(seq)}" if roll < 0.8 else None
                amount = Decimal(rng.choice(["50.00", "250.00", "1000.00", "4000.00", "9000.00", "60000.00"]))
            if request_id and roll < 0.03 and own_request_ids:  # deliberately conflicting reuse
                amount += Decimal("1.00")
            answer = client.soap("SubmitLoan", tag("customerNumber", number) + tag("amount", amount)
                                 + tag("requestId", request_id))
            if answer.ok:
                ledger.accept(answer.text("loanId"), number, request_id, amount, stats)
                if request_id and request_id not in own_request_ids:
                    own_request_ids.append(request_id)
        elif op in ("status", "cancel"):
            with ledger.lock:
                mine = list(ledger.by_customer.get(number, ()))
            if not mine:
                client.soap("GetLoanStatus", tag("customerNumber", number))
                continue
            loan_id = rng.choice(mine)
            if op == "cancel" and rng.random() < 0.5:
                client.soap("CancelLoan", tag("loanId", loan_id) + tag("reason", "soak"))
                continue
            answer = client.soap("GetLoanStatus", tag("loanId", loan_id))
            if answer.ok and answer.text("status") == "APPROVED":
                with ledger.lock:
                    ledger.approved[loan_id] = Decimal(answer.text("outstanding") or "0")
        elif op == "list":
            client.soap("ListLoans", tag("customerNumber", number) + tag("limit", 10))
        elif op == "repay":
            with ledger.lock:
                candidates = [(i, o) for i, o in ledger.approved.items() if o > 0]
            if not candidates:
                client.soap("ListLoans", tag("customerNumber", number) + tag("status", "APPROVED"))
                continue
            loan_id, outstanding = rng.choice(candidates)
            amount = outstanding if rng.random() < 0.6 else (outstanding / 2).quantize(Decimal("0.01"))
            amount = max(amount, Decimal("0.01"))
            reference = f"R-{thread_no}-{next(seq)}"
            answer = client.soap("RepayLoan", tag("loanId", loan_id) + tag("amount", amount)
                                 + tag("reference", reference))
            if answer.ok:
                with ledger.lock:
                    ledger.approved[loan_id] = Decimal(answer.text("outstanding") or "0")
                if rng.random() < 0.2:  # the same reference again: idempotent (checked in the database)
                    client.soap("RepayLoan", tag("loanId", loan_id) + tag("amount", amount)
                                + tag("reference", reference))
        elif op == "transactions":
            client.soap("GetTransactions", tag("customerNumber", number), session=client.scoring)
        else:
            client.rest_transactions(number)


def warm_up(url: str, creds: dict[str, tuple[str, str]], customer: str, rounds: int) -> None:
    """Calls not measured, so that every gunicorn thread has served each kind of call once."""
    warm = Client(url, creds["bank"], creds["scoring"], Stats())
    for _ in range(rounds):
        warm.soap("RegisterCustomer", tag("customerNumber", customer))
        warm.soap("GetLoanStatus", tag("customerNumber", customer))
        warm.soap("GetTransactions", tag("customerNumber", customer), session=warm.scoring)


def drive(url: str, creds: dict[str, tuple[str, str]], customers: list[str], stats: Stats, ledger: Ledger,
          *, threads: int, seed: int, deadline: float, max_iterations: int) -> None:
    """`threads` client threads send the traffic until the deadline (or Ctrl-C); returns once all ended."""
    stop = threading.Event()
    workers = [threading.Thread(target=traffic, name=f"soak-{i}", daemon=True,
                                args=(Client(url, creds["bank"], creds["scoring"], stats), ledger, customers,
                                      random.Random(seed * 1000 + i), deadline, max_iterations, i, stop))
               for i in range(threads)]
    for t in workers:
        t.start()
    try:
        for t in workers:
            t.join()
    except KeyboardInterrupt:
        stop.set()
        for t in workers:
            t.join()
