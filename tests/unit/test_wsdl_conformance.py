"""wsdl/lms.wsdl is a contract every SOAP stack can consume: WS-I Basic Profile style
document/literal wrapped, one service with two ports on one address, bound to the one port type
over SOAP 1.1 HTTP (first, under the released names) and SOAP 1.2 HTTP, the contract's nine
operations with stable soapActions, the LmsFault declared everywhere, every type in
urn:lms-soap:v1, the contract's camelCase field names, and the CBS transactionData copied field
for field. And what generated Java/.NET clients need to get plain types (CONTRACT.md, "SOAP 1.2
beside SOAP 1.1"): only the namespaces the document uses, no nillable element, the elements every
response carries required, every operation and fault documented. Reads only the committed files
(wsdl/lms.wsdl, wsdl/cbs/transactionWsdl.wsdl)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
WSDL_PATH = ROOT / "wsdl" / "lms.wsdl"
CBS_TRANSACTIONS = ROOT / "wsdl" / "cbs" / "transactionWsdl.wsdl"

TNS = "urn:lms-soap:v1"
W = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
NS = {"w": W, "soap": SOAP11, "soap12": SOAP12, "xs": XS}
#: (port and binding name, binding extension namespace), in the order of the service's ports.
BINDINGS = [("LoanManagementService", SOAP11), ("LoanManagementServiceSoap12", SOAP12)]

OPERATIONS = ["RegisterCustomer", "GetCustomer", "SubmitLoan", "GetLoanStatus", "ListLoans", "CancelLoan",
              "RepayLoan", "ListProducts", "ConfirmDisbursement", "GetLoanStatement", "WriteOffLoan",
              "GetPortfolioReport", "ScoringRegister", "GetTransactions"]
#: (name, required) of each request wrapper's children, in order (the contract's inputs).
REQUESTS = {
    "RegisterCustomer": [("customerNumber", True)],
    "GetCustomer": [("customerNumber", True)],
    "SubmitLoan": [("customerNumber", True), ("amount", True), ("requestId", False), ("productCode", False)],
    "GetLoanStatus": [("loanId", False), ("customerNumber", False)],
    "ListLoans": [("customerNumber", True), ("status", False), ("offset", False), ("limit", False)],
    "CancelLoan": [("loanId", True), ("reason", False)],
    "RepayLoan": [("loanId", True), ("amount", True), ("reference", True)],
    "ListProducts": [],
    "ConfirmDisbursement": [("loanId", True), ("reference", True), ("disbursedAt", False)],
    "GetLoanStatement": [("loanId", True)],
    "WriteOffLoan": [("loanId", True), ("reason", True)],
    "GetPortfolioReport": [("asOf", False)],
    "ScoringRegister": [("name", False), ("url", False)],
    "GetTransactions": [("customerNumber", True)],
}
#: The children of each response wrapper (the contract's outputs).
RESPONSES = {
    "RegisterCustomer": ["customer", "alreadyRegistered"],
    "GetCustomer": ["customer"],
    "SubmitLoan": ["loan"],
    "GetLoanStatus": ["loan"],
    "ListLoans": ["loans", "total"],
    "CancelLoan": ["loan"],
    "RepayLoan": ["loan"],
    "ListProducts": ["products"],
    "ConfirmDisbursement": ["loan"],
    "GetLoanStatement": ["statement"],
    "WriteOffLoan": ["loan"],
    "GetPortfolioReport": ["report"],
    "ScoringRegister": ["registration"],
    "GetTransactions": ["transactions"],
}
CUSTOMER = ["customerNumber", "firstName", "middleName", "lastName", "gender", "idType", "idNumber", "mobile",
            "email", "monthlyIncome", "kycStatus", "registeredAt", "kycRefreshedAt", "ongoingLoan"]
LOAN = ["loanId", "customerNumber", "amount", "currency", "status", "statusReason", "score", "limitAmount",
        "exclusion", "exclusionReason", "scoringAttempts", "outstanding", "requestId", "createdAt",
        "updatedAt", "decidedAt", "history", "productCode", "disbursedAt", "dueDate", "principalOutstanding",
        "feesOutstanding", "penaltiesOutstanding", "recovered"]
LOAN_OPTIONAL = {"statusReason", "score", "limitAmount", "exclusion", "exclusionReason", "outstanding",
                 "requestId", "decidedAt", "history", "disbursedAt", "dueDate", "principalOutstanding",
                 "feesOutstanding", "penaltiesOutstanding", "recovered"}
REGISTRATION = ["clientId", "name", "url", "username", "registeredAt"]
#: Customer fields the LMS always has (the KYC names may be absent at the CBS: lending.model.KycRecord).
CUSTOMER_REQUIRED = {"customerNumber", "kycStatus", "registeredAt", "kycRefreshedAt"}
#: Response children that may be absent: the repeated ones (an empty list is no element at all).
RESPONSE_OPTIONAL = {("ListLoansResponse", "loans"), ("GetTransactionsResponse", "transactions"),
                     ("ListProductsResponse", "products")}
#: Attributes whose values are QNames (prefix:local), so their prefixes are in use.
QNAME_ATTRIBUTES = ("type", "base", "ref", "element", "message", "binding")
MONEY = {("Loan", "amount"), ("Loan", "limitAmount"), ("Loan", "outstanding"), ("Customer", "monthlyIncome"),
         ("SubmitLoan", "amount"), ("RepayLoan", "amount"), ("Loan", "principalOutstanding"),
         ("Loan", "feesOutstanding"), ("Loan", "penaltiesOutstanding"), ("Loan", "recovered"),
         ("Product", "minAmount"), ("Product", "maxAmount"), ("Charge", "amount"), ("Repayment", "amount"),
         ("Allocation", "penalty"), ("Allocation", "fee"), ("Allocation", "principal"),
         ("Balances", "totalOutstanding"), ("Balances", "recovered"), ("PortfolioStatus", "totalOutstanding")}
DURATIONS = ("tenor", "graceDays", "defaultAfter", "writeOffAfter", "approvalValidity")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


@pytest.fixture(scope="module")
def wsdl() -> etree._Element:
    return etree.parse(str(WSDL_PATH)).getroot()


@pytest.fixture(scope="module")
def schema(wsdl) -> etree._Element:
    schemas = wsdl.findall("w:types/xs:schema", NS)
    assert len(schemas) == 1, "one inline schema"
    return schemas[0]


def complex_type(schema, name: str) -> etree._Element:
    """The named complex type, or the anonymous type of the global element of that name (the
    request and response wrappers, and LmsFault)."""
    found = schema.find(f"xs:complexType[@name='{name}']", NS)
    if found is None:
        found = schema.find(f"xs:element[@name='{name}']/xs:complexType", NS)
    assert found is not None, f"complexType {name} missing"
    return found


def children(schema, type_name: str) -> list[etree._Element]:
    found = complex_type(schema, type_name)
    if len(found) == 0:
        return []  # an empty wrapper (ListProducts takes nothing): <xs:complexType/>
    sequence = found.find("xs:sequence", NS)
    assert sequence is not None, f"{type_name} is a sequence"
    return sequence.findall("xs:element", NS)


def names(schema, type_name: str) -> list[str]:
    return [e.get("name") for e in children(schema, type_name)]


def resolve(element: etree._Element, prefixed: str) -> tuple[str, str]:
    prefix, _, local = prefixed.rpartition(":")
    return element.nsmap.get(prefix or None), local


def base_type(schema, element: etree._Element) -> tuple[str, str]:
    """The built-in XML Schema type an element's (simple) type derives from."""
    ns, local = resolve(element, element.get("type"))
    seen = 0
    while ns == TNS and seen < 10:
        simple = schema.find(f"xs:simpleType[@name='{local}']", NS)
        if simple is None:
            return ns, local
        restriction = simple.find("xs:restriction", NS)
        ns, local = resolve(restriction, restriction.get("base"))
        seen += 1
    return ns, local


