"""soapui/lms-soapui-project.xml: a well-formed SoapUI project over the published WSDL, with a
suite per area, every operation's happy path, the client-side fault catalogue and the chained
loan journey, and a suite over the SOAP 1.2 binding (an interface of its own); run green against a live LMS by tests/soapui_runner (the CLI, with credentials as
project properties); and a copy broken in memory fails, naming the assertion in the JUnit report.

The runner's own semantics (SoapUI's inverted fault assertion ids, Schema Compliance, XPath Match
wildcards, Conditional Goto, Groovy skipped, failOnError) are checked offline against canned
answers at the end."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from tests.e2e.interop_support import background_worker
from tests.soapui_runner import FAILED, OK, SKIPPED, Runner, load_project, to_xml, write_junit
from tests.soapui_runner.assertions import KNOWN_TYPES
from tests.soapui_runner.expansion import split_xpath
from tests.soapui_runner.model import CON, con

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "soapui" / "lms-soapui-project.xml"
WSDL = ROOT / "wsdl" / "lms.wsdl"
TNS = "urn:lms-soap:v1"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
#: SoapUI interface name -> (binding, soapVersion): one interface per binding of the WSDL.
INTERFACES = {"LoanManagementService": ("LoanManagementService", "1_1"),
              "LoanManagementServiceSoap12": ("LoanManagementServiceSoap12", "1_2")}
OPERATIONS = ["RegisterCustomer", "GetCustomer", "SubmitLoan", "GetLoanStatus", "ListLoans", "CancelLoan",
              "RepayLoan", "ListProducts", "ConfirmDisbursement", "GetLoanStatement", "WriteOffLoan",
              "GetPortfolioReport", "ScoringRegister", "GetTransactions"]
SUITES = ["Customers", "Loans", "Scoring and Transactions", "Faults", "Flow", "Lifecycle", "SOAP 1.2"]
SOAP12_SUITE = "SOAP 1.2"
#: The suites run against the live LMS: every one, the SOAP 1.2 suite included.
LIVE_SUITES = SUITES
#: Every fault of the catalogue that a client can cause.
CLIENT_FAULTS = ["SchemaValidationError", "MalformedRequest", "AuthenticationFailed", "NotAuthorized",
                 "CustomerNotFound", "CustomerNotRegistered", "CustomerInactive", "LoanInProgress",
                 "LoanNotFound", "InvalidLoanState", "AmountOutOfRange", "AmountExceedsOutstanding",
                 "IdempotencyConflict", "ProductNotFound"]
STEP_TYPES = {"request", "transfer", "delay", "groovy", "goto", "properties"}
CREDENTIAL_PROPERTIES = ["endpoint", "bankUsername", "bankPassword", "scoringUsername", "scoringPassword",
                         "adminUsername", "adminPassword"]
NOT_SOAP_FAULT = "SOAP Fault Assertion"  # SoapUI's id of the "Not SOAP Fault" assertion
SOAP_FAULT = "Not SOAP Fault Assertion"  # SoapUI's id of the "SOAP Fault" assertion


@pytest.fixture(scope="module")
def project():
    return load_project(PROJECT)


def request_parts(step):
    request = step.config.find(con("request"))
    return {
        "interface": step.config.findtext(con("interface")),
        "operation": step.config.findtext(con("operation")),
        "request": request,
        "body": request.findtext(con("request")) or "",
        "endpoint": request.findtext(con("endpoint")),
        "credentials": request.find(con("credentials")),
    }


def fault_reason(step) -> str | None:
    """The Client.<Reason> a fault step expects (from its XPath Match on //faultcode), or in SOAP
    1.2 the subcode (on //soap:Fault/soap:Code/soap:Subcode/soap:Value)."""
    for assertion in step.assertions:
        path = split_xpath(assertion.config("path") or "")[1]
        content = assertion.config("content") or ""
        if assertion.type == "XPath Match" and path == "//faultcode":
            return content.rsplit("Client.", 1)[-1]
        if assertion.type == "XPath Match" and path == "//soap:Fault/soap:Code/soap:Subcode/soap:Value":
            return content.rsplit(":", 1)[-1]
    return None


def soap_version(project, step) -> str:
    return project.interfaces[request_parts(step)["interface"]].soap_version


def placeholders_filled(text: str) -> str:
    return re.sub(r"\$\{[^{}]*\}", "x", text)


# --- structure --------------------------------------------------------------------------------------
def test_project_is_a_well_formed_soapui_project(project):
    root = etree.parse(str(PROJECT)).getroot()
    assert root.tag == con("soapui-project") and root.nsmap["con"] == CON
    ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")
           and e.tag != con("setting")]  # a setting's id is its key
    assert len(ids) == len(set(ids)), "SoapUI ids must be unique"
    for _, case, _ in project.iter_steps():
        names = [step.name for step in case.steps]
        assert len(names) == len(set(names)), f"step names repeat in {case.name}"
    properties = project.properties
    for name in CREDENTIAL_PROPERTIES:
        assert name in properties, f"project property {name} missing"
    assert not any(re.fullmatch(r"[A-Za-z0-9_\-]{30,}", v) for v in properties.values()), "no real secrets"


@pytest.mark.parametrize("name", INTERFACES)
def test_interface_imports_the_published_wsdl(project, name):
    assert list(project.interfaces) == list(INTERFACES)
    interface = project.interfaces[name]
    binding, version = INTERFACES[name]
    element = interface.element
    assert element.get(f"{{{'http://www.w3.org/2001/XMLSchema-instance'}}}type") == "con:WsdlInterface"
    assert interface.type == "wsdl" and interface.soap_version == version
    assert interface.binding_name == f"{{{TNS}}}{binding}"
    cache = element.find(con("definitionCache"))
    assert cache.get("rootPart") == interface.definition_url
    assert interface.definition_url.endswith("/soap?wsdl")
    cached = etree.fromstring(interface.definition.parts[interface.definition.root_part].encode())
    published = etree.parse(str(WSDL)).getroot()
    assert etree.tostring(cached, method="c14n") == etree.tostring(published, method="c14n"), \
        "the WSDL cached in the project differs from wsdl/lms.wsdl: run `python -m " \
        "tests.soapui_runner.refresh soapui/lms-soapui-project.xml wsdl/lms.wsdl` (SoapUI: Update Definition)"
    operations = element.findall(con("operation"))
    assert [op.get("name") for op in operations] == OPERATIONS
    for op in operations:
        assert op.get("action") == op.get("name") == op.get("bindingOperationName")
        assert op.get("type") == "Request-Response"
    assert set(interface.operations) == set(OPERATIONS)


def test_a_suite_per_area_with_cases_steps_and_known_assertions(project):
    assert [suite.name for suite in project.suites] == SUITES
    for suite, case, step in project.iter_steps():
        assert step.type in STEP_TYPES, f"{case.name}/{step.name}: step type {step.type}"
    for suite in project.suites:
        assert suite.cases, suite.name
        for case in suite.cases:
            assert case.steps, f"{suite.name}/{case.name}"
            assert any(step.type == "request" for step in case.steps)
    for suite, case, step in project.iter_steps():
        if step.type != "request":
            continue
        parts = request_parts(step)
        soap12 = suite.name == SOAP12_SUITE
        assert parts["interface"] == ("LoanManagementServiceSoap12" if soap12 else "LoanManagementService")
        assert parts["operation"] in OPERATIONS
        assert parts["endpoint"] == "${#Project#endpoint}", step.name
        assert step.assertions, f"{step.name} asserts nothing"
        for assertion in step.assertions:
            assert assertion.type in KNOWN_TYPES, f"{step.name}: unknown assertion type {assertion.type}"
        types = Counter(a.type for a in step.assertions)
        assert types["SOAP Response"] == 1 and types["Valid HTTP Status Codes"] == 1
        assert types["Schema Compliance"] == 1, step.name
        credentials = parts["credentials"]
        auth = credentials.findtext(con("authType"))
        assert auth in ("Preemptive", "No Authorization", "Global HTTP Settings")
        for tag in ("username", "password"):
            value = credentials.findtext(con(tag))
            if value is not None and value != "not-the-password":
                assert re.fullmatch(r"\$\{#Project#\w+\}", value), f"{step.name}: literal credential"


def test_assertion_ids_follow_soapuis_inversion(project):
    """SoapUI's "SOAP Fault Assertion" means NOT a fault and "Not SOAP Fault Assertion" means a fault."""
    for _, case, step in project.iter_steps():
        if step.type != "request":
            continue
        types = {a.type for a in step.assertions}
        codes = next(a.config("codes") for a in step.assertions if a.type == "Valid HTTP Status Codes")
        if codes == "200":
            assert NOT_SOAP_FAULT in types and SOAP_FAULT not in types, step.name
            assert next(a for a in step.assertions if a.type == NOT_SOAP_FAULT).name == "Not SOAP Fault"
        else:  # a fault: HTTP 500, or 401 (with the Basic challenge) when no credentials are sent
            assert codes == ("401" if step.name.endswith("no credentials") else "500"), step.name
            assert SOAP_FAULT in types and NOT_SOAP_FAULT not in types, step.name
            assert next(a for a in step.assertions if a.type == SOAP_FAULT).name == "SOAP Fault"
            assert fault_reason(step), f"{step.name}: a fault step checks //faultcode (its subcode in 1.2)"


def test_every_operation_has_a_happy_path(project):
    happy = {request_parts(step)["operation"] for _, _, step in project.iter_steps()
             if step.type == "request" and NOT_SOAP_FAULT in {a.type for a in step.assertions}
             and any(a.type == "XPath Match" for a in step.assertions)}
    # WriteOffLoan needs a loan in arrears: a product's grace period of real time, so its happy
    # path is in tests/e2e/test_lifecycle_e2e.py; here it is refused (role, state).
    assert happy == set(OPERATIONS) - {"WriteOffLoan"}


def test_every_client_fault_of_the_catalogue_is_provoked(project):
    provoked = {fault_reason(step) for _, _, step in project.iter_steps() if step.type == "request"}
    assert set(CLIENT_FAULTS) <= provoked, set(CLIENT_FAULTS) - provoked
    for _, _, step in project.iter_steps():
        reason = fault_reason(step)
        if reason:
            detail = [a for a in step.assertions if a.type == "XPath Match" and "LmsFault/lms:code" in
                      (a.config("path") or "")]
            assert detail and detail[0].config("content") == reason, f"{step.name}: detail code checked"
            assert any(a.type == "Simple Contains" for a in step.assertions)


def test_requests_are_envelopes_of_their_soap_version_for_their_operation(project):
    versions = Counter()
    for _, _, step in project.iter_steps():
        if step.type != "request":
            continue
        parts = request_parts(step)
        if fault_reason(step) == "MalformedRequest":
            with pytest.raises(etree.XMLSyntaxError):
                etree.fromstring(placeholders_filled(parts["body"]).encode())
            continue
        envelope = etree.fromstring(placeholders_filled(parts["body"]).encode())
        ns = SOAP12_ENV if soap_version(project, step) == "1_2" else SOAP11_ENV
        versions[ns] += 1
        assert envelope.tag == f"{{{ns}}}Envelope", step.name
        payload = envelope.find(f"{{{ns}}}Body")[0]
        assert payload.tag == f"{{{TNS}}}{parts['operation']}", step.name
    assert versions[SOAP12_ENV] >= 3 and versions[SOAP11_ENV] > 50


def test_property_expansions_are_soapui_ones(project):
    text = PROJECT.read_text(encoding="utf-8")
    expansions = set(re.findall(r"\$\{([^{}]*)\}", text))
    kinds = {e.split("#")[1] if e.startswith("#") else ("dynamic" if e.startswith("=") else "step")
             for e in expansions}
    assert kinds == {"Project", "TestCase", "dynamic", "step"}, expansions
    assert "=java.util.UUID.randomUUID()" in expansions
    assert any(e.startswith("SubmitLoan#Response#declare namespace") for e in expansions)
    for name in (e.split("#")[2] for e in expansions if e.startswith("#Project#")):
        assert name in project.properties, f"${{#Project#{name}}} has no project property"


def test_xpaths_compile(project):
    expressions = []
    for _, _, step in project.iter_steps():
        for assertion in step.assertions:
            if assertion.type == "XPath Match":
                expressions.append(assertion.config("path"))
        if step.type == "transfer":
            expressions += [t.findtext(con("sourcePath")) for t in step.config.findall(con("transfers"))]
        if step.type == "goto":
            expressions += [c.findtext(con("expression")) for c in step.config.findall(con("condition"))]
    assert len(expressions) > 50
    for path in expressions:
        namespaces, expression = split_xpath(placeholders_filled(path))
        etree.XPath(expression, namespaces=namespaces)  # raises when it does not compile


def test_flow_chains_register_submit_transfer_poll_repay(project):
    flow = project.suites[SUITES.index("Flow")].cases[0]
    steps = flow.steps
    ops = [request_parts(s)["operation"] if s.type == "request" else s.type for s in steps]
    order = [ops.index(kind) for kind in ("RegisterCustomer", "SubmitLoan", "transfer", "groovy")]
    assert order == sorted(order)
    transfer = steps[ops.index("transfer")]
    moved = transfer.config.find(con("transfers"))
    assert moved.findtext(con("sourceStep")) == "SubmitLoan"
    assert moved.findtext(con("sourceType")) == "Response"
    assert moved.findtext(con("sourcePath")).endswith("//lms:loan/lms:loanId")
    assert (moved.findtext(con("targetStep")), moved.findtext(con("targetType"))) == ("#TestCase#", "loanId")
    # the Groovy loop (SoapUI) followed by a bounded delay / poll / conditional-goto retry
    polls = [i for i, s in enumerate(steps) if s.type == "request" and s.name.startswith("Poll ")]
    assert len(polls) >= 10
    for i in polls:
        assert steps[i - 1].type == "delay" and steps[i + 1].type == "goto"
        assert "${#TestCase#loanId}" in request_parts(steps[i])["body"]
        target = steps[i + 1].config.find(con("condition")).findtext(con("targetStep"))
        assert target == "GetLoanStatus - decided"
    decided = flow.step_index("GetLoanStatus - decided")
    assert decided == polls[-1] + 2
    tail = [request_parts(s)["operation"] for s in steps[decided:] if s.type == "request"]
    assert "RepayLoan" in tail and tail[0] == "GetLoanStatus"
    closing = next(s for s in steps if s.name == "RepayLoan - the rest closes the loan")
    assert any(a.config("content") == "CLOSED" for a in closing.assertions if a.type == "XPath Match")


def test_a_step_sends_basic_only_after_the_401_challenge(project):
    """SoapUI's default (no "Authenticate pre-emptively"): the LMS's 401 challenge makes it work."""
    [step] = [s for _, _, s in project.iter_steps()
              if s.name == "GetCustomer - Basic sent after the 401 challenge"]
    credentials = request_parts(step)["credentials"]
    assert credentials.findtext(con("authType")) == "Global HTTP Settings"
    assert credentials.findtext(con("preemptive")) == "false"
    assert credentials.findtext(con("username")) == "${#Project#bankUsername}"


def test_ws_security_is_configured_both_ways(project):
    assert {"bank-usernametoken", "scoring-usernametoken"} <= set(project.wss_outgoing)
    for config in project.wss_outgoing.values():
        kinds = [entry.type for entry in config.entries]
        assert kinds == ["Username", "Timestamp"]
        assert config.entries[0].configuration["passwordType"] == "PasswordText"
        assert config.entries[0].attributes["username"].startswith("${#Project#")
    outgoing = [request_parts(s)["request"].get("outgoingWss") for _, _, s in project.iter_steps()
                if s.type == "request"]
    assert "bank-usernametoken" in outgoing and "scoring-usernametoken" in outgoing
    raw = [s for _, _, s in project.iter_steps() if s.type == "request" and "wsse:UsernameToken" in
           request_parts(s)["body"]]
    assert raw, "a request carries its UsernameToken in the envelope too"


# --- against a live LMS -------------------------------------------------------------------------------
def credentials_as_properties(lms) -> list[str]:
    props = ["--prop", "pollDelayMs=500"]  # the in-process worker decides within a few seconds
    for role in ("bank", "scoring", "admin"):
        username, password = lms.credentials(role)
        props += ["--prop", f"{role}Username={username}", "--prop", f"{role}Password={password}"]
    return props


def test_the_runner_executes_the_whole_project_green(lms, tmp_path, project):
    lms.register_scoring()
    report = tmp_path / "soapui-junit.xml"
    with background_worker(lms.settings):
        done = subprocess.run(
            [sys.executable, "-m", "tests.soapui_runner", str(PROJECT), "--endpoint", f"{lms.url}/soap",
             *[arg for suite in LIVE_SUITES for arg in ("--suite", suite)],
             *credentials_as_properties(lms), "--junit", str(report), "--quiet"],
            cwd=ROOT, env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"}, capture_output=True, text=True,
            timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    junit = etree.parse(str(report)).getroot()
    assert junit.tag == "testsuites"
    assert (junit.get("failures"), junit.get("errors")) == ("0", "0"), done.stdout
    assert [s.get("name") for s in junit.findall("testsuite")] == LIVE_SUITES
    skipped = junit.findall(".//testcase[skipped]")
    groovy = [s.name for _, _, s in project.iter_steps() if s.type == "groovy"]
    assert [t.get("name") for t in skipped] == groovy, "Groovy steps are reported as skipped, nothing else"
    assert "Groovy" in skipped[0].find("skipped").get("message")
    names = {t.get("name") for t in junit.iter("testcase")}
    assert {"RepayLoan - the rest closes the loan", "ScoringRegister", "GetTransactions",
            "GetCustomer - Basic sent after the 401 challenge", "GetCustomer - no credentials"} <= names
    assert int(junit.get("tests")) >= 50


def test_a_broken_copy_fails_and_the_report_names_the_assertion(lms, tmp_path):
    root = etree.parse(str(PROJECT)).getroot()
    step = next(s for s in root.iter(con("testStep"))
                if s.get("name") == "RegisterCustomer - approved customer")
    assertion = next(a for a in step.iter(con("assertion")) if a.get("name") == "firstName")
    assertion.find(f"{con('configuration')}/content").text = "Jane"  # the approved customer is John
    broken = load_project(etree.tostring(root))
    properties = {}
    for role in ("bank", "scoring", "admin"):
        properties[f"{role}Username"], properties[f"{role}Password"] = lms.credentials(role)
    run = Runner(broken, endpoint=f"{lms.url}/soap", properties=properties, suites=["Customers"]).run()
    assert not run.passed
    failed = [s for s in run.steps if s.status == FAILED]
    assert [s.step for s in failed] == ["RegisterCustomer - approved customer"]
    report = write_junit(run, tmp_path / "broken.xml")
    failures = etree.parse(str(report)).getroot().findall(".//failure")
    assert len(failures) == 1
    message = failures[0].get("message")
    assert message.startswith("[firstName] XPathContains comparison failed")
    assert "expecting [Jane], actual was [John]" in message
    # failOnError: the rest of that test case did not run, and says so
    after = [s for s in run.steps if s.case == "Register and read a customer"][1:]
    assert after and all(s.status == SKIPPED and "not run" in s.message for s in after)


# --- the runner's semantics, offline --------------------------------------------------------------------
FAULT_BODY = f"""<soap11env:Envelope xmlns:soap11env="{SOAP11_ENV}" xmlns:tns="{TNS}"><soap11env:Body>
<soap11env:Fault><faultcode>soap11env:Client.LoanNotFound</faultcode><faultstring>no loan X</faultstring>
<detail><tns:LmsFault><tns:code>LoanNotFound</tns:code><tns:loanId>X</tns:loanId></tns:LmsFault></detail>
</soap11env:Fault></soap11env:Body></soap11env:Envelope>"""
LOAN_BODY = f"""<soap11env:Envelope xmlns:soap11env="{SOAP11_ENV}" xmlns:tns="{TNS}"><soap11env:Body>
<tns:GetLoanStatusResponse><tns:loan><tns:loanId>LN1</tns:loanId><tns:customerNumber>1</tns:customerNumber>
<tns:amount>10.00</tns:amount><tns:currency>KES</tns:currency><tns:status>{{status}}</tns:status>
<tns:scoringAttempts>0</tns:scoringAttempts><tns:createdAt>2026-01-01T00:00:00+00:00</tns:createdAt>
<tns:updatedAt>2026-01-01T00:00:00+00:00</tns:updatedAt></tns:loan></tns:GetLoanStatusResponse>
</soap11env:Body></soap11env:Envelope>"""


def offline_project(steps_xml: str, fail_on_error: bool = False) -> bytes:
    """The real project's interface (and its WSDL) with one test case of the given steps."""
    root = etree.parse(str(PROJECT)).getroot()
    for suite in root.findall(con("testSuite")):
        root.remove(suite)
    suite = etree.fromstring(
        f'<con:testSuite xmlns:con="{CON}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="S">'
        f'<con:testCase name="C" failOnError="{str(fail_on_error).lower()}">{steps_xml}</con:testCase>'
        f"</con:testSuite>")
    root.insert(list(root).index(root.find(con("interface"))) + 1, suite)
    return etree.tostring(root)


def request_xml(name: str, assertions: str, body: str = "<lms:loanId>LN1</lms:loanId>",
                soap12: bool = False) -> str:
    ns, interface = (SOAP12_ENV, "LoanManagementServiceSoap12") if soap12 else (SOAP11_ENV, "LoanManagementService")
    envelope = (f'<soapenv:Envelope xmlns:soapenv="{ns}" xmlns:lms="{TNS}"><soapenv:Body>'
                f"<lms:GetLoanStatus>{body}</lms:GetLoanStatus></soapenv:Body></soapenv:Envelope>")
    return (f'<con:testStep type="request" name="{name}"><con:config xsi:type="con:RequestStep">'
            f"<con:interface>{interface}</con:interface>"
            f"<con:operation>GetLoanStatus</con:operation><con:request name=\"{name}\">"
            f"<con:endpoint>http://lms.test/soap</con:endpoint>"
            f"<con:request><![CDATA[{envelope}]]></con:request>"
            f"{assertions}<con:credentials><con:username>u</con:username><con:password>p</con:password>"
            f"<con:authType>Preemptive</con:authType></con:credentials>"
            f"</con:request></con:config></con:testStep>")


def assertion_xml(type_: str, name: str, config: str = "") -> str:
    return (f'<con:assertion type="{type_}" name="{name}"><con:configuration>{config}</con:configuration>'
            f"</con:assertion>")


def xpath_xml(name: str, path: str, content: str, wildcards: bool = False) -> str:
    return assertion_xml("XPath Match", name, f"<path>declare namespace lms='{TNS}';\n{path}</path>"
                         f"<content>{content}</content>"
                         f"<allowWildcards>{str(wildcards).lower()}</allowWildcards>")


def test_runner_evaluates_soapui_assertions_faithfully(requests_mock):
    bogus = LOAN_BODY.format(status="BOGUS")
    requests_mock.post("http://lms.test/soap", [{"status_code": 500, "text": FAULT_BODY},
                                                {"status_code": 200, "text": bogus}])
    steps = request_xml("fault", "".join([
        assertion_xml(NOT_SOAP_FAULT, "Not SOAP Fault"),  # fails: it is a fault
        assertion_xml(SOAP_FAULT, "SOAP Fault"),  # passes
        assertion_xml("Schema Compliance", "Schema Compliance"),  # passes: LmsFault detail is valid
        xpath_xml("faultcode", "//faultcode", "*:Client.LoanNotFound", wildcards=True),  # passes
        xpath_xml("faultcode exact", "//faultcode", "Client.LoanNotFound"),  # fails: no wildcard
        assertion_xml("Simple Contains", "regex",  # Java String.matches: whole content, (?s) for newlines
                      "<token>(?s).*LoanNotFound.*</token><useRegEx>true</useRegEx>"),
        assertion_xml("Valid HTTP Status Codes", "http", "<codes>200,500</codes>"),
        assertion_xml("GroovyScriptAssertion", "script", "<scriptText>assert false</scriptText>"),
    ])) + request_xml("invalid payload", assertion_xml("Schema Compliance", "Schema Compliance"))
    run = Runner(load_project(offline_project(steps))).run()
    first, second = run.steps
    results = {a.name: a.status for a in first.assertions}
    assert results == {"Not SOAP Fault": "FAIL", "SOAP Fault": "PASS", "Schema Compliance": "PASS",
                       "faultcode": "PASS", "faultcode exact": "FAIL", "regex": "PASS", "http": "PASS",
                       "script": "SKIPPED"}
    assert first.status == FAILED and second.status == FAILED  # failOnError=false: both ran
    assert "BOGUS" in second.assertions[0].message  # not in the LoanStatus enumeration
    sent = requests_mock.request_history[0]
    assert sent.headers["SOAPAction"] == '"GetLoanStatus"'
    assert sent.headers["Authorization"] == "Basic dTpw"  # u:p, preemptive
    report = etree.fromstring(to_xml(run))
    assert "[Not SOAP Fault] Response is a SOAP Fault" in report.find(".//failure").get("message")


def test_runner_speaks_soap12_on_the_soap12_interface(requests_mock):
    """A step of the SOAP 1.2 interface is sent as SoapUI sends it (application/soap+xml with the
    action parameter, no SOAPAction) and its SOAP 1.2 fault read: Code, subcode, Detail."""
    from lms_soap.lending.errors import LoanNotFound
    from lms_soap.services.soap12 import soap12_fault_envelope

    fault = soap12_fault_envelope(LoanNotFound("no loan X", loan_id="X")).decode()
    requests_mock.post("http://lms.test/soap", [{"status_code": 500, "text": fault}])
    env = f"declare namespace soap='{SOAP12_ENV}';\n"
    step = request_xml("fault", "".join([
        assertion_xml("SOAP Response", "SOAP Response"),
        assertion_xml(SOAP_FAULT, "SOAP Fault"),
        assertion_xml("Schema Compliance", "Schema Compliance"),
        xpath_xml("code", env + "//soap:Fault/soap:Code/soap:Value", "*:Sender", wildcards=True),
        xpath_xml("subcode", env + "//soap:Fault/soap:Code/soap:Subcode/soap:Value", "*:LoanNotFound",
                  wildcards=True),
        xpath_xml("detail", env + "//soap:Detail/lms:LmsFault/lms:loanId", "X"),
    ]), soap12=True)
    [run] = Runner(load_project(offline_project(step))).run().steps
    assert {a.name: a.status for a in run.assertions} == dict.fromkeys(
        ["SOAP Response", "SOAP Fault", "Schema Compliance", "code", "subcode", "detail"], "PASS"), run.message
    sent = requests_mock.request_history[0]
    assert sent.headers["Content-Type"] == 'application/soap+xml;charset=UTF-8;action="GetLoanStatus"'
    assert "SOAPAction" not in sent.headers
    assert etree.fromstring(sent.body).tag == f"{{{SOAP12_ENV}}}Envelope"


def test_runner_loops_with_conditional_goto_and_skips_groovy(requests_mock):
    answers = [LOAN_BODY.format(status=s) for s in ("PENDING", "SCORING", "APPROVED", "APPROVED")]
    requests_mock.post("http://lms.test/soap", [{"status_code": 200, "text": a} for a in answers])
    decided = "//lms:loan/lms:status != 'PENDING' and //lms:loan/lms:status != 'SCORING'"
    steps = (
        '<con:testStep type="groovy" name="loop in Groovy"><con:config><script>assert false</script>'
        "</con:config></con:testStep>"
        + request_xml("poll", "")
        + f'<con:testStep type="goto" name="decided?"><con:config><con:condition><con:name>d</con:name>'
          f"<con:type>XPATH</con:type>"
          f"<con:expression>declare namespace lms='{TNS}'; {decided}</con:expression>"
          f"<con:targetStep>final</con:targetStep></con:condition></con:config></con:testStep>"
        + '<con:testStep type="delay" name="wait"><con:config><delay>10</delay></con:config></con:testStep>'
        + '<con:testStep type="goto" name="again"><con:config><con:condition><con:name>always</con:name>'
          f"<con:type>XPATH</con:type><con:expression>true()</con:expression><con:targetStep>poll"
          f"</con:targetStep></con:condition></con:config></con:testStep>"
        + request_xml("final", xpath_xml("approved", "//lms:loan/lms:status", "APPROVED"))
    )
    run = Runner(load_project(offline_project(steps, fail_on_error=True))).run()
    labels = [(s.label, s.status) for s in run.steps]
    assert labels[0] == ("loop in Groovy", SKIPPED)
    assert [label for label, _ in labels if label.startswith("poll")] == ["poll", "poll [2]", "poll [3]"]
    assert labels[-1] == ("final", OK)
    assert run.passed and requests_mock.call_count == 4
