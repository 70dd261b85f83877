"""Tracing is configured by the standard OTEL_* variables only, and off costs nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.tracing import traced_app, upstream_interceptors
from services.telemetry import RunAttributes, instrument_store, server_interceptors
from stepline import tracing
from storage import create_store
from tests.cli.processes import BIN, environment
from tests.support.otlp import OtlpGrpcReceiver
from tests.telemetry.servers import traced_server

START = "/stepline.v1.WorkflowService/StartWorkflow"


def test_with_no_otel_variables_nothing_is_installed(tmp_path: Path) -> None:
    assert not tracing.active(), "this test process must not trace"
    assert server_interceptors(log_run_ids=False) == []
    assert [type(i) for i in server_interceptors(log_run_ids=True)] == [RunAttributes]
    store = create_store(f"sqlite:///{tmp_path / 'off.db'}")
    assert instrument_store(store) is store
    app = Starlette()
    assert traced_app(app) is app
    assert upstream_interceptors() == []


@pytest.mark.parametrize(
    ("environ", "exporters"),
    [
        ({}, []),
        ({"OTEL_SERVICE_NAME": "svc", "OTEL_TRACES_SAMPLER": "always_on"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, []),
    ],
)
def test_the_variables_that_turn_tracing_on(environ: dict[str, str], exporters: list[str]) -> None:
    assert tracing.requested_exporters(environ) == exporters


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER=zipkin is not supported"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTLP protocol 'http/json' is not supported",
        ),
    ],
)
def test_an_unsupported_setting_stops_the_server_with_a_clear_error(
    environ: dict[str, str], message: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [BIN / "stepline-server", "serve", "--grpc-address", "127.0.0.1:0"],
        cwd=tmp_path,
        env=environment(STEPLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert not (tmp_path / "x.db").exists()  # it stopped before touching the database


@pytest.mark.slow
def test_spans_export_over_otlp_grpc_too(tmp_path: Path) -> None:
    receiver = OtlpGrpcReceiver().start()
    try:
        otel = receiver.environ("grpc-exported")
        with traced_server(f"sqlite:///{tmp_path / 'g.db'}", tmp_path, otel) as server:
            body = {"workflowName": "exported"}
            reply = httpx.post(f"{server.rest}/v1/namespaces/default/runs", json=body)
            assert reply.status_code == 200
            spans = receiver.wait_for(lambda spans: any(s.name == START for s in spans))
    finally:
        receiver.close()
    assert {s.service for s in spans} == {"grpc-exported"}