# --- style, service, binding --------------------------------------------------------------------
def test_document_literal_only(wsdl):
    text = WSDL_PATH.read_text(encoding="utf-8")
    assert 'use="encoded"' not in text and "encodingStyle" not in text
    assert 'style="rpc"' not in text
    for name, ns in BINDINGS:
        binding = wsdl.find(f"w:binding[@name='{name}']", NS)
        assert binding.find(f"{{{ns}}}binding").get("style") == "document"
        for op in binding.findall("w:operation", NS):
            assert op.find(f"{{{ns}}}operation").get("style") in (None, "document")
            for body in op.findall(f"*/{{{ns}}}body"):
                assert body.get("use") == "literal"
            for fault in op.findall(f"w:fault/{{{ns}}}fault", NS):
                assert fault.get("use") == "literal"
    for part in wsdl.findall("w:message/w:part", NS):  # WS-I BP R2204: document parts use element=
        assert part.get("element") and part.get("type") is None, part.get("name")
    for message in wsdl.findall("w:message", NS):
        assert len(message.findall("w:part", NS)) == 1, "wrapped: one part per message"


def test_one_service_two_ports_two_bindings_soap11_first(wsdl):
    """SOAP 1.1 under the released names, first (zeep and suds take the first port), and SOAP 1.2
    beside it: both bind the one port type, over HTTP, on the same address."""
    services = wsdl.findall("w:service", NS)
    assert [s.get("name") for s in services] == ["LoanManagementService"]
    ports = services[0].findall("w:port", NS)
    assert [p.get("name") for p in ports] == [name for name, _ in BINDINGS]
    assert len(wsdl.findall("w:portType", NS)) == 1
    port_type = wsdl.find("w:portType", NS).get("name")
    assert sorted(b.get("name") for b in wsdl.findall("w:binding", NS)) == sorted(name for name, _ in BINDINGS)
    addresses = set()
    for port, (name, ns) in zip(ports, BINDINGS):
        binding = wsdl.find(f"w:binding[@name='{name}']", NS)
        assert resolve(port, port.get("binding")) == (TNS, name)
        assert resolve(binding, binding.get("type")) == (TNS, port_type)
        assert binding.find(f"{{{ns}}}binding").get("transport") == HTTP_TRANSPORT
        other = SOAP12 if ns == SOAP11 else SOAP11
        assert binding.findall(f".//{{{other}}}*") == [], f"{name} mixes SOAP versions"
        assert [etree.QName(e).namespace for e in port] == [ns]
        addresses.add(port[0].get("location"))
    assert len(addresses) == 1 and addresses.pop().endswith("/soap")


