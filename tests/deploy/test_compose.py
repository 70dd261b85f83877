"""deploy/compose.yaml against the Compose Specification's JSON schema (the copy that
check-jsonschema ships), and the wiring a schema cannot see."""

from __future__ import annotations

import importlib
import json
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from stepline import Workflow
from tests.deploy.files import DEPLOY, cli_variables, load_yaml, port_of, server_variables

SERVERS = ("stepline-a", "stepline-b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(DEPLOY / "compose.yaml")
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def _compose_schema() -> Any:
    vendored = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in service.get("environment", {}).items()}


def test_compose__matches_the_compose_specification(compose: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(_compose_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_compose__schema_check_can_fail(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["stepline-a"]["helthcheck"] = broken["services"]["stepline-a"]["healthcheck"]
    assert not jsonschema.Draft202012Validator(_compose_schema()).is_valid(broken)


def test_compose__servers_and_migration_share_one_postgres_database(
    services: dict[str, Any],
) -> None:
    urls = {_env(services[name])["STEPLINE_DATABASE_URL"] for name in (*SERVERS, "migrate")}
    assert len(urls) == 1
    url = urlsplit(urls.pop())
    postgres = _env(services["postgres"])
    assert url.scheme == "postgresql" and url.hostname == "postgres"
    assert (url.username, url.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    assert url.path == f"/{postgres['POSTGRES_DB']}"
    assert services["postgres"]["image"].startswith("postgres:15")


def test_compose__servers_wait_for_the_migration(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["stepline-server", "migrate"]
    for name in SERVERS:
        assert services[name]["command"] == ["stepline-server", "serve"]
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_compose__stepline_services_set_only_known_variables(services: dict[str, Any]) -> None:
    known = {"worker": cli_variables()}
    for name in (*SERVERS, "migrate", "worker"):
        env = _env(services[name])
        stepline_names = {key for key in env if key.startswith("STEPLINE_")}
        assert stepline_names <= known.get(name, server_variables()), name
        assert set(env) - stepline_names == {n for n in env if n.startswith("OTEL_")}, name


def test_compose__published_ports_and_healthcheck_match_the_addresses(
    services: dict[str, Any],
) -> None:
    for name in SERVERS:
        env = _env(services[name])
        grpc, http = port_of(env["STEPLINE_GRPC_ADDRESS"]), port_of(env["STEPLINE_HTTP_ADDRESS"])
        container_ports = {int(mapping.rsplit(":", 1)[1]) for mapping in services[name]["ports"]}
        assert container_ports == {grpc, http}, name
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{http}/readyz" in probe, name


def test_compose__worker_runs_the_example_against_a_server(services: dict[str, Any]) -> None:
    worker = services["worker"]
    command = worker["command"]
    assert command[:2] == ["stepline", "worker"]
    module, attr = command[command.index("--app") + 1].split(":")
    workflows = getattr(importlib.import_module(module), attr)
    assert workflows and all(isinstance(flow, Workflow) for flow in workflows)
    host, _, port = _env(worker)["STEPLINE_ADDRESS"].partition(":")
    assert host in SERVERS and host in worker["depends_on"]
    assert int(port) == port_of(_env(services[host])["STEPLINE_GRPC_ADDRESS"])


def test_compose__traces_flow_to_the_collector_and_on_to_jaeger(services: dict[str, Any]) -> None:
    collector = load_yaml(DEPLOY / "otel-collector.yaml")
    protocols = collector["receivers"]["otlp"]["protocols"]
    http_port = port_of(protocols["http"]["endpoint"])
    assert "grpc" in protocols
    for name in (*SERVERS, "worker"):
        endpoint = urlsplit(_env(services[name])["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == ("otel-collector", http_port), name
        assert _env(services[name])["OTEL_SERVICE_NAME"], name
    pipeline = collector["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    exporters = [collector["exporters"][exporter] for exporter in pipeline["exporters"]]
    assert [urlsplit(f"//{e['endpoint']}").hostname for e in exporters] == ["jaeger"]
    assert "16686:16686" in services["jaeger"]["ports"]


def test_compose__prometheus_scrapes_both_servers(services: dict[str, Any]) -> None:
    config = load_yaml(DEPLOY / "prometheus.yaml")
    (job,) = config["scrape_configs"]
    targets = {target for group in job["static_configs"] for target in group["targets"]}
    expected = {
        f"{name}:{port_of(_env(services[name])['STEPLINE_HTTP_ADDRESS'])}" for name in SERVERS
    }
    assert job["metrics_path"] == "/metrics" and targets == expected


def test_compose__images_are_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"
