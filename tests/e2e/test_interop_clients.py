"""Real SOAP clients of other stacks against the live LMS: each builds its client from the WSDL URL
the LMS serves (nothing hand-written about the messages), calls every bank operation and
GetTransactions (scoring role), with HTTP Basic and with a WS-Security UsernameToken, and reads
the catalogue faults (faultcode and the LmsFault detail).

Stacks: zeep and suds-community (Python), the npm `soap` package (Node.js, tests/e2e/node/).
Each plays the same scenario (the Node one is tests/e2e/node/client.js) and reports it as a list
of steps in one shape, which `check_scenario` checks for every stack alike.

What each stack needs (also in soapui/README.md):
- zeep: nothing special; Basic through a requests Session, WS-Security with zeep.wsse.UsernameToken
  (a wsu:Timestamp is added here to show the LMS accepts a fresh one).
- suds: Basic preemptively (an Authorization header), or suds' default HttpAuthenticated
  (`username=`/`password=`), which sends Basic only after the LMS's 401 challenge.
  WS-Security with suds.wsse.Security (UsernameToken + Timestamp).
- node soap: BasicAuthSecurity or WSSecurity (PasswordText, with its default Timestamp).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from lms_soap.lending.transaction_fields import TRANSACTION_FIELDS
from tests.e2e.interop_support import background_worker

NODE_DIR = Path(__file__).resolve().parent / "node"
DECIDED = {"APPROVED", "DISBURSED", "REJECTED", "FAILED", "CANCELLED", "CLOSED"}
POLL_DEADLINE = 30.0
TRANSACTIONS_CUSTOMER = "234774784"  # two CBS records (the scoring engine documentation's)
TRANSACTIONS_ACCOUNT = "332216783322167555621628"
EMPTY_CUSTOMER = "555000002"  # known to the CBS, no transaction records
#: Synthetic customers of the simulators (700000000..799999999): ACTIVE, approved for 1000.00.
CUSTOMERS = {
    ("zeep", "basic"): "700000011", ("zeep", "wsse"): "700000012",
    ("zeep-soap12", "basic"): "700000013", ("zeep-soap12", "wsse"): "700000014",
    ("suds", "basic"): "700000021", ("suds", "wsse"): "700000022", ("suds", "challenge"): "700000023",
    ("node", "basic"): "700000031", ("node", "wsse"): "700000032",
}
#: Child elements of each XResponse: zeep and suds unwrap a single child, node keeps the wrapper.
OUTPUTS = {
    "RegisterCustomer": ("customer", "alreadyRegistered"),
    "GetCustomer": ("customer",),
    "SubmitLoan": ("loan",),
    "GetLoanStatus": ("loan",),
    "ListLoans": ("loans", "total"),
    "CancelLoan": ("loan",),
    "RepayLoan": ("loan",),
    "GetTransactions": ("transactions",),
}
REQUIRED_TRANSACTION_FIELDS = {name for name, _, optional in TRANSACTION_FIELDS if not optional}
ALL_TRANSACTION_FIELDS = [name for name, _, _ in TRANSACTION_FIELDS]


class StackFault(Exception):
    """A SOAP fault as the stack under test exposed it."""

    def __init__(self, faultcode: str, faultstring: str, detail: dict[str, Any]):
        super().__init__(faultcode)
        self.fault = {"faultcode": faultcode, "faultstring": faultstring, "detail": detail}


# --- Python stacks ------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """JSON-like values from what a stack returned (objects, lists, Decimal, datetime)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def wrap(operation: str, result: Any) -> dict[str, Any]:
    names = OUTPUTS[operation]
    if len(names) == 1:
        return {names[0]: result}
    return {name: result.get(name) for name in names} if isinstance(result, dict) else result


