"""Refresh the WSDL cached in a SoapUI project (its definitionCache) from a WSDL file, as SoapUI's
"Update Definition" does for each interface (the SOAP 1.1 and the SOAP 1.2 binding each cache the
one WSDL), leaving the rest of the project file byte for byte as it was:

    python -m tests.soapui_runner.refresh soapui/lms-soapui-project.xml wsdl/lms.wsdl

tests/e2e/test_soapui_project.py fails while the cached copy differs from wsdl/lms.wsdl."""
from __future__ import annotations

import re
import sys
from pathlib import Path

_CONTENT = re.compile(r"(<con:definitionCache\b.*?<con:content><!\[CDATA\[)(.*?)(\]\]></con:content>)",
                      re.DOTALL)


def refresh(project: Path, wsdl: Path) -> bool:
    """Replace the first cached WSDL part of every interface of `project` with `wsdl`; True when
    the file changed."""
    text = project.read_text(encoding="utf-8")
    definition = re.sub(r"^<\?xml[^>]*\?>\s*", "", wsdl.read_text(encoding="utf-8")).rstrip()
    if "]]>" in definition:
        raise ValueError("the WSDL contains ']]>' and cannot be cached in a CDATA section")
    updated, count = _CONTENT.subn(lambda m: m.group(1) + definition + m.group(3), text)
    if count == 0:
        raise ValueError(f"{project} has no con:definitionCache part to refresh")
    if updated == text:
        return False
    project.write_text(updated, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    changed = refresh(Path(args[0]), Path(args[1]))
    print(f"{args[0]}: cached WSDL {'refreshed from ' + args[1] if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
