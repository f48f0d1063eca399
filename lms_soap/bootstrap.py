"""The composition root: builds the engine, the unit-of-work factory and the outbound clients from
settings, once per process. Used by the WSGI app, the worker and the CLI alike.

Nothing here runs at import time: gunicorn --preload and RQ's forking would share sockets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from lms_soap.config import Settings
from lms_soap.crypto import KeyedSecretBox
from lms_soap.lending.loans import LoanPolicy
from lms_soap.lending.notifications import DeliveryPolicy
from lms_soap.lending.ports import (BankNotifier, Clock, CoreBanking, JobQueue, ScoringEngine, SecretBox,
                                    SystemClock)
from lms_soap.lending.registration import RegistrationDefaults
from lms_soap.lending.scoring import ScoringPolicy
from lms_soap.models.db import build_engine
from lms_soap.models.orm import start_mappers
from lms_soap.models.unit_of_work import SqlUnitOfWorkFactory


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory  # call it for a fresh unit of work: `container.uow()`
    cbs: CoreBanking
    scoring_engine: ScoringEngine
    queue: JobQueue
    box: SecretBox
    clock: Clock = field(default_factory=SystemClock)
    redis: Any = None  # the redis client of the job queue (None without REDIS_URL)
    #: The bank's callback (NotifyLoanEvent); None when BANK_CALLBACK_URL is unset.
    notifier: BankNotifier | None = None

    @property
    def loan_policy(self) -> LoanPolicy:
        s = self.settings
        return LoanPolicy(min_amount=s.loan_min_amount, max_amount=s.loan_max_amount, currency=s.loan_currency)

    @property
    def registration_defaults(self) -> RegistrationDefaults:
        return RegistrationDefaults(name=self.settings.scoring_client_name, url=self.settings.transactions_url)

    @property
    def scoring_policy(self) -> ScoringPolicy:
        s = self.settings
        return ScoringPolicy(
            max_attempts=s.scoring_max_attempts, max_initiate_attempts=s.scoring_max_initiate_attempts,
            backoff_base=s.scoring_backoff_base, backoff_max=s.scoring_backoff_max,
            jitter=s.scoring_backoff_jitter, deadline=s.scoring_deadline, min_score=s.scoring_min_score,
            claim_lease=s.scoring_claim_lease)

    @property
    def delivery_policy(self) -> DeliveryPolicy:
        s = self.settings
        # A claimed row is held for longer than one send can take (connect + read timeouts).
        return DeliveryPolicy(backoff_base=s.outbox_backoff_base, backoff_max=s.outbox_backoff_max,
                              lease=2 * s.bank_callback_timeout + 30.0)

    @property
    def reconcile_grace(self) -> timedelta:
        return timedelta(seconds=self.settings.reconcile_grace)

    def __enter__(self) -> "Container":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        """Everything this process opened: the database pool and every client's connections."""
        for client in (self.cbs, self.scoring_engine, self.notifier, self.redis):
            close = getattr(client, "close", None)  # a test's fake may have none
            if close is not None:
                close()
        self.engine.dispose()


def build_container(settings: Settings, *, cbs: CoreBanking | None = None,
                    scoring_engine: ScoringEngine | None = None, queue: JobQueue | None = None,
                    clock: Clock | None = None, notifier: BankNotifier | None = None) -> Container:
    """Everything one process needs. Tests pass fakes or pre-built clients for any part."""
    from lms_soap.clients.bank_callback import SoapBankNotifier
    from lms_soap.clients.core_banking import ZeepCoreBanking
    from lms_soap.clients.rq_queue import build_job_queue
    from lms_soap.clients.scoring_engine import HttpScoringEngine

    start_mappers()
    engine = build_engine(settings)
    redis = None
    if queue is None:
        queue, redis = build_job_queue(settings)
    return Container(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine),
        cbs=cbs or ZeepCoreBanking.from_settings(settings),
        scoring_engine=scoring_engine or HttpScoringEngine.from_settings(settings),
        queue=queue,
        box=KeyedSecretBox(settings.secret_key),
        clock=clock or SystemClock(),
        redis=redis,
        notifier=notifier or SoapBankNotifier.from_settings(settings),
    )
