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

#: Per type: every member set to None (the instance before its values), or None for Spyne's way.
_templates: dict[type, dict[str, None] | None] = {}
_lock = threading.Lock()


def _template(cls: type) -> dict[str, None] | None:
    """Every member at None when __init__ would only set values and Nones, else None."""
    attrs = cls.Attributes
    if (cls.__init__ is not ComplexModelBase.__init__ or cls.__orig__ is not None
            or attrs._xml_tag_body_as is not None or hasattr(cls, "_sa_class_manager")):
        return None  # its own constructor, a customized copy, XmlData or a mapped class
    for name, member in cls.get_flat_type_info(cls).items():
        a = member.Attributes
        if (a.default is not None or a.default_factory is not None or a.read_only
                or _is_sqla_array(member, a) or hasattr(type(getattr(cls, name, None)), "__set__")):
            return None
    return dict.fromkeys(cls.get_flat_type_info(cls))


def build(cls: type, **values: Any) -> Any:
    """cls(**values), the same instance, at a fraction of the cost."""
    template = _templates.get(cls, ...)
    if template is ...:
        with _lock:
            template = _templates[cls] = _template(cls)
    if template is None or not values.keys() <= template.keys():
        return cls(**values)  # Spyne's own way (and its silence on an unknown member)
    inst = cls.__new__(cls)
    inst.__dict__.update(template)
    inst.__dict__.update(values)
    return inst
