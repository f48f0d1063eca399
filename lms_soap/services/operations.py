"""The operation table: one entry per operation, read by everything that needs to know about it.

- the gateway (web/gateway.py): which body elements name a known operation (SOAP_OPERATIONS);
- auth (services/auth.py authorize): which roles may call it;
- the audit trail (web/audit_trail.py): whether it writes and which of its calls are recorded;
- REST and /metrics (web/rest.py, web/metrics.py): their roles, as entries that are not SOAP;
- the Spyne service (services/application.py build_service): the handlers it publishes;
- the request counters and the access log (app.py): the operation's name;
- tests/unit/test_operation_table.py: the table against the WSDL's and the SoapUI project's
  operations, both ways.

Adding a SOAP operation: its handler (an @rpc function in the area's module: customers.py,
loans.py, scoring.py, servicing.py, or a new one), its types (types.py), one entry in OPERATIONS below, then
`lms-soap wsdl export` and a request in soapui/lms-soapui-project.xml.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from lms_soap.lending.model import Role

from . import customers, loans, scoring, servicing

BANK, SCORING, ADMIN = Role.BANK, Role.SCORING, Role.ADMIN
BANK_OR_ADMIN = frozenset({BANK, ADMIN})


class Audit(Enum):
    """Which calls of an operation the audit log records (web/audit_trail.py applies it)."""

    #: Every call: a success's row is committed with its change (or written on its own when it
    #: committed nothing, an idempotent replay); a fault's row in a transaction of its own.
    EVERY_CALL = "every call"
    #: Only the calls refused for who is calling (AuthenticationFailed, NotAuthorized).
    REFUSALS = "refusals"


@dataclass(frozen=True)
class Operation:
    name: str
    roles: frozenset[Role]  # who may call it (the contract's role table)
    writes: bool  # False: it changes nothing
    #: The Spyne @rpc function that serves it; None: not a SOAP operation (REST, /metrics).
    handler: Callable | None = None
    #: Default: every call of an operation that writes, the refusals of one that reads.
    audit: Audit | None = None

    def __post_init__(self):
        if self.audit is None:
            object.__setattr__(self, "audit", Audit.EVERY_CALL if self.writes else Audit.REFUSALS)

    @property
    def soap(self) -> bool:
        return self.handler is not None


#: Every SOAP operation, in the WSDL's order. The lifecycle's operations go here too.
OPERATIONS: tuple[Operation, ...] = (
    # customers (services/customers.py)
    Operation("RegisterCustomer", BANK_OR_ADMIN, writes=True, handler=customers.RegisterCustomer),
    Operation("GetCustomer", BANK_OR_ADMIN, writes=False, handler=customers.GetCustomer),
    # loans (services/loans.py)
    Operation("SubmitLoan", BANK_OR_ADMIN, writes=True, handler=loans.SubmitLoan),
    Operation("GetLoanStatus", BANK_OR_ADMIN, writes=False, handler=loans.GetLoanStatus),
    Operation("ListLoans", BANK_OR_ADMIN, writes=False, handler=loans.ListLoans),
    Operation("CancelLoan", BANK_OR_ADMIN, writes=True, handler=loans.CancelLoan),
    Operation("RepayLoan", BANK_OR_ADMIN, writes=True, handler=loans.RepayLoan),
    # the loan after approval (services/servicing.py)
    Operation("ListProducts", BANK_OR_ADMIN, writes=False, handler=servicing.ListProducts),
    Operation("ConfirmDisbursement", BANK_OR_ADMIN, writes=True, handler=servicing.ConfirmDisbursement),
    Operation("GetLoanStatement", BANK_OR_ADMIN, writes=False, handler=servicing.GetLoanStatement),
    Operation("WriteOffLoan", frozenset({ADMIN}), writes=True, handler=servicing.WriteOffLoan),
    Operation("GetPortfolioReport", frozenset({ADMIN}), writes=False, handler=servicing.GetPortfolioReport),
    # the scoring side (services/scoring.py)
    Operation("ScoringRegister", frozenset({ADMIN}), writes=True, handler=scoring.ScoringRegister),
    Operation("GetTransactions", frozenset({SCORING, ADMIN}), writes=False, handler=scoring.GetTransactions),
)
SOAP_OPERATIONS: dict[str, Operation] = {op.name: op for op in OPERATIONS}

# --- entries that are not SOAP operations: counted, logged and audited the same way ---------------
#: GET /api/v1/transactions/{customerNumber} (web/rest.py), the scoring engine's callback.
REST_TRANSACTIONS = Operation("REST:transactions", frozenset({SCORING, ADMIN}), writes=False)
#: GET /metrics on the service's address (web/metrics.py): only its refused scrapes are counted.
REST_METRICS = Operation("REST:metrics", frozenset({ADMIN}), writes=False)
#: A SOAP request refused before its body named a known operation: nobody can tell what it would
#: have done, so each one is recorded.
UNKNOWN = Operation("unknown", frozenset(), writes=False, audit=Audit.EVERY_CALL)
