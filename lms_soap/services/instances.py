"""Response instances of our Spyne types, built without ComplexModel.__init__.

Spyne's constructor walks every member of the type for each instance (defaults, read-only
properties, SQLAlchemy-mapped arrays) before it sets the given values: for a loan with its
history that was a sixth of GetLoanStatus's CPU in-process (bench/README.md). Our response types
have none of those features, so the instance it builds is just every member set, to its value
or None; `build` makes that instance directly, and falls back to the constructor for any type
that does have one of them (checked once per type). tests/unit/test_instances.py compares both.
"""
from __future__ import annotations

import threading
from typing import Any

from spyne.model.complex import ComplexModelBase
from spyne.model.complex import _is_sqla_array  # the test __init__ makes (private: version pinned)

#: spyne version whose ComplexModelBase.__init__ this reproduces (tests/unit/test_library_seams.py).
SPYNE_VERSION = "2.14.0"

_members: dict[type, tuple[str, ...] | None] = {}
_lock = threading.Lock()


def _plain_members(cls: type) -> tuple[str, ...] | None:
    """The member names when __init__ would only set values and Nones, else None."""
    attrs = cls.Attributes
    if (cls.__init__ is not ComplexModelBase.__init__ or cls.__orig__ is not None
            or attrs._xml_tag_body_as is not None or hasattr(cls, "_sa_class_manager")):
        return None  # its own constructor, a customized copy, XmlData or a mapped class
    names = []
    for name, member in cls.get_flat_type_info(cls).items():
        a = member.Attributes
        if (a.default is not None or a.default_factory is not None or a.read_only
                or _is_sqla_array(member, a) or hasattr(type(getattr(cls, name, None)), "__set__")):
            return None
        names.append(name)
    return tuple(names)


def build(cls: type, **values: Any) -> Any:
    """cls(**values), the same instance, at a fraction of the cost."""
    members = _members.get(cls, ...)
    if members is ...:
        with _lock:
            members = _members[cls] = _plain_members(cls)
    if members is None or not values.keys() <= set(members):
        return cls(**values)  # Spyne's own way (and its error for an unknown member)
    inst = cls.__new__(cls)
    state = inst.__dict__
    state.update(dict.fromkeys(members, None))
    state.update(values)
    return inst
