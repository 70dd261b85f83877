"""The server's JSON log lines name the caller's trace and the run, tracing on or off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from tests.telemetry.servers import traced_server

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
JSON_DEBUG = ("--log-format", "json", "--log-level", "DEBUG")


def _lines(log: Path, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return [line for line in lines if line.get("message") == message]


@pytest.mark.slow
def test_with_tracing_off_json_lines_carry_the_callers_trace(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'logs.db'}"
    with (
        traced_server(database, tmp_path, {}, *JSON_DEBUG) as server,
        grpc.insecure_channel(server.grpc) as channel,
    ):
        stub = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        request = wf.StartWorkflowRequest(workflow_name="logged")
        run = stub.StartWorkflow(request, metadata=[("traceparent", CALLER)]).run
        stub.GetWorkflowRun(wf.GetWorkflowRunRequest(run_id=run.run_id))

    started = _lines(server.log, "StartWorkflow handled")
    assert [(s["run_id"], s["trace_id"], s["span_id"]) for s in started] == [
        (run.run_id, CALLER_TRACE, CALLER_SPAN)
    ]
    assert run.context["trace"]["traceparent"] == CALLER  # stored as it came
    read = _lines(server.log, "GetWorkflowRun handled")
    assert len(read) == 1 and read[0]["run_id"] == run.run_id
    assert "trace_id" not in read[0]  # that call carried no trace context


@pytest.mark.slow
def test_text_lines_at_debug_name_the_run_of_each_call(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'text.db'}"
    with (
        traced_server(database, tmp_path, {}, "--log-level", "DEBUG") as server,
        grpc.insecure_channel(server.grpc) as channel,
    ):
        stub = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        run = stub.StartWorkflow(wf.StartWorkflowRequest(workflow_name="texted")).run

    handled = [line for line in server.log.read_text().splitlines() if "handled" in line]
    assert len(handled) == 1
    assert handled[0].endswith(f"StartWorkflow handled run_id={run.run_id}")


@pytest.mark.slow
def test_worker_calls_name_the_run_of_their_lease(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'worker.db'}"
    with (
        traced_server(database, tmp_path, {}, *JSON_DEBUG) as server,
        grpc.insecure_channel(server.grpc) as channel,
    ):
        client = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        worker = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        run = client.StartWorkflow(wf.StartWorkflowRequest(workflow_name="leased")).run
        poll = wk.PollActivityRequest(wait=duration_pb2.Duration(seconds=5))
        (task,) = worker.PollActivity(poll).tasks
        # Neither request nor reply names the run outside the lease.
        worker.RecordHeartbeat(wk.RecordHeartbeatRequest(lease=task.lease))
        worker.CompleteStep(wk.CompleteStepRequest(lease=task.lease, step_id="s"))

    for call in ("RecordHeartbeat", "CompleteStep"):
        handled = _lines(server.log, f"{call} handled")
        assert [line["run_id"] for line in handled] == [run.run_id], call
