"""The SOAP types of the loan after approval (release 1.1): products, the loan statement and the
portfolio report, and their packing from lending's values. Wire format only (urn:lms-soap:v1)."""
from __future__ import annotations

from spyne import Boolean, Decimal, Duration, Enum, Integer32, Unicode

from lms_soap.lending.model import ChargeType as DomainChargeType
from lms_soap.lending.portfolio import PortfolioReport as DomainReport
from lms_soap.lending.products import Product as DomainProduct
from lms_soap.lending.statement import Statement

from .types import TNS, Loan, LoanStatusType, Money, UtcDateTime, _Base, money, pack_loan, required

#: A percentage (7.5 means 7.5 %), as products state their fee and late penalty.
Percent = Decimal(total_digits=7, fraction_digits=4)
#: A portfolio-at-risk ratio: outstanding at risk over the book, 4 decimals (0.0125 = 1.25 %).
Ratio = Decimal(total_digits=7, fraction_digits=4)
ChargeTypeType = Enum(*[t.value for t in DomainChargeType], type_name="ChargeType", __namespace__=TNS)


class Product(_Base):
    _type_info = [
        ("code", required(Unicode)),
        ("name", required(Unicode)),
        ("currency", required(Unicode)),
        ("minAmount", required(Money)),
        ("maxAmount", required(Money)),
        ("tenor", required(Duration)),
        ("fee", required(Percent)),  # percent of the principal, charged at disbursement
        ("latePenalty", required(Percent)),  # percent of the outstanding principal, once at OVERDUE
        # The contract's name; an xs:duration like the others (SANDBOX-FAST's grace is PT5S).
        ("graceDays", required(Duration)),
        ("defaultAfter", required(Duration)),
        ("writeOffAfter", required(Duration)),
        ("approvalValidity", required(Duration)),
        ("autoDisburse", required(Boolean)),
    ]


class Charge(_Base):
    _type_info = [
        ("type", required(ChargeTypeType)),
        ("amount", required(Money)),
        ("appliedAt", required(UtcDateTime)),
    ]


class Allocation(_Base):
    """How one repayment was split (penalty + fee + principal = the amount)."""

    _type_info = [
        ("penalty", required(Money)),
        ("fee", required(Money)),
        ("principal", required(Money)),
    ]


class Repayment(_Base):
    _type_info = [
        ("reference", required(Unicode)),
        ("amount", required(Money)),
        ("receivedAt", required(UtcDateTime)),
        ("allocation", required(Allocation)),
        ("recovery", required(Boolean)),  # received after the write-off
    ]


class Balances(_Base):
    _type_info = [
        ("principalOutstanding", required(Money)),
        ("feesOutstanding", required(Money)),
        ("penaltiesOutstanding", required(Money)),
        ("totalOutstanding", required(Money)),
        ("recovered", required(Money)),
    ]


class LoanStatement(_Base):
    _type_info = [
        ("loan", required(Loan)),
        ("disbursedAt", UtcDateTime),
        ("dueDate", UtcDateTime),
        ("daysPastDue", required(Integer32)),
        ("allocationOrder", required(Unicode)),  # "PENALTIES, FEES, PRINCIPAL"
        ("charges", Charge.customize(max_occurs="unbounded")),
        ("repayments", Repayment.customize(max_occurs="unbounded")),
        ("balances", required(Balances)),
    ]


class PortfolioStatus(_Base):
    _type_info = [
        ("status", required(LoanStatusType)),
        ("count", required(Integer32)),
        ("principalOutstanding", required(Money)),
        ("totalOutstanding", required(Money)),
    ]


class PortfolioAtRisk(_Base):
    _type_info = [
        ("days", required(Integer32)),  # 1, 30, 90
        ("outstanding", required(Money)),  # principal of the loans that many days past due or more
        ("ratio", required(Ratio)),  # over the book's principal
    ]


class PortfolioReport(_Base):
    _type_info = [
        ("asOf", required(UtcDateTime)),
        ("statuses", PortfolioStatus.customize(max_occurs="unbounded")),
        ("par", PortfolioAtRisk.customize(max_occurs="unbounded")),
        ("bookPrincipal", required(Money)),  # principal of DISBURSED, OVERDUE and DEFAULTED loans
        ("totalOutstanding", required(Money)),
    ]


# --- packing ------------------------------------------------------------------------------------
def pack_product(product: DomainProduct) -> Product:
    return Product(
        code=product.code, name=product.name, currency=product.currency,
        minAmount=money(product.min_amount), maxAmount=money(product.max_amount), tenor=product.tenor,
        fee=product.fee_percent, latePenalty=product.late_penalty_percent, graceDays=product.grace,
        defaultAfter=product.default_after, writeOffAfter=product.write_off_after,
        approvalValidity=product.approval_validity, autoDisburse=product.auto_disburse)


def pack_statement(statement: Statement) -> LoanStatement:
    return LoanStatement(
        loan=pack_loan(statement.loan), disbursedAt=statement.disbursed_at, dueDate=statement.due_date,
        daysPastDue=statement.days_past_due, allocationOrder=statement.allocation_order,
        charges=[Charge(type=c.type.value, amount=money(c.amount), appliedAt=c.applied_at)
                 for c in statement.charges],
        repayments=[Repayment(reference=r.reference, amount=money(r.amount), receivedAt=r.at,
                              allocation=Allocation(penalty=money(r.penalty_part), fee=money(r.fee_part),
                                                    principal=money(r.principal_part)),
                              recovery=r.recovery)
                    for r in statement.repayments],
        balances=Balances(principalOutstanding=money(statement.principal_outstanding),
                          feesOutstanding=money(statement.fees_outstanding),
                          penaltiesOutstanding=money(statement.penalties_outstanding),
                          totalOutstanding=money(statement.total_outstanding),
                          recovered=money(statement.recovered)))


def pack_report(report: DomainReport) -> PortfolioReport:
    return PortfolioReport(
        asOf=report.as_of,
        statuses=[PortfolioStatus(status=line.status, count=line.count,
                                  principalOutstanding=money(line.principal_outstanding),
                                  totalOutstanding=money(line.total_outstanding))
                  for line in report.statuses],
        par=[PortfolioAtRisk(days=line.days, outstanding=money(line.outstanding), ratio=line.ratio)
             for line in report.par],
        bookPrincipal=money(report.book_principal), totalOutstanding=money(report.total_outstanding))
