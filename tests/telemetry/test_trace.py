"""One run, one trace: from the REST request to its last step, across worker processes.

Everything is real: `stepline-server serve` and two `stepline worker` processes export
over OTLP/HTTP to a receiver on loopback in this test. The example order workflow
charges, sleeps, fails `reserve-stock` on its first run attempt (so the run is retried)
and ships. Worker A runs it up to the sleep and is stopped; worker B resumes it after
the sleep, and runs the retry too: each execution is a run span of its own, all in the
trace that the REST request began.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli import processes
from tests.support.otlp import OtlpReceiver, Span
from tests.telemetry.servers import Served, traced_server

APP = "examples.order_fulfilment:workflows"
QUEUE = "traced"
REST_ROUTE = "POST /v1/namespaces/{namespace_id}/runs"
START = "/stepline.v1.WorkflowService/StartWorkflow"
UNSET, ERROR = 0, 2  # OTLP status codes
COOL_OFF_SECONDS = 3  # long enough to stop worker A before the run wakes up


@pytest.fixture
def server(receiver: OtlpReceiver, tmp_path: Path) -> Iterator[Served]:
    otel = receiver.environ("stepline-server")
    with traced_server(f"sqlite:///{tmp_path / 'trace.db'}", tmp_path, otel) as served:
        yield served


def _worker(server: Served, receiver: OtlpReceiver, name: str) -> Any:
    env = receiver.environ(name)
    return processes.worker(server.grpc, APP, "--task-queue", QUEUE, env=env)


def _run(server: Served, run_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{server.rest}/v1/namespaces/default/runs/{run_id}")
    assert reply.status_code == 200, reply.text
    run: dict[str, Any] = reply.json()["run"]
    return run


def _wait_for_status(server: Served, run_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = _run(server, run_id)
        if run["status"] == f"WORKFLOW_RUN_STATUS_{status}":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run never reached {status}: {_run(server, run_id)}")


def _run_spans(spans: list[Span], run_id: str) -> list[Span]:
    return [
        s for s in spans if s.kind == "consumer" and s.attributes.get("stepline.run_id") == run_id
    ]


@pytest.mark.slow
def test_a_run_is_one_trace_from_the_rest_request_to_its_last_step(
    server: Served, receiver: OtlpReceiver
) -> None:
    order = {"id": 42, "amount": 30, "cool_off_seconds": COOL_OFF_SECONDS}
    body = {"workflowName": "order.fulfil", "taskQueue": QUEUE, "input": order}
    with _worker(server, receiver, "worker-a"):
        reply = httpx.post(f"{server.rest}/v1/namespaces/default/runs", json=body)
        assert reply.status_code == 200, reply.text
        run_id = reply.json()["run"]["runId"]
        _wait_for_status(server, run_id, "SLEEPING")
    with _worker(server, receiver, "worker-b"):
        finished = _wait_for_status(server, run_id, "COMPLETED")
        spans = receiver.wait_for(lambda found: _shipped(found, run_id))

    rest = next(s for s in spans if s.name == REST_ROUTE)
    trace_id = rest.trace_id
    in_trace = [s for s in spans if s.trace_id == trace_id]
    upstream = next(s for s in in_trace if s.name == START and s.kind == "client")
    handler = next(s for s in in_trace if s.name == START and s.kind == "server")
    assert upstream.parent_span_id == rest.span_id
    assert handler.parent_span_id == upstream.span_id

    # The run's context holds the StartWorkflow span: the trace the workers continue.
    traceparent = finished["context"]["trace"]["traceparent"]
    assert traceparent.split("-")[1:3] == [trace_id, handler.span_id]

    executions = _run_spans(spans, run_id)
    assert {s.trace_id for s in executions} == {trace_id}
    assert {s.parent_span_id for s in executions} == {handler.span_id}
    attempts = sorted((s.service, s.attributes["stepline.attempt"]) for s in executions)
    # A ran attempt 1 up to the sleep; B resumed it after the sleep, then ran the retry.
    assert attempts == [("worker-a", 1), ("worker-b", 1), ("worker-b", 2)]

    steps = [s for s in in_trace if s.kind == "internal" and "stepline.step_id" in s.attributes]
    ran = {(s.service, s.attributes["stepline.step_id"], s.status_code) for s in steps}
    assert ("worker-a", "charge", UNSET) in ran
    assert ("worker-b", "reserve-stock", ERROR) in ran  # run attempt 1 fails here
    assert ("worker-b", "reserve-stock", UNSET) in ran  # and attempt 2 gets past it
    assert ("worker-b", "ship", UNSET) in ran
    # The retry replays the charge from history: it is not run, so it has no span.
    assert not [step for step in ran if step[:2] == ("worker-b", "charge")]
    execution_ids = {s.span_id for s in executions}
    assert all(s.parent_span_id in execution_ids for s in steps)


def _shipped(spans: list[Span], run_id: str) -> bool:
    return (
        any(
            s.attributes.get("stepline.step_id") == "ship" and s.service == "worker-b"
            for s in spans
        )
        and len([s for s in _run_spans(spans, run_id) if s.service == "worker-b"]) >= 2
    )
