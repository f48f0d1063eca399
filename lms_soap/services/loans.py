"""Operations: SubmitLoan, GetLoanStatus, ListLoans, CancelLoan, RepayLoan."""
from __future__ import annotations

from spyne import Integer32, rpc

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

Offset = Integer32(ge=0)
Limit = Integer32(ge=1, le=lending.MAX_PAGE)


@rpc(required(CustomerNumber), PositiveMoney, RequestId, _returns=Loan, _out_variable_name="loan",
     _throws=[LmsFault])
def SubmitLoan(ctx, customerNumber, amount, requestId):
    note(ctx, customer=customerNumber)
    d = deps(ctx)
    loan = lending.submit_loan(customerNumber, amount, requestId, d.uow(), d.queue, d.clock, d.loan_policy,
                               caller=caller(ctx))
    note(ctx, loan=loan.id)
    return pack_loan(loan)


@rpc(LoanId, CustomerNumber, _returns=Loan, _out_variable_name="loan", _throws=[LmsFault])
def GetLoanStatus(ctx, loanId, customerNumber):
    note(ctx, customer=customerNumber, loan=loanId)
    loan = lending.get_loan(deps(ctx).uow(), loan_id=loanId, customer_number=customerNumber)
    return pack_loan(loan, with_history=True)


@rpc(required(CustomerNumber), LoanStatusType, Offset, Limit,
     _returns=(Loan.customize(max_occurs="unbounded"), Integer32),
     _out_variable_names=("loans", "total"), _throws=[LmsFault])
def ListLoans(ctx, customerNumber, status, offset, limit):
    note(ctx, customer=customerNumber)
    rows, total = lending.list_loans(deps(ctx).uow(), customerNumber,
                                     LoanStatus(str(status)) if status else None,
                                     offset or 0, limit or 20)
    return [pack_loan(loan) for loan in rows], total


@rpc(required(LoanId), FreeText, _returns=Loan, _out_variable_name="loan", _throws=[LmsFault])
def CancelLoan(ctx, loanId, reason):
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lending.cancel_loan(loanId, reason, d.uow(), d.clock))


@rpc(required(LoanId), PositiveMoney, required(Reference), _returns=Loan, _out_variable_name="loan",
     _throws=[LmsFault])
def RepayLoan(ctx, loanId, amount, reference):
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lending.repay_loan(loanId, amount, reference, d.uow(), d.clock))


OPERATIONS = {
    "SubmitLoan": SubmitLoan,
    "GetLoanStatus": GetLoanStatus,
    "ListLoans": ListLoans,
    "CancelLoan": CancelLoan,
    "RepayLoan": RepayLoan,
}
