"""`lms-soap demo`: walk the loan journey against a running sandbox, printing each step.

It reads <state>/credentials.json (written by `lms-soap sandbox`), builds a zeep client from the
WSDL URL alone, and as the bank client:
  1. registers customer 234774784 (KYC from the CBS simulator);
  2. submits a loan of 1000.00 and polls GetLoanStatus until it is decided (PENDING -> SCORING ->
     APPROVED, and DISBURSED at once as STANDARD says: the scoring simulator approves up to
     50000.00 for this customer);
  3. shows that the scoring engine pulled the customer's transactions from the LMS (/_sim/state);
  4. shows that a second loan is refused with Client.LoanInProgress while the first is ongoing;
  5. repays the loan in two parts, the second one CLOSING it;
  6. shows that the customer has no ongoing loan: a new one would be accepted;
  7-11. unless --no-lifecycle: a SANDBOX-FAST loan going overdue, defaulting and being written
     off, with its statement, a partial repayment and a recovery (sandbox/demo_lifecycle.py; ~90 s).
A loan left ongoing by an interrupted earlier run is repaid (disbursed) or cancelled first, so the
demo can run again and again. Exit status 0 when every step went as described, 1 otherwise, 2
when no sandbox answers.
"""
from __future__ import annotations

import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

CUSTOMER = "234774784"
AMOUNT = Decimal("1000.00")
#: Seconds to wait for the scoring decision.
DECISION_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.25
#: Seconds for each SOAP or HTTP call.
CALL_TIMEOUT_SECONDS = 10
IN_SCORING = ("PENDING", "SCORING")


class DemoError(Exception):
    """A step did not go as the demo expects."""


class SandboxUnavailable(DemoError):
    """No running sandbox to talk to."""


def _step(number: int, title: str) -> None:
    print(f"\n[{number}] {title}", flush=True)


def _say(text: str) -> None:
    print(f"    {text}", flush=True)


def _fault(exc: Exception) -> tuple[str, dict[str, str]]:
    """(faultcode without prefix, LmsFault detail fields) of a zeep Fault."""
    code = (getattr(exc, "code", None) or "").split(":", 1)[-1]
    detail: dict[str, str] = {}
    element = getattr(exc, "detail", None)
    if element is not None:
        for node in element.iter():
            name = node.tag.split("}", 1)[-1] if isinstance(node.tag, str) else ""
            if name in ("code", "loanId", "customerNumber") and node.text:
                detail[name] = node.text
    return code, detail


def load_credentials(state_dir: Path) -> dict[str, Any]:
    path = Path(state_dir) / "credentials.json"
    try:
        credentials = json.loads(path.read_text())
    except FileNotFoundError:
        raise SandboxUnavailable(f"no {path}: start the sandbox first "
                                 f"(lms-soap sandbox --state-dir {state_dir})") from None
    except ValueError as exc:
        raise SandboxUnavailable(f"{path} is not valid JSON: {exc}") from None
    missing = [k for k in ("lms_url", "wsdl_url", "scoring_url", "bank") if k not in credentials]
    if missing:
        raise SandboxUnavailable(f"{path} lacks {', '.join(missing)}")
    return credentials


def _check_running(credentials: dict[str, Any]) -> None:
    url = f"{credentials['lms_url']}/healthz"
    try:
        requests.get(url, timeout=3).raise_for_status()
    except requests.RequestException as exc:
        raise SandboxUnavailable(f"the sandbox is not running: {url} does not answer "
                                 f"({type(exc).__name__}); start it with `lms-soap sandbox`") from None


def _client(credentials: dict[str, Any]):
    import zeep
    from zeep.transports import Transport

    session = requests.Session()
    session.auth = (credentials["bank"]["username"], credentials["bank"]["password"])
    transport = Transport(session=session, timeout=CALL_TIMEOUT_SECONDS, operation_timeout=CALL_TIMEOUT_SECONDS)
    return zeep.Client(credentials["wsdl_url"], transport=transport).service


def _clear_ongoing(soap, run_id: str) -> None:
    """Repay (disbursed) or cancel (PENDING/SCORING/APPROVED) a loan left ongoing by an earlier run."""
    from zeep.exceptions import Fault

    for _ in range(5):
        loan = soap.GetCustomer(customerNumber=CUSTOMER).ongoingLoan
        if loan is None:
            return
        try:
            if loan.outstanding:  # disbursed: it owes
                _say(f"an earlier run left loan {loan.loanId} {loan.status}: repaying its {loan.outstanding}")
                soap.RepayLoan(loanId=loan.loanId, amount=loan.outstanding, reference=f"{run_id}-cleanup")
            else:
                _say(f"an earlier run left loan {loan.loanId} {loan.status}: cancelling it")
                soap.CancelLoan(loanId=loan.loanId, reason="demo clean-up")
        except Fault as exc:  # decided meanwhile: look again
            _say(f"({_fault(exc)[0]}: {exc.message}; looking again)")
    raise DemoError("could not clear the customer's ongoing loan from an earlier run")


