"""The Core Banking System adapter: the `CoreBanking` port over the bank's two SOAP services (zeep).

Both zeep clients are built once per process, from the bank's verbatim WSDLs shipped in the
package (lms_soap/resources/cbs/; local files: nothing is fetched over the network), with the
endpoints taken from configuration because the WSDLs' soap:address is a placeholder. They share
one pooled session (clients/deadline.py: CBS_CALL_DEADLINE bounds each call) and one Transport.

Every failure (SOAP fault, HTTP error, connection error, timeout, unreadable reply) becomes
errors.CoreBankingUnavailable, except "customer unknown": a SOAP fault whose faultstring says
"not found", or a CustomerResponse without a customer (or without its customerNumber), which
fetch_customer answers with None.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlparse

import requests
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import get_security_header

from lms_soap.clients.deadline import DeadlineSession
from lms_soap.clients.environment import settle_environment
from lms_soap.config import Settings
from lms_soap.lending.errors import CoreBankingUnavailable
from lms_soap.lending.model import CENTS, KYC_FIELDS, KYC_INCOME_LIMIT, KYC_TEXT_LIMITS, KycRecord, KycStatus
from lms_soap.resources import cbs_wsdl_dir

logger = logging.getLogger(__name__)

CUSTOMER_WSDL = "customerWsdl.wsdl"
TRANSACTIONS_WSDL = "transactionWsdl.wsdl"
CUSTOMER_NS = "http://credable.io/cbs/customer"
TRANSACTION_NS = "http://credable.io/cbs/transaction"
#: The bindings the endpoints are attached to (the verbatim WSDLs' only bindings).
CUSTOMER_BINDING = f"{{{CUSTOMER_NS}}}CustomerPortSoap11"
TRANSACTIONS_BINDING = f"{{{TRANSACTION_NS}}}TransactionDataPortSoap11"
TRANSACTION_DATA_TYPE = f"{{{TRANSACTION_NS}}}transactionData"
#: Connections kept open per CBS host. A gunicorn sync worker makes one call at a time; the
#: extra ones serve threaded callers (the sandbox, the RQ worker's reconciler) without churn.
POOL_MAXSIZE = 4
AUTH_MODES = ("wsse", "basic")

# What a broken CBS call can raise: zeep's own errors (Fault, TransportError, XMLSyntaxError,
# XMLParseError, ...), requests' (ConnectionError, Timeout, ...), lxml's, and the ValueError /
# ArithmeticError of a value that does not convert.
_CALL_ERRORS = (ZeepError, requests.RequestException, etree.LxmlError, ValueError, ArithmeticError)

T = TypeVar("T")


class _LocalTransport(Transport):
    """zeep's Transport, minus two things we must not do.

    - Loading: the WSDLs are local files; any http(s) document a WSDL might reference is refused
      rather than fetched (zeep would GET it at start-up, with a 300 s default timeout).
    - Logging: zeep's Transport.post logs the whole envelope at DEBUG level, and with WS-Security
      the envelope carries the password in clear. This post logs the address and status only.
    """

    def load(self, url: str) -> bytes:
        if urlparse(url).scheme in ("http", "https"):
            raise ValueError(f"refusing to fetch {url}: the CBS WSDLs are local files")
        return super().load(url)

    def post(self, address: str, message: bytes | str,
             headers: dict[str, str]) -> requests.Response:
        # Same call as zeep's own post (checked in zeep 4.3's transports.py), which is where
        # operation_timeout is applied: timeout=(connect, read) reaches requests on every POST.
        response = self.session.post(address, data=message, headers=headers,
                                     timeout=self.operation_timeout)
        logger.debug("CBS POST %s -> HTTP %s (%d bytes)", address, response.status_code,
                     len(response.content))
        return response


class _MustUnderstandUsernameToken(UsernameToken):
    """A PasswordText UsernameToken whose wsse:Security header says mustUnderstand="1", as the
    bank's integrators (and SoapUI) send it to the live CBS."""

    def apply(self, envelope: etree._Element, headers: dict) -> tuple[etree._Element, dict]:
        envelope, headers = super().apply(envelope, headers)
        security = get_security_header(envelope)  # the element super().apply() filled in
        security.set(f"{{{etree.QName(envelope).namespace}}}mustUnderstand", "1")
        return envelope, headers


