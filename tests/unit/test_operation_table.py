"""The operation table (services/operations.py) is the one declaration of every operation: it
matches the published WSDL and the SoapUI project both ways, and what reads it (auth, audit, the
Spyne service) gets the contract's answers."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from lms_soap.lending.model import Role
from lms_soap.services.application import build_soap_application
from lms_soap.services.operations import (
    OPERATIONS,
    REST_METRICS,
    REST_TRANSACTIONS,
    SOAP_OPERATIONS,
    UNKNOWN,
    Audit,
)

ROOT = Path(__file__).resolve().parents[2]
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAPUI_NS = "http://eviware.com/soapui/config"


def wsdl_operations() -> dict[str, set[str]]:
    """Operation names per portType and per binding of wsdl/lms.wsdl."""
    root = etree.parse(str(ROOT / "wsdl" / "lms.wsdl")).getroot()
    found = {}
    for kind in ("portType", "binding"):
        for element in root.iterfind(f"{{{WSDL_NS}}}{kind}"):
            found[f"{kind} {element.get('name')}"] = {op.get("name") for op in element.iterfind(f"{{{WSDL_NS}}}operation")}
    return found


def soapui_project() -> etree._Element:
    return etree.parse(str(ROOT / "soapui" / "lms-soapui-project.xml")).getroot()


def test_the_table_names_each_operation_once():
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names)) and set(SOAP_OPERATIONS) == set(names)
    assert all(op.soap for op in OPERATIONS)
    assert not any(op.soap for op in (REST_TRANSACTIONS, REST_METRICS, UNKNOWN))


def test_the_table_and_every_wsdl_port_type_and_binding_have_the_same_operations():
    found = wsdl_operations()
    assert found and any(key.startswith("binding") for key in found)
    for where, names in found.items():
        assert names == set(SOAP_OPERATIONS), where


def test_the_table_and_every_soapui_interface_have_the_same_operations():
    interfaces = soapui_project().findall(f"{{{SOAPUI_NS}}}interface")
    assert interfaces
    for interface in interfaces:
        names = {op.get("name") for op in interface.iterfind(f"{{{SOAPUI_NS}}}operation")}
        assert names == set(SOAP_OPERATIONS), interface.get("name")


def test_the_soapui_test_steps_exercise_every_operation_of_the_table_and_no_other():
    steps = {el.text for el in soapui_project().iter(f"{{{SOAPUI_NS}}}operation") if el.text and el.text.strip()}
    assert steps == set(SOAP_OPERATIONS)


def test_the_spyne_service_publishes_the_tables_handlers():
    app = build_soap_application()
    published = {method.name for service in app.services for method in service.public_methods.values()}
    assert published == set(SOAP_OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_writes_are_audited_on_every_call_and_reads_on_refusals(op):
    assert op.audit is (Audit.EVERY_CALL if op.writes else Audit.REFUSALS)
    assert op.roles and Role.ADMIN in op.roles  # admin may call everything


def test_the_reads_of_the_contract():
    reads = {op.name for op in OPERATIONS if not op.writes}
    assert reads == {"GetCustomer", "GetLoanStatus", "ListLoans", "GetTransactions", "ListProducts",
                     "GetLoanStatement", "GetPortfolioReport"}


def test_the_entries_that_are_not_soap():
    assert REST_TRANSACTIONS.roles == {Role.SCORING, Role.ADMIN} and not REST_TRANSACTIONS.writes
    assert REST_METRICS.roles == {Role.ADMIN} and REST_METRICS.audit is Audit.REFUSALS
    assert not UNKNOWN.roles and UNKNOWN.audit is Audit.EVERY_CALL  # a request we could not read