def _wait_for_decision(soap, loan_id: str) -> Any:
    started = time.monotonic()
    seen = None
    while True:
        loan = soap.GetLoanStatus(loanId=loan_id)
        if loan.status != seen:
            seen = loan.status
            _say(f"t+{time.monotonic() - started:4.1f}s  {loan.status:9} (scoring attempts: {loan.scoringAttempts})")
        if loan.status not in IN_SCORING:
            return loan
        if time.monotonic() - started > DECISION_TIMEOUT_SECONDS:
            raise DemoError(f"loan {loan_id} still {loan.status} after {DECISION_TIMEOUT_SECONDS:.0f} s "
                            "(is the worker running? see the sandbox's logs/worker.log)")
        time.sleep(POLL_INTERVAL_SECONDS)


def walk(credentials: dict[str, Any], lifecycle: bool = True) -> None:
    from zeep.exceptions import Fault

    run_id = f"demo-{uuid.uuid4().hex[:12]}"
    soap = _client(credentials)
    print(f"LMS {credentials['lms_url']} (WSDL {credentials['wsdl_url']}), "
          f"as API client {credentials['bank']['username']}")

    _step(1, f"RegisterCustomer {CUSTOMER} (KYC from the CBS)")
    result = soap.RegisterCustomer(customerNumber=CUSTOMER)
    customer = result.customer
    _say(f"{customer.firstName} {customer.lastName}, KYC {customer.kycStatus}, "
         f"{'already registered' if result.alreadyRegistered else 'newly registered'}")
    _clear_ongoing(soap, run_id)

    _step(2, f"SubmitLoan {AMOUNT} (requestId {run_id}), then GetLoanStatus until decided")
    loan = soap.SubmitLoan(customerNumber=CUSTOMER, amount=AMOUNT, requestId=run_id)
    loan_id = loan.loanId
    _say(f"accepted: loan {loan_id} {loan.amount} {loan.currency}")
    loan = _wait_for_decision(soap, loan_id)
    _say(f"decision: {loan.status}  score {loan.score}, limit {loan.limitAmount}, {loan.exclusion}"
         + (f" ({loan.statusReason})" if loan.statusReason else ""))
    if loan.status != "DISBURSED":
        raise DemoError(f"loan {loan_id} was {loan.status} ({loan.statusReason}), not APPROVED and DISBURSED")
    _say("history: " + " -> ".join(e.toStatus for e in soap.GetLoanStatus(loanId=loan_id).history))

    _step(3, "The scoring engine pulled the customer's transactions from the LMS")
    sim = requests.get(f"{credentials['scoring_url']}/_sim/state", timeout=CALL_TIMEOUT_SECONDS).json()
    fetched = sim.get("transactions_fetched", {}).get(CUSTOMER)
    if fetched is None:
        raise DemoError(f"the scoring simulator has no transaction fetch for {CUSTOMER}: {sim}")
    _say(f"scoring simulator: {fetched} transaction records fetched for {CUSTOMER}, "
         f"{sim.get('polls_by_customer', {}).get(CUSTOMER, 0)} queryScore polls")

    _step(4, "A second SubmitLoan while this one is ongoing")
    try:
        other = soap.SubmitLoan(customerNumber=CUSTOMER, amount=Decimal("200.00"), requestId=f"{run_id}-2")
    except Fault as exc:
        code, detail = _fault(exc)
        if code != "Client.LoanInProgress":
            raise DemoError(f"expected Client.LoanInProgress, got {code}: {exc.message}") from None
        _say(f"refused: {code} (ongoing loan {detail.get('loanId', '?')}): {exc.message}")
    else:
        raise DemoError(f"a second loan was accepted while {loan_id} is ongoing: {other.loanId}")

    _step(5, "RepayLoan in two parts")
    first = (AMOUNT / 2).quantize(Decimal("0.01"))
    for number, amount in ((1, first), (2, AMOUNT - first)):
        loan = soap.RepayLoan(loanId=loan_id, amount=amount, reference=f"{run_id}-r{number}")
        _say(f"repaid {amount}: outstanding {loan.outstanding}, status {loan.status}")
    if loan.status != "CLOSED":
        raise DemoError(f"loan {loan_id} is {loan.status} after full repayment, not CLOSED")

    _step(6, "The customer can borrow again")
    ongoing = soap.GetCustomer(customerNumber=CUSTOMER).ongoingLoan
    if ongoing is not None:
        raise DemoError(f"GetCustomer still shows ongoing loan {ongoing.loanId}")
    _say(f"GetCustomer {CUSTOMER}: no ongoing loan, so a new SubmitLoan would be accepted")
    if lifecycle:
        from .demo_lifecycle import walk_lifecycle

        walk_lifecycle(soap, run_id, _step, _say, DemoError)


def run_demo(state_dir: Path, lifecycle: bool = True) -> int:
    from zeep.exceptions import Error as ZeepError

    try:
        credentials = load_credentials(state_dir)
        _check_running(credentials)
        walk(credentials, lifecycle)
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except DemoError as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    except (ZeepError, requests.RequestException) as exc:
        print(f"\ndemo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    print("\ndemo complete: register, score, refuse a second loan, repay, close"
          + ("; overdue, default, write-off, recovery." if lifecycle else "."), flush=True)
    return 0
