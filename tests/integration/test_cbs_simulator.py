"""The CBS simulator, served on a loopback port and called through ZeepCoreBanking; its WSDLs and
its raw replies checked against the bank's verbatim contracts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
import requests
from lxml import etree

from lms_soap.clients.core_banking import ZeepCoreBanking
from lms_soap.resources import cbs_wsdl_dir
from lms_soap.lending.errors import CoreBankingUnavailable
from lms_soap.lending.model import KycStatus
from lms_soap.sandbox import cbs_data
from lms_soap.sandbox.cbs_simulator import CUSTOMER_PATH, TRANSACTIONS_PATH, create_app
from tests.support.processes import ROOT
from tests.support.servers import serve_wsgi

from .cbs_schema import compare_wsdls, verbatim_schema

WSDL_DIR = cbs_wsdl_dir()  # the copies the LMS reads (wsdl/cbs/ holds identical ones)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def make_client(base: str, *, password: str = "pwd123", auth_mode: str = "wsse",
                read_timeout: float = 5.0) -> ZeepCoreBanking:
    return ZeepCoreBanking(wsdl_dir=WSDL_DIR, customer_url=base + CUSTOMER_PATH,
                           transactions_url=base + TRANSACTIONS_PATH, username="admin",
                           password=password, auth_mode=auth_mode, connect_timeout=1.0,
                           read_timeout=read_timeout)


@pytest.fixture(scope="module")
def base():
    with serve_wsgi(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def cbs(base):
    client = make_client(base)
    yield client
    client.close()


# --- data through the real client -----------------------------------------------------------
@pytest.mark.parametrize("number", cbs_data.TEST_CUSTOMERS)
def test_each_test_customer(cbs, number):
    kyc = cbs.fetch_customer(number)
    expected = cbs_data.lookup_customer(number)
    assert kyc.customer_number == number and kyc.status is KycStatus.ACTIVE
    assert (kyc.first_name, kyc.middle_name, kyc.last_name, kyc.gender, kyc.id_type,
            kyc.id_number, kyc.mobile, kyc.email) == tuple(expected[k] for k in (
                "firstName", "middleName", "lastName", "gender", "idType", "idNumber", "mobile",
                "email"))
    assert kyc.monthly_income == Decimal(str(expected["monthlyIncome"])).quantize(Decimal("0.01"))
    records = cbs.fetch_transactions(number)
    assert 2 <= len(records) <= 3
    assert records == cbs_data.lookup_transactions(number)  # every value, exactly
    assert all(list(r) == list(cbs.transaction_fields) for r in records)


def test_documented_kyc_of_the_live_test_system(cbs):
    john = cbs.fetch_customer("234774784")
    assert (john.first_name, john.middle_name, john.last_name, john.gender, john.id_type,
            john.id_number, john.monthly_income) == (
        "John", "A.", "Doe", "FEMALE", "DRIVERS_LICENSE", "ID9368586", Decimal("7216.72"))
    david = cbs.fetch_customer("397178638")
    assert (david.first_name, david.middle_name, david.last_name, david.gender, david.id_type,
            david.id_number, david.monthly_income) == (
        "David", "E.", "Williams", "MALE", "NATIONAL_ID", "ID4118300", Decimal("1885.23"))
    assert cbs.fetch_customer("340397370").middle_name is None  # absent optional element


def test_234774784_has_the_scoring_documentation_records(cbs):
    first, second = cbs.fetch_transactions("234774784")
    assert (first["id"], second["id"]) == (2, 5)
    assert first["accountNumber"] == second["accountNumber"] == "332216783322167555621628"
    assert first["maxdebitcardpostransactions"] == 5186960787986540.0
    assert second["overthecounterwithdrawalsAmount"] == 372849038.239
    assert first["lastTransactionType"] is None and second["lastTransactionType"] is None
    assert [int(r["updatedAt"].timestamp() * 1000) for r in (first, second)] == [
        773556430000, 687774305000]


def test_inactive_customer(cbs):
    assert cbs.fetch_customer(cbs_data.INACTIVE_CUSTOMER).status is KycStatus.INACTIVE
    assert cbs.fetch_transactions(cbs_data.INACTIVE_CUSTOMER)


def test_customer_without_transactions(cbs):
    assert cbs.fetch_customer(cbs_data.NO_TRANSACTIONS_CUSTOMER).status is KycStatus.ACTIVE
    assert cbs.fetch_transactions(cbs_data.NO_TRANSACTIONS_CUSTOMER) == []


@pytest.mark.parametrize("number", [cbs_data.UNKNOWN_CUSTOMER, "699999999", "800000000",
                                    "0700000001"])
def test_unknown_customer(cbs, number):
    assert cbs.fetch_customer(number) is None
    assert cbs.fetch_transactions(number) == []


SYNTHETIC = ["700000000", "754321987", "799999999"]


@pytest.mark.parametrize("number", SYNTHETIC)
def test_synthetic_customers_are_deterministic(cbs, number):
    kyc = cbs.fetch_customer(number)
    assert kyc.status is KycStatus.ACTIVE and kyc.customer_number == number
    assert kyc == cbs.fetch_customer(number)
    records = cbs.fetch_transactions(number)
    assert 1 <= len(records) <= 3 and records == cbs.fetch_transactions(number)


def test_synthetic_data_is_the_same_in_another_process():
    # String seeds hash with SHA-512, not with the per-process str hash: check it.
    code = ("import json, sys; from lms_soap.sandbox import cbs_data as d; print(json.dumps("
            "[[d.lookup_customer(n), d.lookup_transactions(n)] for n in sys.argv[1:]],"
            " default=str))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code, *SYNTHETIC], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT).stdout
    here = [[cbs_data.lookup_customer(n), cbs_data.lookup_transactions(n)] for n in SYNTHETIC]
    assert json.loads(out) == json.loads(json.dumps(here, default=str))


# --- credentials, latency, failures -----------------------------------------------------------
def test_bad_credentials(base):
    client = make_client(base, password="wrong")
    with pytest.raises(CoreBankingUnavailable):
        client.fetch_customer("234774784")
    with pytest.raises(CoreBankingUnavailable):
        client.fetch_transactions("234774784")


def test_basic_credentials_are_refused_in_wsse_mode(base):
    with pytest.raises(CoreBankingUnavailable):
        make_client(base, auth_mode="basic").fetch_customer("234774784")


@pytest.mark.parametrize("sim_mode,client_mode", [("basic", "basic"), ("any", "basic"),
                                                  ("any", "wsse")])
def test_other_auth_modes(sim_mode, client_mode):
    with serve_wsgi(create_app(auth_mode=sim_mode)) as url:
        assert make_client(url, auth_mode=client_mode).fetch_customer("234774784") is not None
        if sim_mode == "basic":
            with pytest.raises(CoreBankingUnavailable):
                make_client(url, auth_mode="wsse").fetch_customer("234774784")


def test_latency_past_the_read_timeout():
    with serve_wsgi(create_app(latency=0.6)) as url:
        client = make_client(url, read_timeout=0.15)
        started = time.monotonic()
        with pytest.raises(CoreBankingUnavailable):
            client.fetch_customer("234774784")
        assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("fail", ["fault", "garbage", "http500"])
def test_each_failure_mode(fail):
    with serve_wsgi(create_app(fail=fail)) as url:
        client = make_client(url)
        with pytest.raises(CoreBankingUnavailable):
            client.fetch_customer("234774784")
        with pytest.raises(CoreBankingUnavailable):
            client.fetch_transactions("234774784")
        assert requests.get(url + CUSTOMER_PATH + "?wsdl", timeout=5).status_code == 200


# --- the contract -----------------------------------------------------------------------------
@pytest.mark.parametrize("path,wsdl", [(CUSTOMER_PATH, "customerWsdl.wsdl"),
                                       (TRANSACTIONS_PATH, "transactionWsdl.wsdl")])
def test_served_wsdl_matches_the_verbatim_contract(base, path, wsdl):
    served = requests.get(base + path + "?wsdl", timeout=5)
    assert served.status_code == 200
    assert compare_wsdls((WSDL_DIR / wsdl).read_bytes(), served.content) == []


RAW = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
<soapenv:Header><wsse:Security soapenv:mustUnderstand="1"
  xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
 <wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password
  Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
  >pwd123</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>
<soapenv:Body><x:{op}Request xmlns:x="{ns}"><x:customerNumber>{number}</x:customerNumber></x:{op}Request>
</soapenv:Body></soapenv:Envelope>"""
OPERATIONS = {"Customer": (CUSTOMER_PATH, "customerWsdl.wsdl", "http://credable.io/cbs/customer"),
              "Transactions": (TRANSACTIONS_PATH, "transactionWsdl.wsdl",
                               "http://credable.io/cbs/transaction")}


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("number", [*cbs_data.TEST_CUSTOMERS, cbs_data.INACTIVE_CUSTOMER,
                                    cbs_data.NO_TRANSACTIONS_CUSTOMER, *SYNTHETIC])
