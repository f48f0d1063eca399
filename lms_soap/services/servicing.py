"""Operations of the loan after approval: ListProducts, ConfirmDisbursement, GetLoanStatement,
WriteOffLoan, GetPortfolioReport (the use cases are lending/lifecycle.py and lending/statement.py)."""
from __future__ import annotations

from spyne import rpc

from lms_soap.lending import lifecycle
from lms_soap.lending.statement import get_statement

from .context import deps, note
from .faults import LmsFault
from .servicing_types import LoanStatement, PortfolioReport, Product, pack_product, pack_report, pack_statement
from .types import FreeText, Loan, LoanId, Reference, UtcDateTime, pack_loan, required

Reason = FreeText.customize(min_len=1)


@rpc(_returns=Product.customize(max_occurs="unbounded"), _out_variable_name="products", _throws=[LmsFault])
def ListProducts(ctx):
    """The loan products, by code: amount bounds, tenor, fee and late penalty (percentages), the
    arrears timetable and approval validity (xs:duration), autoDisburse. Roles bank, admin."""
    return [pack_product(product) for product in lifecycle.list_products(deps(ctx).uow())]


@rpc(required(LoanId), required(Reference), UtcDateTime, _returns=required(Loan), _out_variable_name="loan",
     _throws=[LmsFault])
def ConfirmDisbursement(ctx, loanId, reference, disbursedAt):
    """The bank paid an APPROVED loan out (products without autoDisburse): the loan becomes
    DISBURSED with disbursedAt (default now), its due date, and the fee charged. The same reference
    again returns the loan unchanged. Roles bank, admin. Faults: LoanNotFound, InvalidLoanState,
    IdempotencyConflict, SchemaValidationError."""
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lifecycle.confirm_disbursement(loanId, reference, disbursedAt, d.uow(), d.clock))


@rpc(required(LoanId), _returns=required(LoanStatement), _out_variable_name="statement", _throws=[LmsFault])
def GetLoanStatement(ctx, loanId):
    """A loan with its disbursement and due dates, days past due, charges (FEE, PENALTY), repayments
    with how each was allocated (penalties, then fees, then principal: allocationOrder) and its
    balances. Roles bank, admin. Faults: LoanNotFound."""
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_statement(get_statement(loanId, d.uow(), d.clock))


@rpc(required(LoanId), required(Reason), _returns=required(Loan), _out_variable_name="loan", _throws=[LmsFault])
def WriteOffLoan(ctx, loanId, reason):
    """Writes an OVERDUE or DEFAULTED loan off; later repayments are recorded as recoveries.
    Role admin. Faults: LoanNotFound, InvalidLoanState."""
    note(ctx, loan=loanId)
    d = deps(ctx)
    return pack_loan(lifecycle.write_off_loan(loanId, reason, d.uow(), d.clock))


@rpc(UtcDateTime, _returns=required(PortfolioReport), _out_variable_name="report", _throws=[LmsFault])
def GetPortfolioReport(ctx, asOf):
    """Per status the count and outstanding of the loans, and portfolio at risk PAR1, PAR30, PAR90
    (principal of the loans that many days past due, over the book's principal), as of asOf
    (default now). Role admin."""
    d = deps(ctx)
    return pack_report(lifecycle.portfolio_report(d.uow(), asOf or d.clock.now()))
