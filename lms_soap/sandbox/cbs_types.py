"""Spyne models of the two CBS contracts (wsdl/cbs/*.wsdl), field for field.

Built from the tables in cbs_data (name, xs type, minOccurs) so the simulator's schema and its data
share one definition; tests/integration/test_cbs_simulator.py compares the served WSDLs with the
bank's verbatim files, so a slip here fails a test rather than a client.

Spyne mappings that matter: `Integer` is xs:integer, so xs:int is Integer32 and xs:long Integer64;
every element is declared `nillable=False` because the CBS schema never says nillable="true".
"""
from __future__ import annotations

from typing import Any

from spyne import ComplexModel, DateTime, Double, Integer32, Integer64, Unicode
from spyne.model import ModelBase
from spyne.model.complex import ComplexModelMeta
from spyne.model.enum import Enum

from .cbs_data import CUSTOMER_FIELDS, GENDERS, ID_TYPES, STATUSES, TRANSACTION_FIELDS

CUSTOMER_NS = "http://credable.io/cbs/customer"
TRANSACTION_NS = "http://credable.io/cbs/transaction"


def _enum(name: str, values: tuple[str, ...], namespace: str = CUSTOMER_NS) -> type[ModelBase]:
    # A named xs:simpleType restricting xs:string, like the CBS's gender/idType/status.
    # (Unicode(values=...) would emit derived anonymous-looking types such as
    # "customer_genderType" plus a schema in a "spyne.model.primitive.string" namespace.)
    return Enum(*values, type_name=name, __namespace__=namespace)


_SCALARS: dict[str, type[ModelBase]] = {
    "string": Unicode, "double": Double, "int": Integer32, "long": Integer64, "dateTime": DateTime,
    "gender": _enum("gender", GENDERS), "idType": _enum("idType", ID_TYPES),
    "status": _enum("status", STATUSES),
    "currency": _enum("currency", ("TZS", "KES", "UGX", "USD", "GBP", "EURO", "PKR", "NGN", "EGP",
                                   "ETB"), TRANSACTION_NS),
}


def _model(type_name: str, namespace: str, fields: tuple[tuple[str, str, int], ...]) -> Any:
    # ComplexModel keeps the declaration order of a list of (name, type) pairs: the WSDL's order.
    members = [(name, _SCALARS[xs_type].customize(min_occurs=min_occurs, nillable=False))
               for name, xs_type, min_occurs in fields]
    return ComplexModelMeta(type_name, (ComplexModel,), {
        "__namespace__": namespace, "__type_name__": type_name, "_type_info": members,
    })


#: complexType `customer` of customerWsdl.wsdl.
Customer = _model("customer", CUSTOMER_NS, CUSTOMER_FIELDS)
#: complexType `transactionData` of transactionWsdl.wsdl.
TransactionData = _model("transactionData", TRANSACTION_NS, TRANSACTION_FIELDS)

# transactionWsdl.wsdl also declares `account` and `currency`, which no message uses. They are
# published too (Application(classes=...)), so the served schema holds every type of the contract.
ACCOUNT_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("accountNumber", "string", 0), ("createdAt", "dateTime", 0), ("createdDate", "dateTime", 0),
    ("currency", "currency", 0), ("customerId", "long", 0), ("customerNumber", "string", 0),
    ("id", "long", 0), ("ownership", "string", 0), ("productName", "string", 0),
    ("runningBalance", "double", 1), ("updatedAt", "dateTime", 0), ("updatedDate", "dateTime", 0),
)
#: complexType `account` of transactionWsdl.wsdl (schema only).
Account = _model("account", TRANSACTION_NS, ACCOUNT_FIELDS)
