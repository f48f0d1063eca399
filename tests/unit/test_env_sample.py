"""`.env.sample` documents every setting that lms_soap/config.py reads, with its default."""
from pathlib import Path

from lms_soap.config import env_documentation

SAMPLE = Path(__file__).resolve().parents[2] / ".env.sample"


def test_every_setting_is_documented_in_env_sample():
    lines = SAMPLE.read_text().splitlines()
    assigned = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    names = {name for name, _ in env_documentation()}
    assert names == assigned
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            above = lines[index - 1]
            assert above.startswith("#") or "=" in above, f"{line} has no comment above it"
