"""Maps the plain domain dataclasses of lending.model onto the tables (cosmicpython's imperative
mapping), so that the rules never import SQLAlchemy and the tables never become SOAP types."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.attributes import set_committed_value

from lms_soap.lending import model
from . import tables

mapper_registry = registry(metadata=tables.metadata)
_mapped = False


def start_mappers() -> None:
    """Idempotent: called by bootstrap in every process before the first session."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Customer, tables.customers)
    mapper_registry.map_imperatively(model.LoanEvent, tables.loan_events)
    mapper_registry.map_imperatively(model.Repayment, tables.repayments)
    mapper_registry.map_imperatively(model.Charge, tables.loan_charges)
    mapper_registry.map_imperatively(model.Notification, tables.outbox)
    mapper_registry.map_imperatively(
        model.Loan,
        tables.loans,
        properties={
            "events": relationship(model.LoanEvent, order_by=tables.loan_events.c.id,
                                   cascade="all, delete-orphan", lazy="selectin"),
            "repayments": relationship(model.Repayment, order_by=tables.repayments.c.id,
                                       cascade="all, delete-orphan", lazy="selectin"),
            "charges": relationship(model.Charge, order_by=tables.loan_charges.c.id,
                                    cascade="all, delete-orphan", lazy="selectin"),
            # The outbox rows a transition appends are inserted with the loan's flush, in its
            # transaction. A loan read from the database starts with an empty list (the load
            # event below): it is only appended to, and the delivery reads the outbox itself.
            # Loading it cost a query per notified transition (the scoring decision's, every loan).
            "notifications": relationship(model.Notification, lazy="select", cascade="save-update",
                                          order_by=tables.outbox.c.id),
        },

        # Optimistic concurrency: an UPDATE that finds the row's version moved on fails, so two
        # jobs (or two repayments) racing on one loan cannot both win.
        version_id_col=tables.loans.c.version,
    )
    # What lazy="noload" did (deprecated in SQLAlchemy 2.1): the collection counts as loaded, empty.
    event.listen(model.Loan, "load", _no_past_notifications)
    mapper_registry.map_imperatively(model.ApiClient, tables.api_clients)
    mapper_registry.map_imperatively(model.ScoringRegistration, tables.scoring_registrations)
    _mapped = True


def _no_past_notifications(loan, _context) -> None:
    set_committed_value(loan, "notifications", [])
