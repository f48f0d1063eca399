"""SoapUI property expansion (${...}) and XPath with SoapUI's `declare namespace` prologue.

Expansions supported, as SoapUI resolves them:
- ${#Project#name}, ${#TestSuite#name}, ${#TestCase#name}, ${#Global#name}, ${#Env#name}, ${#System#name}
- ${name}: a context property, else the test case's, suite's, project's, global property
- ${Step name#Property} and ${Step name#Property#xpath}: a property of a step of the running test case
  (Request = the request as configured, RawRequest = as sent, Response, Endpoint, Username, ...),
  optionally narrowed by an XPath (with `declare namespace` lines)
- ${=expression}: inline Groovy. Only a few side-effect-free idioms are evaluated
  (java.util.UUID.randomUUID(), System.currentTimeMillis(), new Date().getTime()); any other
  raises UnsupportedExpansion, so a project that needs Groovy fails loudly instead of silently.
A property's value is expanded again (SoapUI expands recursively); a missing property is "".
"""
from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any, Callable, Protocol

from lxml import etree

_DECLARE = re.compile(r"""\s*declare\s+namespace\s+([A-Za-z_][\w.\-]*)\s*=\s*(['"])(.*?)\2\s*;""")
_DEFAULT_DECLARE = re.compile(r"""\s*declare\s+default\s+element\s+namespace\s+(['"])(.*?)\1\s*;""")
_ANY_NS_STEP = re.compile(r"\*:([A-Za-z_][\w.\-]*)")
_INNERMOST = re.compile(r"\$\{([^${}]*)\}")
MAX_DEPTH = 16


class UnsupportedExpansion(Exception):
    """A ${=...} Groovy expression the runner does not evaluate."""


class XPathProblem(Exception):
    """An XPath that does not compile, or a document that is not XML."""


# --- XPath -------------------------------------------------------------------------------------
def split_xpath(path: str) -> tuple[dict[str, str], str]:
    """(namespaces, expression) from SoapUI's "declare namespace p='uri';" prologue + expression.

    `*:name` (XPath 2.0, which SoapUI's Saxon accepts) becomes *[local-name()='name']."""
    namespaces: dict[str, str] = {}
    rest = path
    while True:
        match = _DECLARE.match(rest)
        if match:
            namespaces[match.group(1)] = match.group(3)
            rest = rest[match.end():]
            continue
        default = _DEFAULT_DECLARE.match(rest)
        if default:
            raise XPathProblem("'declare default element namespace' is not supported: declare a prefix")
        break
    expression = _ANY_NS_STEP.sub(lambda m: f"*[local-name()='{m.group(1)}']", rest.strip())
    return namespaces, expression


def parse_xml(text: str | bytes) -> etree._Element:
    data = text.encode("utf-8") if isinstance(text, str) else text
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(data.strip(), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise XPathProblem(f"not XML: {exc}") from None


def evaluate(document: etree._Element, path: str) -> Any:
    namespaces, expression = split_xpath(path)
    try:
        return document.xpath(expression, namespaces=namespaces)
    except etree.XPathError as exc:
        raise XPathProblem(f"XPath [{path}] fails: {exc}") from None


def node_text(node: Any) -> str:
    """A selected node or value as text, as SoapUI compares it."""
    if isinstance(node, etree._Element):
        if len(node) == 0:
            return node.text or ""
        return "".join(node.itertext())
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float):
        return str(int(node)) if node.is_integer() else repr(node)
    return str(node)


def values(result: Any) -> list[str]:
    """The values an XPath selected (an empty list when it selected nothing)."""
    if isinstance(result, list):
        return [node_text(item) for item in result]
    return [node_text(result)]


def first_value(text: str, path: str) -> str | None:
    found = values(evaluate(parse_xml(text), path))
    return found[0] if found else None


# --- property expansion ------------------------------------------------------------------------
class Scope(Protocol):
    """What an expansion can see: set by the runner for the running step."""

    project: dict[str, str]
    suite: dict[str, str]
    case: dict[str, str]
    context: dict[str, str]
    global_properties: dict[str, str]

    def step_property(self, step: str, name: str) -> str | None: ...


_DYNAMIC: dict[str, Callable[[], str]] = {
    "java.util.UUID.randomUUID()": lambda: str(uuid.uuid4()),
    "java.util.UUID.randomUUID().toString()": lambda: str(uuid.uuid4()),
    "UUID.randomUUID()": lambda: str(uuid.uuid4()),
    "System.currentTimeMillis()": lambda: str(int(time.time() * 1000)),
    "new Date().getTime()": lambda: str(int(time.time() * 1000)),
}


def expand(text: str | None, scope: Scope, depth: int = 0) -> str:
    """Every ${...} of `text` expanded, innermost first (so nested expansions work)."""
    if not text or "${" not in text:
        return text or ""
    if depth > MAX_DEPTH:
        raise UnsupportedExpansion(f"property expansion nests deeper than {MAX_DEPTH}: {text[:80]}")
    out = text
    for _ in range(1000):
        match = _INNERMOST.search(out)
        if match is None:
            break
        value = _resolve(match.group(1), scope, depth)
        out = out[:match.start()] + value + out[match.end():]
    return out


def _resolve(body: str, scope: Scope, depth: int) -> str:
    if body.startswith("="):
        expression = re.sub(r"\s+", "", body[1:])
        compact = {re.sub(r"\s+", "", k): v for k, v in _DYNAMIC.items()}
        if expression in compact:
            return compact[expression]()
        raise UnsupportedExpansion(f"inline Groovy ${{{body}}} is not evaluated by this runner")
    if body.startswith("#"):
        holder, _, name = body[1:].partition("#")
        value = _holder_value(holder, name, scope)
        return expand(value, scope, depth + 1) if value else ""
    if "#" in body:
        step, _, rest = body.partition("#")
        name, _, xpath = rest.partition("#")
        value = scope.step_property(step, name)
        if value is None:
            return ""
        if xpath:
            try:
                value = first_value(value, xpath) or ""
            except XPathProblem:
                return ""
        return value
    for holder in (scope.context, scope.case, scope.suite, scope.project, scope.global_properties):
        if body in holder:
            return expand(holder[body], scope, depth + 1)
    return ""


def holder_properties(holder: str, scope: Scope) -> dict[str, str] | None:
    """The property map of a SoapUI level ("Project", "TestSuite", "TestCase", "Global"), else None."""
    return {"Project": scope.project, "TestSuite": scope.suite, "TestCase": scope.case,
            "Global": scope.global_properties}.get(holder)


def _holder_value(holder: str, name: str, scope: Scope) -> str | None:
    properties = holder_properties(holder, scope)
    if properties is not None:
        return properties.get(name)
    if holder in ("Env", "System"):
        return os.environ.get(name)
    raise UnsupportedExpansion(f"unknown property scope #{holder}#")
