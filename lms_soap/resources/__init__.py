"""Files the LMS reads at run time, shipped inside the package (package data) so that a wheel
installed anywhere finds them: never a path relative to a source checkout.

    cbs/customerWsdl.wsdl, cbs/transactionWsdl.wsdl   the bank's two WSDLs, verbatim

One source of truth: these are the copies the code reads. The top-level wsdl/cbs/ of the
repository keeps byte-identical copies for readers of the contract (the design card points there);
tests/unit/test_packaged_resources.py fails when the two drift apart.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CBS_WSDLS = ("customerWsdl.wsdl", "transactionWsdl.wsdl")


def cbs_wsdl_dir() -> Path:
    """The folder of the packaged CBS WSDLs. zeep reads a WSDL from a file name, so this must be a
    real folder: it is wherever pip installed the package (pip always unpacks a wheel); a zipped
    import is refused here rather than surfacing later as a confusing zeep error."""
    folder = files(__package__) / "cbs"
    if not isinstance(folder, Path):
        raise RuntimeError(f"lms_soap is imported from an archive ({folder}): install it with pip")
    return folder