def test_soap12_binding_mirrors_the_soap11_one(wsdl):
    """Same operations, messages, soapActions and faults; the action is not required in SOAP 1.2
    (dispatch is on the body element)."""
    def shape(name: str, ns: str) -> list:
        operations = []
        for op in wsdl.findall(f"w:binding[@name='{name}']/w:operation", NS):
            action = op.find(f"{{{ns}}}operation").get("soapAction")
            operations.append((op.get("name"), action, [(etree.QName(child).localname, child.get("name"))
                                                        for child in op if etree.QName(child).namespace == W]))
        return operations

    assert shape(*BINDINGS[1]) == shape(*BINDINGS[0])
    for op in wsdl.findall("w:binding[@name='LoanManagementServiceSoap12']/w:operation/soap12:operation", NS):
        assert op.get("soapActionRequired") == "false"


def test_the_operations_with_stable_soap_actions(wsdl):
    port_type = [op.get("name") for op in wsdl.findall("w:portType/w:operation", NS)]
    assert port_type == OPERATIONS
    for binding_name, ns in BINDINGS:
        binding = {op.get("name"): op for op in wsdl.findall(f"w:binding[@name='{binding_name}']/w:operation", NS)}
        assert sorted(binding) == sorted(OPERATIONS), binding_name
        for name, op in binding.items():
            assert op.find(f"{{{ns}}}operation").get("soapAction") == name


def test_every_operation_declares_the_lms_fault(wsdl, schema):
    message = wsdl.find("w:message[@name='LmsFault']", NS)
    part = message.find("w:part", NS)
    assert resolve(part, part.get("element")) == (TNS, "LmsFault")
    assert names(schema, "LmsFault") == ["code", "loanId", "customerNumber"]
    assert children(schema, "LmsFault")[0].get("minOccurs") is None  # code is required
    for op in wsdl.findall("w:portType/w:operation", NS):
        faults = op.findall("w:fault", NS)
        declared = [(f.get("name"), resolve(f, f.get("message"))) for f in faults]
        assert declared == [("LmsFault", (TNS, "LmsFault"))], op.get("name")
    for binding_name, ns in BINDINGS:
        for op in wsdl.findall(f"w:binding[@name='{binding_name}']/w:operation", NS):
            fault = op.find("w:fault", NS)
            assert fault is not None and fault.get("name") == "LmsFault"
            assert fault.find(f"{{{ns}}}fault").get("name") == "LmsFault"


def test_request_and_response_elements_are_x_and_x_response(wsdl):
    messages = {m.get("name"): m for m in wsdl.findall("w:message", NS)}
    for op in wsdl.findall("w:portType/w:operation", NS):
        name = op.get("name")
        for direction, expected in (("input", name), ("output", f"{name}Response")):
            message = messages[resolve(op, op.find(f"w:{direction}", NS).get("message"))[1]]
            part = message.find("w:part", NS)
            assert resolve(part, part.get("element")) == (TNS, expected), f"{name} {direction}"


