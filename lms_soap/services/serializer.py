"""The output protocol: Spyne's Soap11, writing our complex types without Spyne's generic walk.

Spyne serializes a response field by field through a chain of generic steps (polymorphism and
attribute look-ups, sub-protocols, coroutines that could stream) whose cost grows with the size
of the answer: it was a third of a GetLoanStatus. FastSoap11 works out once per type what those
steps decide for each field (tag, namespace, optional or repeated, how the value becomes text)
and then writes the fields directly with lxml, calling Spyne's own to_unicode for every value,
so the text is Spyne's. Whatever it does not plan for (faults, attributes, defaults, nil values,
lists or dicts given as instances, any other handler) goes through Spyne's own code.

tests/unit/test_serializer.py checks that both write the same bytes for every response type;
tests/unit/test_library_seams.py that spyne is still the version it was written against.
"""
from __future__ import annotations

import threading
from typing import Any, NamedTuple

from lxml import etree
from spyne.const.xml import DEFAULT_NS
from spyne.protocol.soap import Soap11

#: The spyne version whose Soap11 serializer this plans around (its steps, its to_unicode).
SPYNE_VERSION = "2.14.0"

_LEAF, _ENUM, _COMPLEX, _GENERIC = range(4)
_UNPLANNED = object()


class _Member(NamedTuple):
    attr: str
    cls: Any
    kind: int
    tag: str
    ns: str | None
    name: str
    repeated: bool
    required: bool
    plan: "_Plan | None"  # for _COMPLEX members


class _Plan(NamedTuple):
    members: tuple[_Member, ...]
    name: str | None  # the type's own sub_name, else None
    ns: str | None  # the type's own sub_ns, else None


class FastSoap11(Soap11):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plans: dict[Any, Any] = {}
        self._planning = threading.RLock()

    # --- the hook ------------------------------------------------------------------------------
    def to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        if (inst is not None and not kwargs and len(args) <= 1 and type(parent) is etree._Element
                and not isinstance(inst, (list, tuple, dict)) and not self.polymorphic):
            plan = self._plan(cls)
            if plan is not None:
                self._complex(ctx, cls, plan, inst, parent, ns, args[0] if args else None)
                return None
        return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)

    # --- writing -------------------------------------------------------------------------------
    def _complex(self, ctx, cls, plan: _Plan, inst, parent, ns, name) -> None:
        # What complex_to_parent + gen_members_parent + _get_members_etree do, for a planned type.
        if plan.name is not None:
            name = plan.name
        if name is None:
            name = cls.get_type_name()
        if plan.ns is not None:
            ns = plan.ns
        elt = etree.SubElement(parent, name if ns is None else f"{{{ns}}}{name}", attrib={})
        for m in plan.members:
            try:
                value = getattr(inst, m.attr, None)
            except Exception:  # noqa: BLE001 - as Spyne: an unreadable member is absent
                value = None
            if value is None:
                if m.required:  # Spyne writes xsi:nil (or the type's default): its own code
                    super().to_parent(ctx, m.cls, None, elt, m.ns, m.name)
                continue
            if m.repeated:
                for item in value:
                    self._member(ctx, m, item, elt)
            else:
                self._member(ctx, m, value, elt)

    def _member(self, ctx, m: _Member, value, elt) -> None:
        if value is None or m.kind == _GENERIC:
            self.to_parent(ctx, m.cls, value, elt, m.ns, m.name)
        elif m.kind == _LEAF:
            etree.SubElement(elt, m.tag, attrib={}).text = self.to_unicode(m.cls, value)
        elif m.kind == _ENUM:
            etree.SubElement(elt, m.tag, attrib={}).text = self.to_unicode(m.cls, str(value))
        elif isinstance(value, (list, tuple, dict)):
            super().to_parent(ctx, m.cls, value, elt, m.ns, m.name)
        else:
            self._complex(ctx, m.cls, m.plan, value, elt, m.ns, m.name)

    # --- planning ------------------------------------------------------------------------------
    def _plan(self, cls) -> _Plan | None:
        plan = self._plans.get(cls, _UNPLANNED)
        if plan is _UNPLANNED:
            with self._planning:
                plan = self._plans.get(cls, _UNPLANNED)
                if plan is _UNPLANNED:
                    self._plans[cls] = None  # a type that contains itself is not planned
                    plan = self._plans[cls] = self._make_plan(cls)
        return plan

    def _handled_by(self, cls, method) -> bool:
        try:
            return self.serialization_handlers[cls] == method
        except KeyError:
            return False

    def _plain(self, cls) -> bool:
        """Nothing in to_parent's preamble applies: no sub-protocol, no exclusion, no default."""
        attrs = self.get_cls_attrs(cls)
        return attrs.prot is None and not attrs.exc and attrs.default is None

    def _make_plan(self, cls) -> _Plan | None:
        if not self._handled_by(cls, self.complex_to_parent) or not self._plain(cls):
            return None
        chain = []
        while cls is not None:
            chain.append(cls)
            cls = getattr(cls, "__extends__", None)
        attrs = self.get_cls_attrs(chain[0])
        sub_ns = attrs.sub_ns if attrs.sub_ns not in (None, DEFAULT_NS) else None
        members: list[_Member] = []
        for owner in reversed(chain):  # the base type's members first, as Spyne writes them
            for attr, sub in owner._type_info.items():
                member = self._member_plan(owner, attr, sub)
                if member is not None:
                    members.append(member)
        return _Plan(tuple(members), attrs.sub_name, sub_ns)

    def _member_plan(self, owner, attr: str, sub) -> _Member | None:
        if self.get_cls_attrs(sub).exc:
            return None  # Spyne skips excluded members
        ns = sub.Attributes.sub_ns
        if ns is None:
            ns = owner.get_namespace()
        name = sub.Attributes.sub_name
        if name is None:
            name = attr
        plan = None
        if not self._plain(sub):
            kind = _GENERIC
        elif self._handled_by(sub, self.modelbase_to_parent):
            kind = _LEAF
        elif self._handled_by(sub, self.enum_to_parent):
            kind = _ENUM
        elif self._handled_by(sub, self.complex_to_parent):
            plan = self._plan(sub)
            kind = _COMPLEX if plan is not None else _GENERIC
        else:
            kind = _GENERIC
        tag = name if ns is None else f"{{{ns}}}{name}"
        return _Member(attr, sub, kind, tag, ns, name, sub.Attributes.max_occurs > 1,
                       sub.Attributes.min_occurs > 0, plan)
