"""lending.transaction_fields.TRANSACTION_FIELDS is the CBS `transactionData` type, read here from
the bank's own WSDL (wsdl/cbs/transactionWsdl.wsdl): names (misspellings included), order, types
and optionality."""
from __future__ import annotations

from lxml import etree

from lms_soap.resources import cbs_wsdl_dir
from lms_soap.lending.transaction_fields import TRANSACTION_FIELDS

WSDL = cbs_wsdl_dir() / "transactionWsdl.wsdl"
XS = "http://www.w3.org/2001/XMLSchema"


def wsdl_fields() -> list[tuple[str, str, bool]]:
    tree = etree.parse(str(WSDL))
    [complex_type] = tree.findall(f".//{{{XS}}}complexType[@name='transactionData']")
    [sequence] = complex_type.findall(f"{{{XS}}}sequence")
    fields = []
    for element in sequence:
        assert element.tag == f"{{{XS}}}element", element.tag
        prefix, _, local = element.get("type").partition(":")
        assert element.nsmap[prefix] == XS, element.get("name")  # built-in schema types only
        assert element.get("maxOccurs", "1") == "1" and element.get("minOccurs", "1") in ("0", "1")
        fields.append((element.get("name"), local, element.get("minOccurs") == "0"))
    return fields


def test_the_72_fields_match_the_cbs_wsdl_exactly():
    expected = wsdl_fields()
    assert len(expected) == 72
    assert list(TRANSACTION_FIELDS) == expected


def test_names_are_unique_and_keep_the_cbs_spelling():
    names = [name for name, _, _ in TRANSACTION_FIELDS]
    assert len(set(names)) == len(names) == 72
    assert {"maxMonthlyBebitTransactions", "intrestAmount", "fincominglocaltransactioncrAmount"} <= set(names)


def test_the_types_are_the_wsdl_types():
    assert {kind for _, kind, _ in TRANSACTION_FIELDS} == {"string", "double", "int", "long", "dateTime"}
    optional = {name for name, _, opt in TRANSACTION_FIELDS if opt}
    assert optional == {"accountNumber", "createdAt", "createdDate", "id", "intrestAmount",
                        "lastTransactionDate", "lastTransactionType", "lastTransactionValue", "updatedAt"}
