"""FastSoap11 (lms_soap/services/serializer.py) writes byte for byte what Spyne's Soap11 writes,
for every response of the service, whatever the values (absent, empty, special characters,
datetimes with or without microseconds, repeated members, nil required members)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from spyne.protocol.soap import Soap11

from lms_soap.lending.model import Customer, KycStatus, Loan, LoanEvent, LoanStatus, ScoringRegistration
from lms_soap.lending.transaction_fields import TRANSACTION_FIELDS
from lms_soap.services.application import build_soap_application
from lms_soap.services.serializer import FastSoap11
from lms_soap.services.types import TNS, pack_customer, pack_loan, pack_registration, pack_transaction

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
APP = build_soap_application()
GENERIC, FAST = Soap11(), FastSoap11()
OUT = {d.name: d.out_message for d in APP.interface.method_id_map.values()}

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("&<>\"'\t\n"), max_size=12)
maybe_text = st.none() | text
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=3))]))
money = st.none() | st.decimals(min_value=0, max_value=10**9, places=2)
statuses = st.sampled_from(list(LoanStatus))


@st.composite
def loans(draw) -> Loan:
    at = draw(moments)
    events = [LoanEvent("L", draw(st.none() | statuses), draw(statuses), draw(maybe_text), draw(moments))
              for _ in range(draw(st.integers(0, 4)))]
    return Loan(id=draw(text.filter(bool)), customer_number=draw(text), amount=draw(money) or Decimal("1.00"),
                currency=draw(text), status=draw(statuses), created_at=at, updated_at=draw(moments),
                request_id=draw(maybe_text), status_reason=draw(maybe_text),
                score=draw(st.none() | st.integers(-2**31, 2**31 - 1)), limit_amount=draw(money),
                exclusion=draw(maybe_text), exclusion_reason=draw(maybe_text),
                scoring_attempts=draw(st.integers(0, 50)), principal_outstanding=draw(money),
                decided_at=draw(st.none() | moments), events=events)


@st.composite
def customers(draw) -> Customer:
    return Customer(customer_number=draw(text), first_name=draw(maybe_text), middle_name=draw(maybe_text),
                    last_name=draw(maybe_text), gender=draw(maybe_text), id_type=draw(maybe_text),
                    id_number=draw(maybe_text), mobile=draw(maybe_text), email=draw(maybe_text),
                    monthly_income=draw(money), kyc_status=draw(st.sampled_from(list(KycStatus))),
                    registered_at=draw(moments), kyc_refreshed_at=draw(moments))


_VALUES = {"string": text, "double": st.floats(allow_nan=False, allow_infinity=False),
           "int": st.integers(-2**31, 2**31 - 1), "long": st.integers(-2**63, 2**63 - 1), "dateTime": moments}


@st.composite
def transactions(draw) -> dict:
    return {name: draw(_VALUES[xs] if not optional else st.none() | _VALUES[xs])
            for name, xs, optional in TRANSACTION_FIELDS}


def render(protocol, message_class, **values) -> bytes:
    body = etree.Element(f"{{{SOAP_ENV}}}Body", nsmap=APP.interface.nsmap)
    protocol.to_parent(None, message_class, message_class(**values), body, TNS)
    etree.cleanup_namespaces(body)
    return etree.tostring(body, encoding="UTF-8")


def same(operation: str, **values) -> None:
    generic = render(GENERIC, OUT[operation], **values)
    assert render(FAST, OUT[operation], **values) == generic


common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(loans(), st.booleans())
def test_a_loan_is_written_as_spyne_writes_it(loan, history):
    same("GetLoanStatus", loan=pack_loan(loan, with_history=history))
    same("SubmitLoan", loan=pack_loan(loan))


@common
@given(st.lists(loans(), max_size=3), st.integers(0, 10**6))
def test_a_list_of_loans_and_its_total(rows, total):
    same("ListLoans", loans=[pack_loan(loan) for loan in rows], total=total)


@common
@given(customers(), st.none() | loans(), st.booleans())
def test_a_customer_with_or_without_its_ongoing_loan(customer, ongoing, already):
    same("RegisterCustomer", customer=pack_customer(customer), alreadyRegistered=already)
    same("GetCustomer", customer=pack_customer(customer, ongoing))


@common
@given(st.lists(transactions(), max_size=3))
def test_transaction_records(records):
    same("GetTransactions", transactions=[pack_transaction(record) for record in records])


@common
@given(text, text, text, moments)
def test_a_scoring_registration(client_id, name, url, at):
    registration = ScoringRegistration(client_id=client_id, name=name, url=url, username="scoring-engine",
                                       token_ciphertext="x", registered_at=at)
    same("ScoringRegister", registration=pack_registration(registration))


def test_absent_required_members_and_empty_answers_fall_back_to_spyne():
    loan = pack_loan(Loan(id="L1", customer_number="1", amount=Decimal("5.00"), currency="KES",
                          status=LoanStatus.PENDING, created_at=datetime(2024, 1, 1, tzinfo=timezone.utc),
                          updated_at=datetime(2024, 1, 1, tzinfo=timezone.utc)))
    loan.loanId = None  # required: Spyne writes xsi:nil
    same("GetLoanStatus", loan=loan)
    same("GetLoanStatus", loan=None)
    same("ListLoans", loans=[], total=0)
    same("GetTransactions", transactions=[])
