"""What the benchmark puts in the database and reads back from it.

Synthetic customers 700000000..799999999 (the CBS simulator's load-test range) are given out in
disjoint blocks, so no two runs or phases share a customer:

    RegisterCustomer  700 000 000 +   (new registrations, warm-up then measured)
    SubmitLoan        710 000 000 +   (pre-registered here; one loan per customer)
    GetTransactions   730 000 000 +   (pre-registered here; records read from the CBS simulator)
    pipeline          740 000 000 +   (pre-registered here; one loan per customer)
    baseline          790 000 000 +   (only a number in the envelope)
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, select

from lms_soap.lending.model import CENTS, IN_SCORING, KycStatus
from lms_soap.models.tables import customers, loans
from lms_soap.sandbox import cbs_data

BLOCKS = {"register": 700_000_000, "submit": 710_000_000, "transactions": 730_000_000,
          "pipeline": 740_000_000, "baseline": 790_000_000}
#: Decided by scoring: approved (the STANDARD product disburses at once: DISBURSED), rejected, failed.
DECIDED = ("APPROVED", "DISBURSED", "REJECTED", "FAILED")


def kyc_row(number: str, now: datetime) -> dict:
    """The customers row RegisterCustomer would store for this synthetic customer: the KYC the
    CBS simulator serves (lms_soap.sandbox.cbs_data), converted as ZeepCoreBanking converts it."""
    kyc = cbs_data.lookup_customer(number)
    assert kyc is not None and kyc["status"] == "ACTIVE", number
    income = kyc.get("monthlyIncome")
    return {
        "customer_number": number, "first_name": kyc.get("firstName"), "middle_name": kyc.get("middleName"),
        "last_name": kyc.get("lastName"), "gender": kyc.get("gender"), "id_type": kyc.get("idType"),
        "id_number": kyc.get("idNumber"), "mobile": kyc.get("mobile"), "email": kyc.get("email"),
        "monthly_income": None if income is None else Decimal(str(float(income))).quantize(
            CENTS, rounding=ROUND_HALF_UP),
        "kyc_status": KycStatus.ACTIVE, "registered_at": now, "kyc_refreshed_at": now,
    }


def preregister(engine, first: int, count: int, chunk: int = 5000) -> float:
    """Register customers first .. first+count-1 in bulk; returns the seconds it took."""
    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    for start in range(first, first + count, chunk):
        rows = [kyc_row(str(n), now) for n in range(start, min(start + chunk, first + count))]
        with engine.begin() as conn:
            conn.execute(insert(customers), rows)
    return time.perf_counter() - started


def count_loans(engine, first_customer: int | None = None, count: int | None = None) -> dict[str, int]:
    stmt = select(loans.c.status, func.count()).group_by(loans.c.status)
    if first_customer is not None and count is not None:
        last = first_customer + count - 1
        stmt = stmt.where(loans.c.customer_number.between(str(first_customer), str(last)))
    with engine.connect() as conn:
        return {getattr(s, "value", s): n for s, n in conn.execute(stmt)}


def undecided(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(loans)
                            .where(loans.c.status.in_([s.value for s in IN_SCORING]))).scalar()


def wait_settled(engine, timeout: float, poll: float = 0.5) -> tuple[bool, float]:
    """Wait until no loan is PENDING or SCORING. Returns (settled, seconds waited)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if undecided(engine) == 0:
            return True, time.monotonic() - started
        time.sleep(poll)
    return False, time.monotonic() - started


def decided_loan_ids(engine, limit: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(loans.c.id).where(loans.c.status.in_(DECIDED))
                                 .order_by(loans.c.created_at).limit(limit)).scalars())


def create_clients(settings) -> dict[str, tuple[str, str]]:
    """Register with the scoring simulator (it gets the LMS's transactions URL and credentials)
    and create the API clients the load uses: {role: (username, password)}."""
    from lms_soap.bootstrap import build_container
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.model import Role
    from lms_soap.lending.registration import register_with_scoring_engine

    container = build_container(settings)
    try:
        register_with_scoring_engine(settings.scoring_client_name, settings.transactions_url,
                                     container.uow(), container.scoring_engine, container.box,
                                     container.clock, generate_secret)
        clients = {}
        for role in ("bank", "scoring"):
            _, password = add_client(f"bench-{role}", Role(role), container.uow(), container.box,
                                     container.clock, generate_secret, description="benchmark", rotate=True)
            clients[role] = (f"bench-{role}", password)
        return clients
    finally:
        container.close()
