"""Hand-written fakes of every port of lending.ports (cosmicpython style): in memory,
deterministic, no I/O. The persistence fakes live in fake_persistence.py and are re-exported
here, so tests import every fake from this one module. crypto.KeyedSecretBox is used for real:
it is pure.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

from lms_soap.crypto import KeyedSecretBox
from lms_soap.lending import errors
from lms_soap.lending.model import KycRecord, KycStatus
from lms_soap.lending.ports import EngineClient, ScoreResult

from .fake_persistence import (  # noqa: F401 (re-exported)
    FakeApiClientRepository,
    FakeCustomerRepository,
    FakeDatabase,
    FakeLoanRepository,
    FakeRegistrationRepository,
    FakeUnitOfWork,
)

TEST_SECRET_KEY = "unit-test-secret-key"


def secret_box() -> KeyedSecretBox:
    return KeyedSecretBox(TEST_SECRET_KEY)


# --- outbound systems -----------------------------------------------------------------------
def kyc(customer_number: str = "234774784", status: KycStatus = KycStatus.ACTIVE, **fields) -> KycRecord:
    values = dict(first_name="Jane", middle_name="W.", last_name="Doe", gender="FEMALE",
                  id_type="NATIONAL_ID", id_number="ID-" + customer_number, mobile="+254711000001",
                  email="jane@example.test", monthly_income=Decimal("7216.72"))
    values.update(fields)
    return KycRecord(customer_number=customer_number, status=status, **values)


class FakeCoreBanking:
    def __init__(self, customers: Iterable[KycRecord] = (),
                 transactions: dict[str, list[dict[str, Any]]] | None = None):
        self.customers = {record.customer_number: record for record in customers}
        self.transactions = dict(transactions or {})
        self.unavailable = False  # switch: every call raises CoreBankingUnavailable
        self.calls: list[tuple[str, str]] = []  # (operation, customer number)

    def _call(self, operation: str, customer_number: str) -> None:
        self.calls.append((operation, customer_number))
        if self.unavailable:
            raise errors.CoreBankingUnavailable("the fake core banking system is down")

    def fetch_customer(self, customer_number: str) -> KycRecord | None:
        self._call("Customer", customer_number)
        return self.customers.get(customer_number)

    def fetch_transactions(self, customer_number: str) -> list[dict[str, Any]]:
        self._call("Transactions", customer_number)
        return [dict(record) for record in self.transactions.get(customer_number, [])]


def score(score: int | None = 720, limit: str | None = "5000.00", exclusion: str | None = "No Exclusion",
          reason: str | None = None) -> ScoreResult:
    return ScoreResult(score=score, limit_amount=None if limit is None else Decimal(limit),
                       exclusion=exclusion, exclusion_reason=reason)


class FakeScoringEngine:
    """Scripted answers, consumed in order. An answer may be a value, an exception to raise, or a
    callable giving either (to act while the engine 'works'). With the script empty, initiate gives
    a fresh token and query_score answers None ("not ready yet")."""

    def __init__(self):
        self.initiate_answers: list[Any] = []
        self.query_answers: list[Any] = []
        self.unavailable = False  # switch: every call raises ScoringEngineUnavailable
        self.clients: list[dict[str, str]] = []  # the createClient bodies received
        self.initiate_calls: list[tuple[str, str]] = []  # (customer number, client-token)
        self.query_calls: list[tuple[str, str]] = []  # (score token, client-token)
        self._ids = itertools.count(1)

    def _answer(self, script: list[Any], default: Any) -> Any:
        if self.unavailable:
            raise errors.ScoringEngineUnavailable("the fake scoring engine is down")
        answer = script.pop(0) if script else default
        answer = answer() if callable(answer) else answer
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create_client(self, url: str, name: str, username: str, password: str) -> EngineClient:
        n = next(self._ids)
        answer = self._answer([], EngineClient(client_id=str(n), token=f"client-token-{n}"))
        self.clients.append(dict(url=url, name=name, username=username, password=password))
        return answer

    def initiate(self, customer_number: str, client_token: str) -> str:
        self.initiate_calls.append((customer_number, client_token))
        return self._answer(self.initiate_answers, f"score-token-{len(self.initiate_calls)}")

    def query_score(self, score_token: str, client_token: str) -> ScoreResult | None:
        self.query_calls.append((score_token, client_token))
        return self._answer(self.query_answers, None)


class FakeJobQueue:
    def __init__(self, on_schedule: Callable[[str, datetime | None], Any] | None = None):
        self.scheduled: list[tuple[str, datetime | None]] = []
        self.unavailable = False  # switch: schedule_scoring raises QueueUnavailable
        self.on_schedule = on_schedule  # called before recording (e.g. to look at the database)

    def schedule_scoring(self, loan_id: str, at: datetime | None = None) -> None:
        if self.unavailable:
            raise errors.QueueUnavailable("the fake queue is down")
        if self.on_schedule is not None:
            self.on_schedule(loan_id, at)
        self.scheduled.append((loan_id, at))


class FakeClock:
    def __init__(self, start: datetime = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)):
        self.set(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.utcoffset() != timedelta(0):
            raise ValueError("FakeClock keeps aware UTC times only")
        self._now = when

    def advance(self, seconds: float = 0.0, **delta) -> datetime:
        self._now += timedelta(seconds=seconds, **delta)
        return self._now
