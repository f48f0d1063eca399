"""The bank's callback endpoint: a one-way SOAP 1.1 `NotifyLoanEvent` per loan event (implements
lending.ports.BankNotifier).

The message is built with lxml in the LMS's namespace (urn:lms-soap:v1), every element qualified:
eventId, loanId, customerNumber, status, previousStatus?, reason?, occurredAt, and the loan as
GetLoanStatus gives it (without its history), as it is when the event is sent. Credentials go as
HTTP Basic or as a WS-Security UsernameToken (BANK_CALLBACK_AUTH). Any 2xx is delivered; anything
else (a connection error, a timeout, another status) raises errors.BankCallbackFailed and the
outbox row is retried. The password is never logged or put in an error.
"""
from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone
from decimal import Decimal

import requests
from lxml import etree

from lms_soap.clients.deadline import DeadlineSession
from lms_soap.config import Settings
from lms_soap.lending import errors
from lms_soap.lending.model import Loan, Notification

TNS = "urn:lms-soap:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                 "#PasswordText")
NONCE_ENCODING = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
                  "#Base64Binary")
SOAP_ACTION = "NotifyLoanEvent"


def _time(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def _loan_fields(loan: Loan) -> list[tuple[str, object]]:
    """The Loan of GetLoanStatus, in its order (services/types.py), without the history."""
    return [
        ("loanId", loan.id), ("customerNumber", loan.customer_number), ("amount", _money(loan.amount)),
        ("currency", loan.currency), ("status", loan.status.value), ("statusReason", loan.status_reason),
        ("score", loan.score), ("limitAmount", _money(loan.limit_amount)), ("exclusion", loan.exclusion),
        ("exclusionReason", loan.exclusion_reason), ("scoringAttempts", loan.scoring_attempts),
        ("outstanding", _money(loan.outstanding)), ("requestId", loan.request_id),
        ("createdAt", _time(loan.created_at)), ("updatedAt", _time(loan.updated_at)),
        ("decidedAt", _time(loan.decided_at) if loan.decided_at else None),
        # 1.1's elements, after where GetLoanStatus writes the history
        ("productCode", loan.product_code),
        ("disbursedAt", _time(loan.disbursed_at) if loan.disbursed_at else None),
        ("dueDate", _time(loan.due_date) if loan.due_date else None),
        ("principalOutstanding", _money(loan.principal_outstanding)),
        ("feesOutstanding", _money(loan.fees_outstanding)),
        ("penaltiesOutstanding", _money(loan.penalties_outstanding)),
        ("recovered", _money(loan.recovered) if loan.disbursed_at else None),
    ]


def _append(parent: etree._Element, name: str, value: object) -> None:
    if value is not None:  # optional elements are left out, never nil
        etree.SubElement(parent, f"{{{TNS}}}{name}").text = str(value)


def _security_header(header: etree._Element, username: str, password: str) -> None:
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP_ENV}}}mustUnderstand", "1")
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = username
    etree.SubElement(token, f"{{{WSSE}}}Password", Type=PASSWORD_TEXT).text = password
    etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=NONCE_ENCODING).text = (
        base64.b64encode(secrets.token_bytes(16)).decode())
    etree.SubElement(token, f"{{{WSU}}}Created").text = _time(datetime.now(timezone.utc))


def build_envelope(notification: Notification, loan: Loan | None, *,
                   wsse_credentials: tuple[str, str] | None = None) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "tns": TNS})
    if wsse_credentials:
        _security_header(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header"), *wsse_credentials)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    event = etree.SubElement(body, f"{{{TNS}}}NotifyLoanEvent")
    for name, value in (
            ("eventId", notification.event_id), ("loanId", notification.loan_id),
            ("customerNumber", notification.customer_number), ("status", notification.status.value),
            ("previousStatus", notification.previous_status.value if notification.previous_status else None),
            ("reason", notification.reason), ("occurredAt", _time(notification.occurred_at))):
        _append(event, name, value)
    if loan is not None:
        element = etree.SubElement(event, f"{{{TNS}}}loan")
        for name, value in _loan_fields(loan):
            _append(element, name, value)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_session(settings: Settings) -> requests.Session:
    """The one place the callback's HTTP session is made: a total deadline per call
    (BANK_CALLBACK_DEADLINE, clients/deadline.py) on top of the (connect, read) timeouts."""
    session = DeadlineSession(settings.bank_callback_deadline, pool_connections=2, pool_maxsize=4)
    session.trust_env = False  # the bank's URL is configured; no proxy from the environment
    return session


class SoapBankNotifier:
    def __init__(self, url: str, *, username: str, password: str, auth: str, timeout: float,
                 session: requests.Session | None = None):
        self.url = url
        self.auth = auth
        self.timeout = (timeout, timeout)
        self._credentials = (username, password)
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> "SoapBankNotifier | None":
        """None when BANK_CALLBACK_URL is unset: nothing is to be sent."""
        if not settings.bank_callback_url:
            return None
        return cls(settings.bank_callback_url, username=settings.bank_callback_username,
                   password=settings.bank_callback_password, auth=settings.bank_callback_auth,
                   timeout=settings.bank_callback_timeout, session=build_session(settings))

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:  # never the password
        return f"SoapBankNotifier({self.url!r}, auth={self.auth!r}, user={self._credentials[0]!r})"

    def notify(self, notification: Notification, loan: Loan | None) -> None:
        wsse = self._credentials if self.auth == "wsse" and self._credentials[0] else None
        body = build_envelope(notification, loan, wsse_credentials=wsse)
        basic = self._credentials if self.auth == "basic" and self._credentials[0] else None
        try:
            response = self.session.post(
                self.url, data=body, auth=basic, timeout=self.timeout,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'})
        except requests.Timeout:
            raise errors.BankCallbackFailed("the bank did not answer in time") from None
        except requests.RequestException as exc:
            raise errors.BankCallbackFailed(f"the bank could not be reached ({type(exc).__name__})") from None
        with response:
            if not 200 <= response.status_code < 300:
                raise errors.BankCallbackFailed(f"the bank answered HTTP {response.status_code}")
