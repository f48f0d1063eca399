"""A SoapUI project file (con:soapui-project, namespace http://eviware.com/soapui/config) read
into plain objects: project/suite/case properties, WSDL interfaces with their cached definition,
outgoing WS-Security configurations, test suites, test cases, test steps and assertions (the cached
WSDL itself is read by wsdl.py).

Only what the runner executes is modelled; every element keeps a reference to its XML so that
tests can change a project in memory (`Project.from_element` after editing the tree)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from lxml import etree

from .wsdl import WsdlDefinition, WsdlOperation

CON = "http://eviware.com/soapui/config"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def con(tag: str) -> str:
    return f"{{{CON}}}{tag}"


def _text(element: etree._Element | None, tag: str, default: str | None = None) -> str | None:
    if element is None:
        return default
    child = element.find(con(tag))
    if child is None:
        child = element.find(tag)  # assertion/step configurations use unqualified children
    if child is None:
        return default
    return child.text if child.text is not None else ""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def read_properties(owner: etree._Element) -> dict[str, str]:
    """The <con:properties> directly under a project, suite, case or properties step."""
    props: dict[str, str] = {}
    holder = owner.find(con("properties"))
    if holder is None:
        return props
    for prop in holder.findall(con("property")):
        name = _text(prop, "name")
        if name:
            props[name] = _text(prop, "value", "") or ""
    return props


# --- interfaces --------------------------------------------------------------------------------
@dataclass
class Interface:
    name: str
    type: str
    binding_name: str
    soap_version: str
    definition_url: str
    definition: WsdlDefinition | None
    endpoints: list[str]
    operations: dict[str, WsdlOperation]
    element: etree._Element


# --- WS-Security -------------------------------------------------------------------------------
@dataclass
class WssEntry:
    type: str  # Username, Timestamp (others are not executed by the runner)
    attributes: dict[str, str]
    configuration: dict[str, str]


@dataclass
class WssOutgoing:
    name: str
    must_understand: bool
    actor: str | None
    entries: list[WssEntry]


# --- tests -------------------------------------------------------------------------------------
@dataclass
class Assertion:
    type: str
    name: str
    disabled: bool
    configuration: etree._Element | None
    element: etree._Element

    def config(self, tag: str, default: str | None = None) -> str | None:
        return _text(self.configuration, tag, default)


@dataclass
class Step:
    type: str
    name: str
    disabled: bool
    config: etree._Element | None
    element: etree._Element
    assertions: list[Assertion] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class TestCase:
    name: str
    disabled: bool
    fail_on_error: bool
    timeout_ms: int
    properties: dict[str, str]
    steps: list[Step]
    element: etree._Element

    def step_index(self, name: str) -> int:
        for index, step in enumerate(self.steps):
            if step.name == name:
                return index
        raise KeyError(name)


@dataclass
class TestSuite:
    name: str
    disabled: bool
    properties: dict[str, str]
    cases: list[TestCase]
    element: etree._Element


@dataclass
class Project:
    name: str
    properties: dict[str, str]
    interfaces: dict[str, Interface]
    wss_outgoing: dict[str, WssOutgoing]
    suites: list[TestSuite]
    element: etree._Element

    @classmethod
    def from_element(cls, root: etree._Element) -> "Project":
        if root.tag != con("soapui-project"):
            raise ValueError(f"not a SoapUI project: root element is {root.tag}")
        interfaces = {}
        for iface in root.findall(con("interface")):
            interfaces[iface.get("name")] = _interface(iface)
        wss = {}
        container = root.find(con("wssContainer"))
        if container is not None:
            for outgoing in container.findall(con("outgoing")):
                entries = []
                for entry in outgoing.findall(con("entry")):
                    configuration = entry.find(con("configuration"))
                    settings = {}
                    if configuration is not None:
                        settings = {etree.QName(c).localname: (c.text or "") for c in configuration
                                    if isinstance(c.tag, str)}
                    entries.append(WssEntry(entry.get("type", ""), dict(entry.attrib), settings))
                name = _text(outgoing, "name", "") or ""
                wss[name] = WssOutgoing(name, _bool(outgoing.get("mustUnderstand"), True),
                                        outgoing.get("actor"), entries)
        suites = [_suite(s) for s in root.findall(con("testSuite"))]
        return cls(root.get("name", ""), read_properties(root), interfaces, wss, suites, root)

    def iter_steps(self) -> Iterator[tuple[TestSuite, TestCase, Step]]:
        for suite in self.suites:
            for case in suite.cases:
                for step in case.steps:
                    yield suite, case, step


def load_project(source: str | Path | bytes) -> Project:
    """A project from a path or from the XML bytes."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, strip_cdata=False,
                             remove_blank_text=False)
    if isinstance(source, bytes):
        root = etree.fromstring(source, parser)
    else:
        root = etree.parse(str(source), parser).getroot()
    return Project.from_element(root)


def _interface(element: etree._Element) -> Interface:
    definition = None
    cache = element.find(con("definitionCache"))
    if cache is not None:
        parts = {}
        for part in cache.findall(con("part")):
            parts[_text(part, "url", "") or ""] = _text(part, "content", "") or ""
        root_part = cache.get("rootPart") or next(iter(parts), "")
        if parts:
            definition = WsdlDefinition(root_part, parts)
    endpoints_el = element.find(con("endpoints"))
    endpoints = []
    if endpoints_el is not None:
        endpoints = [e.text or "" for e in endpoints_el.findall(con("endpoint"))]
    binding = element.get("bindingName", "")
    operations: dict[str, WsdlOperation] = {}
    if definition is not None:
        operations = definition.operations(binding or None)
    for op in element.findall(con("operation")):  # the project's own view (action) wins
        name = op.get("name")
        if name in operations:
            operations[name].action = op.get("action", operations[name].action)
        else:
            operations[name] = WsdlOperation(name, op.get("action", ""), None, None, [])
    return Interface(
        name=element.get("name", ""),
        type=element.get("type", "wsdl"),
        binding_name=binding,
        soap_version=element.get("soapVersion", "1_1"),
        definition_url=element.get("definition", ""),
        definition=definition,
        endpoints=endpoints,
        operations=operations,
        element=element,
    )


def _suite(element: etree._Element) -> TestSuite:
    return TestSuite(
        name=element.get("name", ""),
        disabled=_bool(element.get("disabled")),
        properties=read_properties(element),
        cases=[_case(c) for c in element.findall(con("testCase"))],
        element=element,
    )


def _case(element: etree._Element) -> TestCase:
    return TestCase(
        name=element.get("name", ""),
        disabled=_bool(element.get("disabled")),
        fail_on_error=_bool(element.get("failOnError"), True),
        timeout_ms=int(element.get("timeout") or 0),
        properties=read_properties(element),
        steps=[_step(s) for s in element.findall(con("testStep"))],
        element=element,
    )


def _step(element: etree._Element) -> Step:
    config = element.find(con("config"))
    assertions: list[Assertion] = []
    properties: dict[str, str] = {}
    step_type = element.get("type", "")
    if step_type == "request" and config is not None:
        request = config.find(con("request"))
        if request is not None:
            for assertion in request.findall(con("assertion")):
                assertions.append(Assertion(
                    type=assertion.get("type", ""),
                    name=assertion.get("name") or assertion.get("type", ""),
                    disabled=_bool(assertion.get("disabled")),
                    configuration=assertion.find(con("configuration")),
                    element=assertion,
                ))
    if step_type == "properties" and config is not None:
        properties = read_properties(config)
    return Step(step_type, element.get("name", ""), _bool(element.get("disabled")), config, element,
                assertions, properties)