class ZeepCoreBanking:
    """The CoreBanking port (lending/ports.py) over the CBS's Customer and Transactions services."""

    def __init__(self, *, wsdl_dir: str | Path | None = None, customer_url: str, transactions_url: str,
                 username: str, password: str, auth_mode: str = "wsse",
                 connect_timeout: float, read_timeout: float,
                 call_deadline: float = Settings.cbs_call_deadline,
                 session: requests.Session | None = None) -> None:
        """
        :param wsdl_dir: folder of the bank's verbatim customerWsdl.wsdl and transactionWsdl.wsdl
            (default: the copies shipped in the package).
        :param customer_url: endpoint of the Customer (KYC) service; replaces the WSDL's address.
        :param transactions_url: endpoint of the Transactions service; likewise.
        :param username: the CBS user. :param password: its password (never logged).
        :param auth_mode: 'wsse' (WS-Security UsernameToken, PasswordText, mustUnderstand="1")
            or 'basic' (HTTP Basic on the session).
        :param connect_timeout: seconds to establish a connection.
        :param read_timeout: seconds to wait for each read of the reply once connected.
        :param call_deadline: seconds one call may take in all, however the CBS drips its reply.
        :param session: a requests.Session to use instead of the pooled one built here (its
            `auth` is set in basic mode).
        """
        if auth_mode not in AUTH_MODES:
            raise ValueError(f"auth_mode must be one of {AUTH_MODES}, not {auth_mode!r}")
        wsdl_dir = Path(wsdl_dir) if wsdl_dir else cbs_wsdl_dir()
        self._session = session if session is not None else _pooled_session(call_deadline)
        wsse = None
        if auth_mode == "wsse":
            wsse = _MustUnderstandUsernameToken(username, password)
        else:
            self._session.auth = (username, password)
        if session is None:
            settle_environment(self._session, customer_url, transactions_url)
        # timeout: loading documents (only local files here); operation_timeout: each POST,
        # as a (connect, read) pair -- zeep's default is no timeout at all.
        transport = _LocalTransport(session=self._session, timeout=connect_timeout,
                                    operation_timeout=(connect_timeout, read_timeout))
        # strict parsing; no DTDs, entities or external references, in the WSDLs or the replies.
        settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
        customer_client = zeep.Client(str(wsdl_dir / CUSTOMER_WSDL), transport=transport,
                                      wsse=wsse, settings=settings)
        transactions_client = zeep.Client(str(wsdl_dir / TRANSACTIONS_WSDL), transport=transport,
                                          wsse=wsse, settings=settings)
        self._customer = customer_client.create_service(CUSTOMER_BINDING, customer_url)
        self._transactions = transactions_client.create_service(TRANSACTIONS_BINDING,
                                                                transactions_url)
        # The 72 record keys in the WSDL's order, read from the loaded schema (not retyped).
        self.transaction_fields: tuple[str, ...] = tuple(
            name for name, _ in transactions_client.get_type(TRANSACTION_DATA_TYPE).elements)
        self.customer_url = customer_url
        self.transactions_url = transactions_url

    @classmethod
    def from_settings(cls, settings: Settings) -> "ZeepCoreBanking":
        """Build from lms_soap.config.Settings (its cbs_* fields)."""
        return cls(wsdl_dir=settings.cbs_wsdl_dir or None, customer_url=settings.cbs_customer_url,
                   transactions_url=settings.cbs_transactions_url,
                   username=settings.cbs_username, password=settings.cbs_password,
                   auth_mode=settings.cbs_auth_mode, connect_timeout=settings.cbs_connect_timeout,
                   read_timeout=settings.cbs_read_timeout, call_deadline=settings.cbs_call_deadline)

    def close(self) -> None:
        """Release the pooled connections (at process shutdown)."""
        self._session.close()

    # --- the port ---------------------------------------------------------------------------
    def fetch_customer(self, customer_number: str) -> KycRecord | None:
        try:
            customer = self._customer.Customer(customerNumber=customer_number)
        except Fault as fault:
            # Only a real soap:Fault counts (zeep gives code=None to the "Unknown fault" it
            # makes of any other non-200 XML, e.g. a proxy's HTML "404 Not Found" page).
            if fault.code is not None and "not found" in (fault.message or "").lower():
                return None
            raise self._unavailable("Customer", customer_number, fault) from fault
        except _CALL_ERRORS as exc:
            raise self._unavailable("Customer", customer_number, exc) from exc
        # zeep unwraps CustomerResponse to its only child: the customer, or None when absent.
        if customer is None or not (customer.customerNumber or "").strip():
            return None
        return self._guard("Customer", customer_number, lambda: _kyc_record(customer,
                                                                             customer_number))

    def fetch_transactions(self, customer_number: str) -> list[dict[str, Any]]:
        try:
            records = self._transactions.Transactions(customerNumber=customer_number)
        except _CALL_ERRORS as exc:
            raise self._unavailable("Transactions", customer_number, exc) from exc
        # zeep unwraps TransactionsResponse to its repeated child: a list, empty when none.
        return self._guard("Transactions", customer_number, lambda: [
            {name: _plain(getattr(record, name)) for name in self.transaction_fields}
            for record in records or ()])

    # --- helpers ----------------------------------------------------------------------------
    def _guard(self, operation: str, customer_number: str, convert: Callable[[], T]) -> T:
        try:
            return convert()
        except (*_CALL_ERRORS, AttributeError, TypeError) as exc:
            raise self._unavailable(operation, customer_number, exc) from exc

    @staticmethod
    def _unavailable(operation: str, customer_number: str,
                     exc: BaseException) -> CoreBankingUnavailable:
        # The exception's class and a short text: never the request (it holds the password).
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        logger.warning("CBS %s call for customer %s failed: %s: %s", operation, customer_number,
                       type(exc).__name__, detail)
        return CoreBankingUnavailable(
            f"Core Banking System unavailable ({operation}: {type(exc).__name__})",
            customer_number=customer_number)


