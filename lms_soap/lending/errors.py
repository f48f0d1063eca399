"""Domain errors. services/faults.py maps each one to the SOAP fault catalogue, in one place.

Every error carries a stable `code` (the catalogue's reason, without Client./Server.) and,
where one applies, the loan id.
"""
from __future__ import annotations


class LendingError(Exception):
    """Base of every error the use cases raise on purpose."""

    code = "InternalError"
    side = "Server"  # "Client": the caller can fix it; "Server": we or a dependency failed

    def __init__(self, message: str, *, loan_id: str | None = None, customer_number: str | None = None):
        super().__init__(message)
        self.message = message
        self.loan_id = loan_id
        self.customer_number = customer_number

    @property
    def faultcode(self) -> str:
        return f"{self.side}.{self.code}"


class ClientError(LendingError):
    side = "Client"


class SchemaValidationError(ClientError):
    code = "SchemaValidationError"


class MalformedRequest(ClientError):
    code = "MalformedRequest"


class AuthenticationFailed(ClientError):
    code = "AuthenticationFailed"


class NotAuthorized(ClientError):
    code = "NotAuthorized"


class CustomerNotFound(ClientError):
    code = "CustomerNotFound"


class CustomerNotRegistered(ClientError):
    code = "CustomerNotRegistered"


class CustomerInactive(ClientError):
    code = "CustomerInactive"


class LoanInProgress(ClientError):
    code = "LoanInProgress"


class LoanNotFound(ClientError):
    code = "LoanNotFound"


class InvalidLoanState(ClientError):
    code = "InvalidLoanState"


class AmountOutOfRange(ClientError):
    code = "AmountOutOfRange"


class AmountExceedsOutstanding(ClientError):
    code = "AmountExceedsOutstanding"


class IdempotencyConflict(ClientError):
    code = "IdempotencyConflict"


class ProductNotFound(ClientError):
    code = "ProductNotFound"


class CustomerInArrears(ClientError):
    """The customer has a written-off loan not recovered in full."""

    code = "CustomerInArrears"


class DependencyError(LendingError):
    """A system we call failed. Adapters raise the subclasses; nothing accepted is lost."""


class CoreBankingUnavailable(DependencyError):
    code = "CoreBankingUnavailable"


class ScoringEngineUnavailable(DependencyError):
    code = "ScoringEngineUnavailable"


class BankCallbackFailed(DependencyError):
    """The bank's callback endpoint did not take a notification (never a fault: the worker retries)."""

    code = "BankCallbackFailed"


class ServiceUnavailable(DependencyError):
    """Our own database or queue is down."""

    code = "ServiceUnavailable"


class QueueUnavailable(ServiceUnavailable):
    """Redis could not take a job. Use cases swallow it: the reconciler re-queues from the database."""


class InternalError(LendingError):
    code = "InternalError"


#: Every faultcode of the catalogue, in the contract's order (declared in the WSDL, listed in the README).
FAULT_CATALOGUE: tuple[type[LendingError], ...] = (
    SchemaValidationError,
    MalformedRequest,
    AuthenticationFailed,
    NotAuthorized,
    CustomerNotFound,
    CustomerNotRegistered,
    CustomerInactive,
    LoanInProgress,
    LoanNotFound,
    InvalidLoanState,
    AmountOutOfRange,
    AmountExceedsOutstanding,
    IdempotencyConflict,
    ProductNotFound,
    CustomerInArrears,
    CoreBankingUnavailable,
    ScoringEngineUnavailable,
    ServiceUnavailable,
    InternalError,
)


class Conflict(LendingError):
    """A concurrent writer got there first: a unique constraint refused a row, or a row's version
    moved on. Not a catalogue fault by itself: use cases re-read and raise the fault that applies."""

    def __init__(self, message: str, *, constraint: str | None = None):
        super().__init__(message)
        self.constraint = constraint