# --- schema -------------------------------------------------------------------------------------
def test_everything_is_in_the_lms_namespace(wsdl, schema):
    assert wsdl.get("targetNamespace") == TNS and schema.get("targetNamespace") == TNS
    assert schema.get("elementFormDefault") == "qualified"
    for element in schema.iter(f"{{{XS}}}element", f"{{{XS}}}restriction", f"{{{XS}}}extension"):
        for attr in ("type", "base", "ref"):
            if element.get(attr):
                assert resolve(element, element.get(attr))[0] in (TNS, XS), element.get(attr)
    assert schema.find("xs:import", NS) is None and schema.find("xs:include", NS) is None
    etree.XMLSchema(etree.fromstring(etree.tostring(schema)))  # compiles on its own


def test_request_fields_as_in_the_contract(schema):
    for operation, fields in REQUESTS.items():
        elements = children(schema, operation)
        assert [(e.get("name"), e.get("minOccurs") != "0") for e in elements] == fields, operation
    limit = next(e for e in children(schema, "ListLoans") if e.get("name") == "limit")
    simple = schema.find(f"xs:simpleType[@name='{resolve(limit, limit.get('type'))[1]}']", NS)
    assert simple.find("xs:restriction/xs:maxInclusive", NS).get("value") == "100"


def test_response_fields_as_in_the_contract(schema):
    for operation, fields in RESPONSES.items():
        assert names(schema, f"{operation}Response") == fields, operation
    transactions = children(schema, "GetTransactionsResponse")[0]
    assert transactions.get("maxOccurs") == "unbounded"  # repeated directly, no inner wrapper
    assert resolve(transactions, transactions.get("type")) == (TNS, "transactionData")
    loans = children(schema, "ListLoansResponse")[0]
    assert loans.get("maxOccurs") == "unbounded" and resolve(loans, loans.get("type")) == (TNS, "Loan")


def test_customer_loan_and_registration_fields(schema):
    assert names(schema, "Customer") == CUSTOMER
    loan = names(schema, "Loan")
    assert loan == LOAN  # 1.1's elements appended after history, all optional but productCode
    for element in children(schema, "Loan"):
        if element.get("name") in LOAN:
            optional = element.get("minOccurs") == "0"
            assert optional == (element.get("name") in LOAN_OPTIONAL), element.get("name")
    assert names(schema, "ScoringRegistration") == REGISTRATION
    for type_name in ("Customer", "Loan", "ScoringRegistration", "LoanEvent", "LmsFault", *REQUESTS,
                      *(f"{op}Response" for op in RESPONSES)):
        for name in names(schema, type_name):
            assert CAMEL.match(name), f"{type_name}.{name} is not camelCase"


def test_money_is_decimal_with_two_fraction_digits_and_times_are_datetime(schema):
    for type_name, field in MONEY:
        element = next(e for e in children(schema, type_name) if e.get("name") == field)
        assert base_type(schema, element) == (XS, "decimal"), f"{type_name}.{field}"
        simple = schema.find(f"xs:simpleType[@name='{resolve(element, element.get('type'))[1]}']", NS)
        assert simple.find("xs:restriction/xs:fractionDigits", NS).get("value") == "2"
    times = (("Customer", "registeredAt"), ("Customer", "kycRefreshedAt"), ("Loan", "createdAt"),
             ("Loan", "updatedAt"), ("Loan", "decidedAt"), ("ScoringRegistration", "registeredAt"))
    for type_name, field in times:
        element = next(e for e in children(schema, type_name) if e.get("name") == field)
        assert base_type(schema, element) == (XS, "dateTime")
    for field in DURATIONS:
        element = next(e for e in children(schema, "Product") if e.get("name") == field)
        assert base_type(schema, element) == (XS, "duration"), field
    status = next(e for e in children(schema, "Loan") if e.get("name") == "status")
    values = [v.get("value") for v in schema.findall(
        f"xs:simpleType[@name='{resolve(status, status.get('type'))[1]}']/xs:restriction/xs:enumeration", NS)]
    assert values == ["PENDING", "SCORING", "APPROVED", "REJECTED", "FAILED", "CANCELLED", "CLOSED",
                      "DISBURSED", "OVERDUE", "DEFAULTED", "WRITTEN_OFF", "EXPIRED"]  # 1.1, appended


def test_transaction_data_has_the_72_cbs_fields_in_cbs_order(schema):
    cbs = etree.parse(str(CBS_TRANSACTIONS)).getroot()
    cbs_type = cbs.find(".//xs:complexType[@name='transactionData']/xs:sequence", NS)
    expected = [(e.get("name"), resolve(e, e.get("type"))[1], e.get("minOccurs") == "0")
                for e in cbs_type.findall("xs:element", NS)]
    assert len(expected) == 72
    ours = [(e.get("name"), base_type(schema, e)[1], e.get("minOccurs") == "0")
            for e in children(schema, "transactionData")]
    assert ours == expected


