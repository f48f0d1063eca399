"""Operations: SubmitLoan, GetLoanStatus, ListLoans, CancelLoan, RepayLoan."""
from __future__ import annotations

from spyne import Integer32, Unicode, rpc

from lms_soap.lending import loans as lending
from lms_soap.lending.model import LoanStatus

from .context import caller, deps, note
from .faults import LmsFault
from .types import (
    CustomerNumber,
    FreeText,
    Loan,
    LoanId,
    LoanStatusType,
    PositiveMoney,
    Reference,
    RequestId,
    pack_loan,
    required,
)

#: lending.products.PRODUCT_CODE
ProductCode = Unicode(min_len=1, max_len=32, pattern=r"[A-Z0-9][A-Z0-9_\-]{0,31}")
Offset = Integer32(ge=0)
Limit = Integer32(ge=1, le=lending.MAX_PAGE)


@rpc(required(CustomerNumber), PositiveMoney, RequestId, ProductCode, _returns=required(Loan),
     _out_variable_name="loan", _throws=[LmsFault])
def SubmitLoan(ctx, customerNumber, amount, requestId, productCode):
    """Applies for a loan: answers at once with the loan PENDING; scoring and the decision follow
    (poll GetLoanStatus). productCode names the product (default STANDARD; ListProducts). The same
    requestId with the same customer, amount and product returns the same loan. Roles bank, admin.
    Faults: CustomerNotRegistered, CustomerInactive, ProductNotFound, AmountOutOfRange (the
    service's or the product's bounds), LoanInProgress (detail: the ongoing loanId),
    CustomerInArrears (a written-off loan not recovered in full), IdempotencyConflict."""
    note(ctx, customer=customerNumber)
    d = deps(ctx)
    loan = lending.submit_loan(customerNumber, amount, requestId, d.uow(), d.queue, d.clock, d.loan_policy,
                               caller=caller(ctx), product_code=productCode)
    note(ctx, loan=loan.id)
    return pack_loan(loan)


@rpc(LoanId, CustomerNumber, _returns=required(Loan), _out_variable_name="loan", _throws=[LmsFault])
def GetLoanStatus(ctx, loanId, customerNumber):
    """A loan by loanId, or a customer's latest loan by customerNumber, with its status history.
    Roles bank, admin. Faults: LoanNotFound."""
    note(ctx, customer=customerNumber, loan=loanId)
    loan = lending.get_loan(deps(ctx).uow(), loan_id=loanId, customer_number=customerNumber)
    return pack_loan(loan, with_history=True)


@rpc(required(CustomerNumber), LoanStatusType, Offset, Limit,
     _returns=(Loan.customize(max_occurs="unbounded"), required(Integer32)),
     _out_variable_names=("loans", "total"), _throws=[LmsFault])
def ListLoans(ctx, customerNumber, status, offset, limit):
    """A customer's loans, newest first, optionally of one status, a page at a time (limit at most
    100), with the total count. Roles bank, admin. Faults: CustomerNotRegistered."""
    note(ctx, customer=customerNumber)
    rows, total = lending.list_loans(deps(ctx).uow(), customerNumber,
                                     LoanStatus(str(status)) if status else None,
                                     offset, limit)
    return [pack_loan(loan) for loan in rows], total


@rpc(required(LoanId), FreeText, _returns=required(Loan), _out_variable_name="loan", _throws=[LmsFault])
def CancelLoan(ctx, loanId, reason):
    """Cancels a loan that is still PENDING, SCORING or APPROVED (not disbursed). Roles bank,
    admin. Faults: LoanNotFound, InvalidLoanState."""
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lending.cancel_loan(loanId, reason, d.uow(), d.clock))


@rpc(required(LoanId), PositiveMoney, required(Reference), _returns=required(Loan), _out_variable_name="loan",
     _throws=[LmsFault])
def RepayLoan(ctx, loanId, amount, reference):
    """Records a repayment of a DISBURSED, OVERDUE or DEFAULTED loan, allocated penalties, then
    fees, then principal; reaching zero outstanding closes it. On a WRITTEN_OFF loan it is recorded
    as a recovery. A repeat with the same reference is idempotent. Roles bank, admin. Faults:
    LoanNotFound, InvalidLoanState, AmountExceedsOutstanding."""
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lending.repay_loan(loanId, amount, reference, d.uow(), d.clock))
