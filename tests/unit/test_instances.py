"""services/instances.build makes the instance Spyne's constructor makes, for every response type."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from spyne import ComplexModel, Integer32, Unicode

from lms_soap.services import instances, servicing_types, types

RESPONSE_TYPES = sorted({obj for module in (types, servicing_types) for obj in vars(module).values()
                         if isinstance(obj, type) and issubclass(obj, ComplexModel)
                         and obj.__module__ == module.__name__ and obj.get_flat_type_info(obj)},
                        key=lambda cls: cls.__name__)


def _sample(cls) -> dict:
    """Every other member given, the rest left to default to None."""
    names = list(cls.get_flat_type_info(cls))
    return {name: f"v-{i}" if i % 3 else datetime(2026, 1, 1, tzinfo=timezone.utc)
            for i, name in enumerate(names) if i % 2 == 0}


@pytest.mark.parametrize("cls", RESPONSE_TYPES, ids=lambda cls: cls.__name__)
def test_build_sets_what_the_constructor_sets(cls):
    values = _sample(cls)
    built, constructed = instances.build(cls, **values), cls(**values)
    assert type(built) is cls
    assert built.__dict__ == constructed.__dict__
    assert instances._templates[cls] is not None, "a response type now takes Spyne's slow path"


def test_the_loan_response_types_take_the_fast_path():
    assert {types.Loan, types.LoanEvent, types.Customer, types.TransactionData} <= set(RESPONSE_TYPES)


def test_a_type_with_a_default_or_an_unknown_member_goes_through_the_constructor():
    class WithDefault(ComplexModel):
        a = Unicode(default="x")
        b = Integer32

    assert instances.build(WithDefault, b=1).__dict__ == {"a": "x", "b": 1}
    assert instances._templates[WithDefault] is None

    class Plain(ComplexModel):
        a = Unicode

    assert instances.build(Plain, a="1", nope=2).__dict__ == Plain(a="1", nope=2).__dict__