def test_every_input_element_is_unique_so_stacks_dispatch_on_it(wsdl):
    inputs = []
    for message in wsdl.findall("w:message", NS):
        if not message.get("name").endswith("Response") and message.get("name") != "LmsFault":
            part = message.find("w:part", NS)
            inputs.append(resolve(part, part.get("element")))
    assert len(inputs) == len(set(inputs)) == len(OPERATIONS)


def test_zeep_reads_the_committed_wsdl_offline():
    """A client stack builds every operation from the file alone (no network: a file URL)."""
    import zeep

    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    client = zeep.Client(str(WSDL_PATH))
    service = next(iter(client.wsdl.services.values()))
    assert [type(port.binding) for port in service.ports.values()] == [Soap11Binding, Soap12Binding]
    assert type(client.service._binding) is Soap11Binding  # zeep's default: the first port
    port = next(iter(service.ports.values()))
    assert sorted(port.binding._operations) == sorted(OPERATIONS)
    submit = port.binding._operations["SubmitLoan"]
    assert submit.soapaction == "SubmitLoan" and submit.style == "document"
    assert [name for name, _ in submit.input.body.type.elements] == ["customerNumber", "amount", "requestId",
                                                                           "productCode"]


# --- what generated clients need (plain types, clean namespaces, documentation) ------------------
def test_declares_only_the_namespaces_it_uses(wsdl):
    """A toolkit that sees a namespace declared (SOAP 1.2, WS-Addressing...) may assume the document
    uses it: every declared prefix is used by an element or attribute name, or a QName value."""
    used: set[str] = set()
    for element in wsdl.iter():
        used.add(etree.QName(element).namespace)
        used.update(etree.QName(name).namespace for name in element.attrib)
        for attr in QNAME_ATTRIBUTES:
            if element.get(attr) and ":" in element.get(attr):
                used.add(resolve(element, element.get(attr))[0])
    declared = {ns for element in wsdl.iter() for ns in element.nsmap.values()}
    assert declared - used == set(), "declared but unused"
    assert len(wsdl.nsmap) == len(set(wsdl.nsmap.values())), "one prefix per namespace"


def test_no_element_is_nillable(wsdl):
    """Optional means minOccurs="0" only: with nillable too, wsimport wraps each in JAXBElement."""
    nillable = [e.get("name") for e in wsdl.iter(f"{{{XS}}}element") if e.get("nillable") is not None]
    assert nillable == []


def test_response_elements_always_present_are_required(schema):
    for operation in RESPONSES:
        for element in children(schema, f"{operation}Response"):
            optional = element.get("minOccurs") == "0"
            assert optional == ((f"{operation}Response", element.get("name")) in RESPONSE_OPTIONAL), \
                f"{operation}Response.{element.get('name')}"
    for element in children(schema, "Customer"):
        required = element.get("minOccurs") != "0"
        assert required == (element.get("name") in CUSTOMER_REQUIRED), element.get("name")
    assert all(e.get("minOccurs") is None for e in children(schema, "ScoringRegistration"))


def test_every_operation_and_fault_is_documented(wsdl, schema):
    from lms_soap.lending.errors import FAULT_CATALOGUE

    def text(element) -> str:
        found = element.find("w:documentation", NS)
        return " ".join((found.text or "").split()) if found is not None else ""

    for op in wsdl.findall("w:portType/w:operation", NS):
        assert len(text(op)) > 20, f"{op.get('name')} has no documentation"
        assert list(op)[0].tag == f"{{{W}}}documentation"  # WSDL 1.1: documentation comes first
        fault = op.find("w:fault", NS)
        assert "LmsFault" in text(fault) or "code" in text(fault), f"{op.get('name')}: fault undocumented"
    fault_doc = complex_type(schema, "LmsFault").findtext("xs:annotation/xs:documentation", namespaces=NS)
    for error in FAULT_CATALOGUE:
        assert error.code in (fault_doc or ""), f"LmsFault documentation misses {error.code}"


def test_global_elements_are_the_messages_and_their_types_anonymous(wsdl, schema):
    """JAXB writes a JAXBElement factory for each global element of a named type: the only global
    elements are the message parts, each with its own anonymous type (a plain Java class)."""
    parts = sorted(resolve(part, part.get("element"))[1] for part in wsdl.iter(f"{{{W}}}part"))
    elements = schema.findall("xs:element", NS)
    assert sorted(e.get("name") for e in elements) == parts
    for element in elements:
        anonymous = element.get("type") is None and element.find("xs:complexType", NS) is not None
        assert anonymous, element.get("name")
