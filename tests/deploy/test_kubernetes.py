"""deploy/k8s/ against the Kubernetes JSON schemas (kubernetes-validate, offline, strict:
unknown fields are errors), and the wiring between the objects that schemas cannot see."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from services.config import parse_duration
from tests.deploy.files import (
    K8S,
    dockerfile_stages,
    k8s_documents,
    load_yaml,
    port_of,
    server_variables,
)

# One concrete release, strict schemas: every field used here (native gRPC probes,
# autoscaling/v2, policy/v1) is GA in it, and a field misspelt or misplaced fails.
KUBERNETES_VERSION = "1.33"
MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    return k8s_documents()


def _validate(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def _pod(objects: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects[kind]["spec"]["template"]["spec"]
    return spec


def _server(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (container,) = _pod(objects, "Deployment")["containers"]
    assert isinstance(container, dict)
    return container


def _config_port(objects: dict[str, dict[str, Any]], name: str) -> int:
    return port_of(objects["ConfigMap"]["data"][f"STEPLINE_{name}_ADDRESS"])


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest__matches_the_kubernetes_schema(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        _validate(document)


def test_manifest__schema_check_rejects_unknown_fields(objects: dict[str, dict[str, Any]]) -> None:
    broken = copy.deepcopy(objects["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(broken)


def test_kustomization__lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(path.name for path in MANIFESTS)
    assert kustomization["namespace"] == "stepline"


def test_configmap__sets_only_variables_the_server_reads(objects: dict[str, Any]) -> None:
    data = objects["ConfigMap"]["data"]
    stepline_names = {name for name in data if name.startswith("STEPLINE_")}
    assert stepline_names <= server_variables()
    assert set(data) - stepline_names == {name for name in data if name.startswith("OTEL_")}
    assert "STEPLINE_DATABASE_URL" not in data, "the database URL belongs in the Secret"
    secret = objects["Secret"]["stringData"]
    assert set(secret) == {"STEPLINE_DATABASE_URL"}
    assert secret["STEPLINE_DATABASE_URL"].startswith("postgresql://")


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods__read_the_configmap_and_secret_and_run_locked_down(
    objects: dict[str, Any], kind: str
) -> None:
    pod = _pod(objects, kind)
    (container,) = pod["containers"]
    sources = {
        next(iter(source)): next(iter(source.values()))["name"] for source in container["envFrom"]
    }
    assert sources == {
        "configMapRef": objects["ConfigMap"]["metadata"]["name"],
        "secretRef": objects["Secret"]["metadata"]["name"],
    }
    image_user = dockerfile_stages()[-1].all("USER")[-1].partition(":")[0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(image_user)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["image"] == _server(objects)["image"]


def test_job__runs_the_migrations(objects: dict[str, Any]) -> None:
    (container,) = _pod(objects, "Job")["containers"]
    assert container["command"] == ["stepline-server", "migrate"]


def test_deployment__ports_and_probes_match_the_configured_addresses(
    objects: dict[str, Any],
) -> None:
    server = _server(objects)
    grpc, http = _config_port(objects, "GRPC"), _config_port(objects, "HTTP")
    assert server["command"] == ["stepline-server", "serve"]
    assert {port["name"]: port["containerPort"] for port in server["ports"]} == {
        "grpc": grpc,
        "http": http,
    }
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert server["livenessProbe"]["grpc"]["port"] == grpc
    assert server["startupProbe"]["grpc"]["port"] == grpc
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(http)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_service__targets_the_server_pods_by_port_name(objects: dict[str, Any]) -> None:
    service = objects["Service"]["spec"]
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"] == pod_labels
    names = {port["name"] for port in _server(objects)["ports"]}
    assert {port["targetPort"] for port in service["ports"]} == names
    assert all(port.get("appProtocol") for port in service["ports"])


def test_deployment__grace_period_covers_the_server_drain(objects: dict[str, Any]) -> None:
    grace = parse_duration(objects["ConfigMap"]["data"]["STEPLINE_SHUTDOWN_GRACE"])
    pre_stop = _server(objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    # REST drain, then gRPC drain: each may take the whole grace.
    needed = float(pre_stop[1]) + 2 * grace.total_seconds()
    assert _pod(objects, "Deployment")["terminationGracePeriodSeconds"] > needed


def test_scaling__hpa_and_pdb_keep_two_servers(objects: dict[str, Any]) -> None:
    deployment = objects["Deployment"]
    hpa, pdb = objects["HorizontalPodAutoscaler"]["spec"], objects["PodDisruptionBudget"]["spec"]
    assert deployment["spec"]["replicas"] >= 2 and hpa["minReplicas"] >= 2
    assert hpa["scaleTargetRef"] == {
        "apiVersion": deployment["apiVersion"],
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert _server(objects)["resources"]["requests"]["cpu"], "CPU utilisation needs a request"
    assert pdb["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert 0 < pdb["minAvailable"] < hpa["minReplicas"]
