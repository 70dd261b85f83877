"""The first key needs no running server (`stepline-server keys create` writes it to the
database), and a key never shows up where it could leak: in the server's log lines (JSON,
DEBUG), its spans, its error messages or its metrics, whether it was accepted, refused
or revoked, over gRPC or REST."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import admin_service_pb2_grpc as ad_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from tests.cli.processes import BIN, environment
from tests.support.otlp import OtlpReceiver
from tests.telemetry.servers import traced_server

JSON_DEBUG = ("--log-format", "json", "--log-level", "DEBUG")


def _create_key(database: str, namespace: str, role: str, name: str) -> str:
    done = subprocess.run(
        [
            *(BIN / "stepline-server", "keys", "create"),
            *("--namespace", namespace, "--role", role, "--name", name),
            *("--database-url", database),
        ],
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("stepline_") and "\n" not in secret
    assert secret not in done.stderr  # the description goes to stderr, the secret alone out
    return secret


def _refused(stub: wf_grpc.WorkflowServiceStub, secret: str) -> str:
    """The whole error a StartWorkflow with `secret` gets: code, message, details."""
    request = wf.StartWorkflowRequest(workflow_name="secretive")
    with pytest.raises(grpc.RpcError) as caught:
        stub.StartWorkflow(request, metadata=[("authorization", f"Bearer {secret}")])
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    return f"{error.code()} {error.details()} {error.trailing_metadata()}"


@pytest.mark.slow
def test_secrets__never_in_logs_spans_errors_or_metrics(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    database = f"sqlite:///{tmp_path / 'secrets.db'}"
    operator = _create_key(database, "*", "admin", "ops")
    client = _create_key(database, "default", "client", "app")
    wrong = client[:-6] + ("AAAAAA" if not client.endswith("AAAAAA") else "BBBBBB")
    otel = receiver.environ("stepline-server")
    flags = ("--auth", "required", "--metrics-auth", *JSON_DEBUG)
    seen: list[str] = []
    with (
        traced_server(database, tmp_path, otel, *flags) as server,
        grpc.insecure_channel(server.grpc) as channel,
        httpx.Client(base_url=server.rest, timeout=30) as http,
    ):
        workflows = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        admin = ad_grpc.AdminServiceStub(channel)  # type: ignore[no-untyped-call]
        start = wf.StartWorkflowRequest(workflow_name="secretive")
        run = workflows.StartWorkflow(start, metadata=[("authorization", f"Bearer {client}")])
        for secret in (wrong, "stepline_garbage", f"{client} trailing"):
            seen.append(_refused(workflows, secret))
        keys = admin.ListApiKeys(
            ad.ListApiKeysRequest(namespace_id="default"),
            metadata=[("authorization", f"Bearer {operator}")],
        )
        (key,) = keys.api_keys
        admin.RevokeApiKey(
            ad.RevokeApiKeyRequest(namespace_id="default", key_id=key.key_id),
            metadata=[("authorization", f"Bearer {operator}")],
        )
        for headers in (
            {"authorization": f"Bearer {client}"},
            {"authorization": f"Bearer {wrong}"},
        ):
            response = http.get(f"/v1/namespaces/default/runs/{run.run.run_id}", headers=headers)
            seen.append(response.text + str(response.headers))
        refused = http.get("/metrics", headers={"authorization": f"Bearer {wrong}"})
        assert refused.status_code == 401
        metrics = http.get("/metrics", headers={"authorization": f"Bearer {operator}"})
        assert metrics.status_code == 200, metrics.text
        seen.extend([refused.text, metrics.text])
        spans = receiver.wait_for(lambda s: any(x.name.endswith("StartWorkflow") for x in s))
    seen.append(server.log.read_text())
    seen.extend(repr(span) for span in spans)
    everything = "\n".join(seen)
    assert "secretive" in everything or run.run.run_id in everything  # the capture is real
    for secret in (operator, client, wrong):
        random_part = secret[-43:]  # the 256 random bits (they may hold "_" themselves)
        assert secret not in everything
        assert random_part not in everything
