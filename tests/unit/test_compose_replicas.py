"""docker-compose.yml runs several web and worker replicas (and can: no fixed host port per replica)."""
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_web_and_worker_have_replicas_and_web_replicas_do_not_share_one_host_port():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("lms", "worker"):
        assert "replicas" in services[name]["deploy"], name
    (published,) = services["lms"]["ports"]
    host_ports = published.rsplit(":", 1)[0].split(":")[-1]
    assert "-" in host_ports, "a fixed host port lets only one replica start"
