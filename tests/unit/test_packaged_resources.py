"""What the LMS reads at run time ships inside the package (issue 10, defect 8), and the copies the
repository shows its readers are the same bytes.

lms_soap/resources/cbs/ is the source of truth (the code reads it, wheels carry it); the top-level
wsdl/cbs/ keeps identical copies because the contract's readers look there. Copy the packaged files
over wsdl/cbs/ when this fails, never the other way round without reviewing the change.
"""
from pathlib import Path

import pytest

from lms_soap.resources import CBS_WSDLS, cbs_wsdl_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", CBS_WSDLS)
def test_the_repository_copy_of_each_cbs_wsdl_is_the_packaged_one(name):
    assert (ROOT / "wsdl" / "cbs" / name).read_bytes() == (cbs_wsdl_dir() / name).read_bytes()


def test_the_packaged_cbs_wsdls_are_the_only_ones_in_both_folders():
    assert sorted(p.name for p in cbs_wsdl_dir().glob("*.wsdl")) == sorted(CBS_WSDLS)
    assert sorted(p.name for p in (ROOT / "wsdl" / "cbs").iterdir()) == sorted(CBS_WSDLS)


def test_nothing_in_the_package_finds_files_relative_to_the_checkout():
    """A path built from the package's own location up to the repository (parent.parent, parents[1])
    breaks in a wheel: such files are not installed."""
    offenders = []
    for source in (ROOT / "lms_soap").rglob("*.py"):
        text = source.read_text()
        if "REPO_ROOT" in text or ".parent.parent" in text or "parents[1]" in text:
            offenders.append(str(source.relative_to(ROOT)))
    assert offenders == []
