"""`lms-soap demo`'s second part (skipped with --no-lifecycle): a SANDBOX-FAST loan going overdue,
defaulting and being written off in real time (about 90 s: due at +20 s, OVERDUE 5 s later,
DEFAULTED at due + 15 s, WRITTEN_OFF at due + 60 s; the sandbox's arrears job runs every 2 s),
with its statement at each stage, a partial repayment allocated penalties first, and a recovery
of the rest after the write-off, which lets the customer borrow again (so the demo can run again).

The customer is 397178638 (the scoring simulator approves it), not the first part's 234774784.
"""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Callable

CUSTOMER = "397178638"
PRODUCT = "SANDBOX-FAST"
AMOUNT = Decimal("1000.00")
PARTIAL = Decimal("100.00")
POLL_INTERVAL_SECONDS = 0.5
#: The longest wait for one status (SANDBOX-FAST's longest step is 45 s, plus the job's interval).
STEP_TIMEOUT_SECONDS = 75.0


def _status_after(soap, loan_id: str, leaving: tuple[str, ...], started: float, say: Callable,
                  error: type[Exception]) -> Any:
    """Poll until the loan's status is none of `leaving`, printing each change."""
    deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
    while True:
        loan = soap.GetLoanStatus(loanId=loan_id)
        if loan.status not in leaving:
            say(f"t+{time.monotonic() - started:5.1f}s  {loan.status}"
                + (f" ({loan.statusReason})" if loan.statusReason else ""))
            return loan
        if time.monotonic() > deadline:
            raise error(f"loan {loan_id} still {loan.status} after {STEP_TIMEOUT_SECONDS:.0f} s "
                        "(is the worker running its arrears job? see logs/worker.log)")
        time.sleep(POLL_INTERVAL_SECONDS)


def _show_statement(soap, loan_id: str, say: Callable) -> Any:
    statement = soap.GetLoanStatement(loanId=loan_id)
    b = statement.balances
    charges = ", ".join(f"{c.type} {c.amount}" for c in statement.charges) or "none"
    say(f"statement: due {statement.dueDate:%H:%M:%S}, {statement.daysPastDue} day(s) past due; "
        f"charges {charges}")
    for r in statement.repayments:
        a = r.allocation
        say(f"  {'recovery' if r.recovery else 'repayment'} {r.reference} {r.amount}: penalty {a.penalty}, "
            f"fee {a.fee}, principal {a.principal}")
    say(f"  owed: principal {b.principalOutstanding} + fees {b.feesOutstanding} + penalties "
        f"{b.penaltiesOutstanding} = {b.totalOutstanding}; recovered {b.recovered} "
        f"(allocation order {statement.allocationOrder})")
    return statement


def _clear(soap, run_id: str, customer: str, say: Callable) -> None:
    """An earlier interrupted run may have left a loan ongoing or written off and unrecovered."""
    from zeep.exceptions import Fault

    ongoing = soap.GetCustomer(customerNumber=customer).ongoingLoan
    if ongoing is not None and ongoing.outstanding:
        say(f"an earlier run left loan {ongoing.loanId} {ongoing.status}: repaying its {ongoing.outstanding}")
        soap.RepayLoan(loanId=ongoing.loanId, amount=ongoing.outstanding, reference=f"{run_id}-cleanup")
    elif ongoing is not None:
        try:
            soap.CancelLoan(loanId=ongoing.loanId, reason="demo clean-up")
        except Fault:
            pass  # decided meanwhile; SubmitLoan will say so
    for loan in soap.ListLoans(customerNumber=customer, status="WRITTEN_OFF").loans or []:
        if loan.outstanding:
            say(f"an earlier run left loan {loan.loanId} written off: recovering its {loan.outstanding}")
            soap.RepayLoan(loanId=loan.loanId, amount=loan.outstanding, reference=f"{run_id}-recover-{loan.loanId}")


def walk_lifecycle(soap, run_id: str, step: Callable[[int, str], None], say: Callable[[str], None],
                   error: type[Exception], product: str = PRODUCT, first_step: int = 7) -> None:
    """The lifecycle part, on a zeep service proxy `soap` (the bank client)."""
    from zeep.exceptions import Fault

    step(first_step, f"ListProducts: the {product} terms")
    offered = {p.code: p for p in soap.ListProducts()}
    if product not in offered:
        raise error(f"no product {product} here (the sandbox seeds it); run `lms-soap demo --no-lifecycle`")
    p = offered[product]
    say(f"{product}: tenor {p.tenor}, fee {p.fee} %, late penalty {p.latePenalty} %, grace {p.graceDays}, "
        f"default after {p.defaultAfter}, write-off after {p.writeOffAfter} (past due)")

    step(first_step + 1, f"SubmitLoan {AMOUNT} on {product} for {CUSTOMER}: disbursed, the fee charged")
    soap.RegisterCustomer(customerNumber=CUSTOMER)
    _clear(soap, run_id, CUSTOMER, say)
    started = time.monotonic()
    loan_id = soap.SubmitLoan(customerNumber=CUSTOMER, amount=AMOUNT, requestId=f"{run_id}-fast",
                              productCode=product).loanId
    loan = _status_after(soap, loan_id, ("PENDING", "SCORING", "APPROVED"), started, say, error)
    if loan.status != "DISBURSED":
        raise error(f"loan {loan_id} was {loan.status} ({loan.statusReason}), not DISBURSED")
    _show_statement(soap, loan_id, say)

    step(first_step + 2, "Past its due date and grace: OVERDUE, the late penalty charged once")
    say("(waiting in real time; the arrears job moves the loan)")
    loan = _status_after(soap, loan_id, ("DISBURSED",), started, say, error)
    _show_statement(soap, loan_id, say)
    soap.RepayLoan(loanId=loan_id, amount=PARTIAL, reference=f"{run_id}-part")
    say(f"RepayLoan {PARTIAL}: allocated penalties first, then fees, then principal")
    _show_statement(soap, loan_id, say)

    step(first_step + 3, "DEFAULTED, then WRITTEN_OFF")
    while loan.status != "WRITTEN_OFF":
        loan = _status_after(soap, loan_id, (loan.status,), started, say, error)
    try:
        soap.SubmitLoan(customerNumber=CUSTOMER, amount=Decimal("10.00"), requestId=f"{run_id}-refused")
    except Fault as exc:
        say(f"a new loan is refused: {(exc.code or '').split(':', 1)[-1]}: {exc.message}")
    else:
        raise error("a new loan was accepted while the written-off loan is not recovered")

    step(first_step + 4, "A recovery of the rest: written off, recovered in full")
    owed = soap.GetLoanStatement(loanId=loan_id).balances.totalOutstanding
    soap.RepayLoan(loanId=loan_id, amount=owed, reference=f"{run_id}-recovery")
    statement = _show_statement(soap, loan_id, say)
    if statement.balances.totalOutstanding != 0 or statement.balances.recovered != owed:
        raise error(f"the recovery of {owed} was not recorded")
    say(f"customer {CUSTOMER} may borrow again")