def _pooled_session(call_deadline: float) -> requests.Session:
    # No automatic retries, and a total deadline per call: a slow, failing or dripping CBS must
    # surface as CoreBankingUnavailable within CBS_CALL_DEADLINE, not hold a web thread.
    return DeadlineSession(call_deadline, pool_connections=2, pool_maxsize=POOL_MAXSIZE)


def _plain(value: Any) -> Any:
    # A dateTime without an offset is read as UTC, so every datetime handed on is timezone-aware
    # (the live CBS always sends an offset).
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _money(value: float | None) -> Decimal | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError(f"monthlyIncome is not a finite number: {value!r}")
    # str(float) is the shortest repr (7216.72, not 7216.71999...), then cents.
    return Decimal(str(float(value))).quantize(CENTS, rounding=ROUND_HALF_UP)


def _kyc_record(customer: Any, requested: str) -> KycRecord:
    number = customer.customerNumber.strip()
    if number != requested.strip():
        # Storing a KYC snapshot under the wrong customer would be worse than failing.
        raise ValueError(f"the CBS answered for customer {number!r}, not {requested!r}")
    # An absent status cannot be taken for ACTIVE: lend only on a stated, active KYC.
    status = KycStatus(customer.status) if customer.status else KycStatus.INACTIVE
    values = {f.name: getattr(customer, f.wire) if f.width else _money(getattr(customer, f.wire))
              for f in KYC_FIELDS}
    record = KycRecord(**{**values, "customer_number": number}, status=status)
    _check_fits(record)
    return record


def _check_fits(record: KycRecord) -> None:
    """A KYC value we could not store is an unusable CBS answer (CoreBankingUnavailable), not a
    database error later on."""
    for name, limit in KYC_TEXT_LIMITS.items():
        value = getattr(record, name)
        if value is not None and (len(value) > limit or not value.isprintable()):
            raise ValueError(f"the CBS's {name} does not fit the KYC snapshot")
    income = record.monthly_income
    if income is not None and not (income.is_finite() and abs(income) < KYC_INCOME_LIMIT):
        raise ValueError("the CBS's monthlyIncome is out of range")
