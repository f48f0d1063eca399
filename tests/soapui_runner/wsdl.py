"""The WSDL a SoapUI project caches for an interface (its definitionCache): the operations of a
binding (SOAPAction, input, output and fault elements) and the inline XML schemas, compiled once."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"


@dataclass
class WsdlOperation:
    name: str
    action: str
    input_element: etree.QName | None
    output_element: etree.QName | None
    fault_elements: list[etree.QName]


class WsdlDefinition:
    """The WSDL cached in the project (definitionCache), with its schema compiled once."""

    def __init__(self, root_part: str, parts: dict[str, str]):
        self.root_part = root_part
        self.parts = parts
        self.document = etree.fromstring(parts[root_part].encode("utf-8"))
        self._schemas: dict[str, etree.XMLSchema] | None = None

    # messages, portType and binding of one binding name
    def operations(self, binding_name: str | None = None) -> dict[str, WsdlOperation]:
        doc = self.document
        tns = doc.get("targetNamespace")
        messages = {m.get("name"): m for m in doc.findall(f"{{{WSDL}}}message")}
        bindings = doc.findall(f"{{{WSDL}}}binding")
        binding = None
        for candidate in bindings:
            qname = f"{{{tns}}}{candidate.get('name')}"
            if binding_name in (None, qname, candidate.get("name")):
                binding = candidate
                break
        if binding is None:
            raise ValueError(f"binding {binding_name} is not in the WSDL")
        port_type_name = binding.get("type").split(":")[-1]
        port_type = next(p for p in doc.findall(f"{{{WSDL}}}portType") if p.get("name") == port_type_name)

        def element_of(message_ref: str | None) -> etree.QName | None:
            if not message_ref:
                return None
            message = messages.get(message_ref.split(":")[-1])
            part = message.find(f"{{{WSDL}}}part") if message is not None else None
            if part is None or not part.get("element"):
                return None
            prefix, _, local = part.get("element").rpartition(":")
            return etree.QName(part.nsmap.get(prefix or None, tns), local)

        result: dict[str, WsdlOperation] = {}
        for operation in binding.findall(f"{{{WSDL}}}operation"):
            name = operation.get("name")
            soap_op = operation.find(f"{{{WSDL_SOAP11}}}operation")
            if soap_op is None:
                soap_op = operation.find(f"{{{WSDL_SOAP12}}}operation")
            abstract = next(o for o in port_type.findall(f"{{{WSDL}}}operation") if o.get("name") == name)
            inp = abstract.find(f"{{{WSDL}}}input")
            out = abstract.find(f"{{{WSDL}}}output")
            faults = [element_of(f.get("message")) for f in abstract.findall(f"{{{WSDL}}}fault")]
            result[name] = WsdlOperation(
                name=name,
                action=soap_op.get("soapAction", "") if soap_op is not None else "",
                input_element=element_of(inp.get("message") if inp is not None else None),
                output_element=element_of(out.get("message") if out is not None else None),
                fault_elements=[f for f in faults if f is not None],
            )
        return result

    def schemas(self) -> dict[str, etree.XMLSchema]:
        """One compiled schema per target namespace of the WSDL's inline xs:schema elements."""
        if self._schemas is None:
            compiled = {}
            for schema in self.document.iter(f"{{{XS}}}schema"):
                # A standalone copy keeps the namespace declarations in scope on wsdl:definitions.
                standalone = etree.fromstring(etree.tostring(schema))
                compiled[schema.get("targetNamespace", "")] = etree.XMLSchema(standalone)
            self._schemas = compiled
        return self._schemas

    def global_elements(self) -> set[etree.QName]:
        found = set()
        for schema in self.document.iter(f"{{{XS}}}schema"):
            tns = schema.get("targetNamespace", "")
            for element in schema.findall(f"{{{XS}}}element"):
                found.add(etree.QName(tns, element.get("name")))
        return found