class ZeepStack:
    name = "zeep"
    #: The WSDL port the client binds (zeep takes the service's first port, SOAP 1.1, by default).
    port: str | None = None

    def __init__(self, wsdl_url: str, username: str, password: str, mode: str):
        import zeep
        from zeep.transports import Transport
        from zeep.wsse.username import UsernameToken
        from zeep.wsse.utils import WSU

        session = requests.Session()
        wsse = None
        if mode == "basic":
            session.auth = (username, password)
        else:
            now = datetime.now(timezone.utc)
            timestamp = WSU.Timestamp()
            timestamp.append(WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")))
            timestamp.append(WSU.Expires((now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")))
            wsse = UsernameToken(username, password, timestamp_token=timestamp)
        transport = Transport(session=session, timeout=10, operation_timeout=10)
        self.client = zeep.Client(wsdl_url, transport=transport, wsse=wsse)
        self.service = (self.client.service if self.port is None
                        else self.client.bind("LoanManagementService", self.port))

    def call(self, operation: str, **kwargs) -> dict[str, Any]:
        from zeep.exceptions import Fault
        from zeep.helpers import serialize_object

        try:
            result = getattr(self.service, operation)(**kwargs)
        except Fault as fault:
            detail: dict[str, Any] = {}
            if fault.detail is not None:
                lms_fault = fault.detail.find("{urn:lms-soap:v1}LmsFault")
                if lms_fault is not None:
                    detail = {child.tag.split("}")[-1]: child.text for child in lms_fault}
            raise StackFault(self._faultcode(fault), str(fault.message), detail) from None
        return plain(wrap(operation, serialize_object(result, dict)))

    @staticmethod
    def _faultcode(fault) -> str:
        """SOAP 1.1: the faultcode as sent. SOAP 1.2: env:Sender/env:Receiver and the subcode, read
        back as the catalogue's Client.<Reason>/Server.<Reason>."""
        code = str(fault.code)
        side = {"Sender": "Client", "Receiver": "Server"}.get(code.rpartition(":")[2])
        if side is None or not fault.subcodes:
            return code
        return f"{side}.{fault.subcodes[0].localname}"


class ZeepSoap12Stack(ZeepStack):
    name = "zeep-soap12"
    port = "LoanManagementServiceSoap12"


class SudsStack:
    name = "suds"

    def __init__(self, wsdl_url: str, username: str, password: str, mode: str):
        from suds.client import Client
        from suds.wsse import Security, Timestamp, UsernameToken

        if mode == "basic":
            # Preemptive Basic: suds' own HttpAuthenticated only answers a 401 challenge.
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.client = Client(wsdl_url, headers={"Authorization": f"Basic {token}"}, timeout=10,
                                 cache=None)
        elif mode == "challenge":
            # suds' default: HttpAuthenticated sends Basic once the LMS answered 401 with a challenge.
            self.client = Client(wsdl_url, username=username, password=password, timeout=10, cache=None)
        else:
            security = Security()
            security.tokens.append(UsernameToken(username, password))
            security.tokens.append(Timestamp())
            self.client = Client(wsdl_url, wsse=security, timeout=10, cache=None)

    def call(self, operation: str, **kwargs) -> dict[str, Any]:
        from suds import WebFault

        try:
            result = getattr(self.client.service, operation)(**kwargs)
        except WebFault as exc:
            fault = exc.fault
            detail: dict[str, Any] = {}
            lms_fault = getattr(getattr(fault, "detail", None), "LmsFault", None)
            if lms_fault is not None:
                detail = {name: value for name, value in lms_fault}
            raise StackFault(str(fault.faultcode), str(fault.faultstring), detail) from None
        return plain(wrap(operation, suds_plain(result)))


def suds_plain(value: Any) -> Any:
    from suds.sudsobject import Object

    if isinstance(value, Object):
        return {name: suds_plain(item) for name, item in value}
    if isinstance(value, list):
        return [suds_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)  # suds' Text subclass
    return value


def python_scenario(bank, scoring, customer: str, run_id: str) -> list[dict[str, Any]]:
    """The scenario of tests/e2e/node/client.js, for a Python stack."""
    steps: list[dict[str, Any]] = []

    def call(name: str, stack, operation: str, **kwargs) -> dict[str, Any] | None:
        try:
            result = stack.call(operation, **kwargs)
        except StackFault as fault:
            steps.append({"name": name, "operation": operation, "ok": False, "fault": fault.fault})
            return None
        steps.append({"name": name, "operation": operation, "ok": True, "result": result})
        return result

    request_id = f"{bank.name}-{run_id}"
    amount = Decimal("1000.00")
    call("register", bank, "RegisterCustomer", customerNumber=customer)
    call("get customer", bank, "GetCustomer", customerNumber=customer)
    submitted = call("submit", bank, "SubmitLoan", customerNumber=customer, amount=amount,
                     requestId=request_id)
    loan_id = submitted["loan"]["loanId"] if submitted else "missing"
    call("submit replay", bank, "SubmitLoan", customerNumber=customer, amount=amount, requestId=request_id)
    call("second submit", bank, "SubmitLoan", customerNumber=customer, amount=amount)
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        status = bank.call("GetLoanStatus", loanId=loan_id)
        if status["loan"]["status"] in DECIDED or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    steps.append({"name": "status decided", "operation": "GetLoanStatus", "ok": True, "result": status})
    call("status by customer", bank, "GetLoanStatus", customerNumber=customer)
    call("list", bank, "ListLoans", customerNumber=customer, offset=0, limit=10)
    outstanding = Decimal(status["loan"].get("outstanding") or amount)
    call("repay too much", bank, "RepayLoan", loanId=loan_id, amount=Decimal("99999999.00"),
         reference=f"{request_id}-x")
    call("repay", bank, "RepayLoan", loanId=loan_id, amount=outstanding, reference=f"{request_id}-r1")
    second = call("submit again", bank, "SubmitLoan", customerNumber=customer, amount=Decimal("500.00"))
    second_id = second["loan"]["loanId"] if second else "missing"
    call("cancel", bank, "CancelLoan", loanId=second_id, reason="changed my mind")
    call("cancel again", bank, "CancelLoan", loanId=second_id)
    call("unknown loan", bank, "GetLoanStatus", loanId="NOSUCHLOAN")
    call("transactions", scoring, "GetTransactions", customerNumber=TRANSACTIONS_CUSTOMER)
    call("no transactions", scoring, "GetTransactions", customerNumber=EMPTY_CUSTOMER)
    call("transactions as bank", bank, "GetTransactions", customerNumber=TRANSACTIONS_CUSTOMER)
    return steps


# --- Node.js stack ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def node_client() -> Path:
    """tests/e2e/node with its dependencies installed (npm install on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm are not on PATH")
    wanted = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["soap"]
    installed = NODE_DIR / "node_modules" / "soap" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != wanted:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    return NODE_DIR / "client.js"


def node_scenario(script: Path, wsdl_url: str, mode: str, customer: str, run_id: str,
                  bank: tuple[str, str], scoring: tuple[str, str]) -> list[dict[str, Any]]:
    env = {**os.environ, "LMS_BANK_USERNAME": bank[0], "LMS_BANK_PASSWORD": bank[1],
           "LMS_SCORING_USERNAME": scoring[0], "LMS_SCORING_PASSWORD": scoring[1]}
    done = subprocess.run(
        [shutil.which("node") or "node", str(script), "--wsdl", wsdl_url, "--mode", mode,
         "--customer", customer, "--transactions-customer", TRANSACTIONS_CUSTOMER,
         "--empty-customer", EMPTY_CUSTOMER, "--run-id", run_id],
        env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"node client failed:\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["stack"] == "node-soap" and report["mode"] == mode
    return report["steps"]


# --- the checks, the same for every stack ---------------------------------------------------------
def check_scenario(steps: list[dict[str, Any]], customer: str) -> None:
    by_name = {step["name"]: step for step in steps}

    def ok(name: str) -> dict[str, Any]:
        step = by_name[name]
        assert step["ok"], f"{name}: unexpected fault {step.get('fault')}"
        return step["result"]

    def fault(name: str, reason: str) -> dict[str, Any]:
        step = by_name[name]
        assert not step["ok"], f"{name}: expected {reason}, got a result"
        found = step["fault"]
        # The stack read the faultcode (a QName, prefix as the LMS wrote it) and the detail.
        assert f"Client.{reason}" in found["faultcode"], found
        assert found["faultstring"], found
        assert found["detail"].get("code") == reason, found
        return found

    registered = ok("register")
    assert registered["customer"]["customerNumber"] == customer
    assert registered["customer"]["kycStatus"] == "ACTIVE"
    assert registered["alreadyRegistered"] in (False, "false")
    assert ok("get customer")["customer"]["customerNumber"] == customer

    loan = ok("submit")["loan"]
    loan_id = loan["loanId"]
    assert loan["status"] == "PENDING" and Decimal(str(loan["amount"])) == Decimal("1000.00")
    assert ok("submit replay")["loan"]["loanId"] == loan_id  # requestId: the same loan
    in_progress = fault("second submit", "LoanInProgress")
    assert in_progress["detail"]["loanId"] == loan_id

    decided = ok("status decided")["loan"]
    assert decided["status"] == "DISBURSED", decided  # STANDARD: disbursed at approval
    assert Decimal(str(decided["outstanding"])) == Decimal("1000.00")
    assert [event["toStatus"] for event in decided["history"]][-2:] == ["APPROVED", "DISBURSED"]
    assert ok("status by customer")["loan"]["loanId"] == loan_id

    listed = ok("list")
    loans = listed["loans"] if isinstance(listed["loans"], list) else [listed["loans"]]
    assert int(listed["total"]) == 1 and [item["loanId"] for item in loans] == [loan_id]

    assert fault("repay too much", "AmountExceedsOutstanding")["detail"]["loanId"] == loan_id
    repaid = ok("repay")["loan"]
    assert repaid["status"] == "CLOSED" and Decimal(str(repaid["outstanding"])) == 0

    again = ok("submit again")["loan"]
    assert again["status"] == "PENDING" and again["loanId"] != loan_id
    cancelled = ok("cancel")["loan"]
    assert cancelled["status"] == "CANCELLED" and cancelled["loanId"] == again["loanId"]
    fault("cancel again", "InvalidLoanState")
    fault("unknown loan", "LoanNotFound")

    records = ok("transactions")["transactions"]
    assert isinstance(records, list) and len(records) == 2
    for record in records:
        assert record["accountNumber"] == TRANSACTIONS_ACCOUNT
        assert REQUIRED_TRANSACTION_FIELDS <= set(record) <= set(ALL_TRANSACTION_FIELDS)
        assert [name for name in record if name in ALL_TRANSACTION_FIELDS] == \
            [name for name in ALL_TRANSACTION_FIELDS if name in record]  # CBS order kept
    assert not ok("no transactions").get("transactions")  # an empty list, not a fault
    fault("transactions as bank", "NotAuthorized")


# --- the tests ------------------------------------------------------------------------------------
@pytest.fixture
def live_lms(lms):
    """The in-process LMS with the scoring engine registered, the customers whose transactions are
    read registered (GetTransactions serves registered customers only), and a worker deciding loans."""
    lms.register_scoring()
    lms.register_customers(TRANSACTIONS_CUSTOMER, EMPTY_CUSTOMER)
    with background_worker(lms.settings):
        yield lms


PY_STACKS: dict[str, Callable[..., Any]] = {"zeep": ZeepStack, "zeep-soap12": ZeepSoap12Stack,
                                            "suds": SudsStack}


@pytest.mark.parametrize("mode", ["basic", "wsse"])
@pytest.mark.parametrize("stack_name", ["zeep", "zeep-soap12", "suds"])
def test_python_stack_calls_every_operation(live_lms, stack_name, mode):
    make = PY_STACKS[stack_name]
    bank = make(live_lms.wsdl_url, *live_lms.credentials("bank"), mode)
    scoring = make(live_lms.wsdl_url, *live_lms.credentials("scoring"), mode)
    customer = CUSTOMERS[(stack_name, mode)]
    steps = python_scenario(bank, scoring, customer, run_id=f"{mode}-{time.time_ns()}")
    check_scenario(steps, customer)


def test_suds_with_its_default_non_preemptive_basic_calls_every_operation(live_lms):
    """Today's main answers the first, credential-less request with HTTP 500: suds never sends Basic."""
    from suds.transport.https import HttpAuthenticated

    bank = SudsStack(live_lms.wsdl_url, *live_lms.credentials("bank"), "challenge")
    scoring = SudsStack(live_lms.wsdl_url, *live_lms.credentials("scoring"), "challenge")
    assert isinstance(bank.client.options.transport, HttpAuthenticated)
    assert "Authorization" not in (bank.client.options.headers or {})
    customer = CUSTOMERS[("suds", "challenge")]
    steps = python_scenario(bank, scoring, customer, run_id=f"challenge-{time.time_ns()}")
    check_scenario(steps, customer)


@pytest.mark.parametrize("mode", ["basic", "wsse"])
def test_node_soap_calls_every_operation(live_lms, node_client, mode):
    customer = CUSTOMERS[("node", mode)]
    steps = node_scenario(node_client, live_lms.wsdl_url, mode, customer, f"{time.time_ns()}",
                          live_lms.credentials("bank"), live_lms.credentials("scoring"))
    check_scenario(steps, customer)


def test_every_stack_reads_an_authentication_fault(lms, node_client):
    """Wrong credentials: each stack surfaces Client.AuthenticationFailed as a SOAP fault (not a
    transport error), in both credential modes."""
    username, _ = lms.credentials("bank")
    for mode in ("basic", "wsse"):
        for make in PY_STACKS.values():
            stack = make(lms.wsdl_url, username, "not-the-password", mode)
            with pytest.raises(StackFault) as caught:
                stack.call("GetCustomer", customerNumber="700000011")
            assert "Client.AuthenticationFailed" in caught.value.fault["faultcode"]
            assert caught.value.fault["detail"]["code"] == "AuthenticationFailed"
    env = {**os.environ, "LMS_BANK_USERNAME": username, "LMS_BANK_PASSWORD": "not-the-password",
           "LMS_SCORING_USERNAME": username, "LMS_SCORING_PASSWORD": "not-the-password"}
    for mode in ("basic", "wsse"):
        done = subprocess.run([shutil.which("node") or "node", str(node_client), "--wsdl", lms.wsdl_url,
                               "--mode", mode, "--customer", "700000011"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        first = json.loads(done.stdout)["steps"][0]
        assert not first["ok"] and "Client.AuthenticationFailed" in first["fault"]["faultcode"]
        assert first["fault"]["detail"]["code"] == "AuthenticationFailed"
        assert first["fault"]["httpStatus"] == 500