def test_raw_replies_validate_against_the_verbatim_schemas(base, op, number):
    # Also shows that wsse:Security with mustUnderstand="1" is accepted.
    path, wsdl, ns = OPERATIONS[op]
    response = requests.post(base + path, data=RAW.format(op=op, ns=ns, number=number),
                             headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=5)
    assert response.status_code == 200, response.text
    payload = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")[0]
    assert payload.tag == f"{{{ns}}}{op}Response"
    schema = verbatim_schema(WSDL_DIR / wsdl)
    assert schema.validate(payload), schema.error_log


def test_unknown_customer_fault_shape(base):
    path, _, ns = OPERATIONS["Customer"]
    response = requests.post(base + path, data=RAW.format(op="Customer", ns=ns, number="999999999"),
                             headers={"Content-Type": "text/xml"}, timeout=5)
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    code = fault.findtext("faultcode")
    assert fault.nsmap.get(code.split(":")[0]) == SOAP_ENV and code.endswith(":Client")
    assert fault.findtext("faultstring") == "Customer not found: 999999999"


MUTATIONS = [  # (file, verbatim text, replacement): each must be reported as a difference
    ("customerWsdl.wsdl", '<xs:element name="customerNumber" type="xs:string"/>',
     '<xs:element minOccurs="0" name="customerNumber" type="xs:string"/>'),
    ("customerWsdl.wsdl", 'name="dob" type="xs:dateTime"', 'name="dob" type="xs:date"'),
    ("customerWsdl.wsdl", '<xs:enumeration value="VOTERS_ID"/>', ""),
    ("customerWsdl.wsdl", '<xs:element name="monthlyIncome" type="xs:double"/>',
     '<xs:element name="monthlyIncome" type="xs:double" nillable="true"/>'),
    ("customerWsdl.wsdl", '<xs:element name="customer" type="tns:customer"/>',
     '<xs:element name="client" type="tns:customer"/>'),
    ("transactionWsdl.wsdl", 'maxOccurs="unbounded" minOccurs="0" name="transactions"',
     'minOccurs="0" name="transactions"'),
    ("transactionWsdl.wsdl", 'name="atmTransactionsNumber" type="xs:int"',
     'name="atmTransactionsNumber" type="xs:long"'),
    ("transactionWsdl.wsdl",  # two neighbours swapped
     '<xs:element name="monthlyBalance" type="xs:double"/>\n'
     '            <xs:element name="monthlydebittransactionsAmount" type="xs:double"/>',
     '<xs:element name="monthlydebittransactionsAmount" type="xs:double"/>\n'
     '            <xs:element name="monthlyBalance" type="xs:double"/>'),
    ("transactionWsdl.wsdl", '<xs:enumeration value="ETB"/>',
     '<xs:enumeration value="ETB"/><xs:enumeration value="ZAR"/>'),
]


@pytest.mark.parametrize("wsdl,old,new", MUTATIONS)
def test_the_comparison_catches_each_difference(wsdl, old, new):
    verbatim = (WSDL_DIR / wsdl).read_text()
    assert compare_wsdls(verbatim.encode(), verbatim.encode()) == []
    assert old in verbatim
    mutated = verbatim.replace(old, new, 1).encode()
    assert compare_wsdls(verbatim.encode(), mutated) != []
    assert compare_wsdls(mutated, verbatim.encode()) != []


def test_an_empty_post_gets_a_soap_fault_not_a_crash(base):
    response = requests.post(base + CUSTOMER_PATH, data=b"", headers={"Content-Type": "text/xml"},
                             timeout=5)
    assert response.status_code == 500 and response.headers["Content-Type"].startswith("text/xml")
    assert etree.fromstring(response.content).find(f".//{{{SOAP_ENV}}}Fault") is not None
