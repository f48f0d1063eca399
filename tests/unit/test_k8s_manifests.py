"""deploy/k8s/ is valid against the Kubernetes schemas (kubernetes-validate ships them: offline),
strictly (an unknown or misspelt field fails), and holds what a many-host deployment needs."""
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
#: The Kubernetes release whose schemas the manifests are checked against.
KUBERNETES_VERSION = "1.30.0"


def documents():
    return [(path.name, doc) for path in sorted(K8S.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind):
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


@pytest.mark.parametrize("name,doc", documents(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_every_manifest_is_valid_against_the_kubernetes_schema(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_misspelt_field():
    bad = {**by_kind("Deployment")["lms-web"]}
    bad["spec"] = {**bad["spec"], "replica": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_web_and_worker_run_several_replicas_with_probes_requests_and_disruption_budgets():
    deployments = by_kind("Deployment")
    assert set(deployments) == {"lms-web", "lms-worker"}
    web = deployments["lms-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for deployment in deployments.values():
        assert deployment["spec"]["replicas"] >= 2
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"configMapRef": {"name": "lms-settings"}} in container["envFrom"]
        assert {"secretRef": {"name": "lms-secrets"}} in container["envFrom"]
    budgets = by_kind("PodDisruptionBudget")
    assert {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for b in budgets.values()} \
        == {"web", "worker"}
    (job,) = by_kind("Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["lms-soap", "db", "upgrade"]
    assert "lms-web" in by_kind("Service")


def test_the_configmap_only_holds_documented_settings_and_no_secret():
    from lms_soap.config import env_documentation

    documented = {name for name, _ in env_documentation()}
    (settings,) = by_kind("ConfigMap").values()
    assert set(settings["data"]) <= documented
    assert not {"DATABASE_URL", "LMS_SECRET_KEY", "CBS_PASSWORD"} & set(settings["data"])
    (secret,) = by_kind("Secret").values()
    assert set(secret["stringData"]) <= documented
