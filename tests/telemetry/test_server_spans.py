"""The server's spans, exported over OTLP/HTTP to a real receiver: REST -> gRPC -> store.

A real `stepline-server serve` with tracing on (OTEL_* variables only), real HTTP and
gRPC calls, and a real OTLP receiver on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import duration_pb2

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from tests.support.otlp import OtlpReceiver, Span
from tests.telemetry.servers import Served, traced_server

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
CALLER = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
START = "/stepline.v1.WorkflowService/StartWorkflow"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stepline.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def server(database: str, receiver: OtlpReceiver, tmp_path: Path) -> Iterator[Served]:
    otel = receiver.environ("stepline-server")
    flags = ("--log-format", "json", "--log-level", "DEBUG")
    with traced_server(database, tmp_path, otel, *flags) as served:
        yield served


def _start_over_rest(server: Served, headers: dict[str, str], queue: str) -> dict[str, object]:
    body = {"workflowName": "spans", "taskQueue": queue, "context": {"tenant": "acme"}}
    reply = httpx.post(f"{server.rest}/v1/namespaces/default/runs", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    run: dict[str, object] = reply.json()["run"]
    return run


def _logged(log: Path, message: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The JSON log lines with `message`, once some are written (the span may be exported
    before the server's log handler has flushed the line)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        found = [line for line in lines if line.get("message") == message]
        if found or time.monotonic() > deadline:
            assert found, lines
            return found
        time.sleep(0.05)


def _by_name(spans: list[Span], name: str) -> Span:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _has(name: str) -> Callable[[list[Span]], bool]:
    return lambda spans: any(s.name == name and s.kind == "server" for s in spans)


@pytest.mark.slow
def test_rest_request_parents_the_grpc_call_and_its_store_operation(
    server: Served, receiver: OtlpReceiver, database: str
) -> None:
    run = _start_over_rest(server, {"traceparent": CALLER}, "rest-chain")

    # The REST span ends last (after the gRPC reply), and the batch exporter may send it
    # in a later batch than the spans under it: wait for the whole chain.
    route = "POST /v1/namespaces/{namespace_id}/runs"
    spans = receiver.wait_for(lambda got: _has(START)(got) and any(s.name == route for s in got))
    rest = _by_name(spans, route)
    upstream = next(s for s in spans if s.name == START and s.kind == "client")
    handler = next(s for s in spans if s.name == START and s.kind == "server")
    store = next(s for s in spans if s.attributes.get("db.operation.name") == "run_create")
    assert {s.trace_id for s in (rest, upstream, handler, store)} == {CALLER_TRACE}
    assert rest.parent_span_id == CALLER_SPAN
    assert upstream.parent_span_id == rest.span_id
    assert handler.parent_span_id == upstream.span_id
    assert store.parent_span_id == handler.span_id
    assert rest.attributes["http.route"] == "/v1/namespaces/{namespace_id}/runs"
    assert handler.attributes["rpc.system"] == "grpc"
    assert handler.attributes["rpc.service"] == "stepline.v1.WorkflowService"
    assert handler.attributes["rpc.method"] == "StartWorkflow"
    assert handler.attributes["stepline.run_id"] == run["runId"]
    assert handler.attributes["stepline.workflow_name"] == "spans"
    assert handler.attributes["stepline.namespace_id"] == "default"
    assert handler.attributes["stepline.attempt"] == 1
    system = "sqlite" if database.startswith("sqlite") else "postgresql"
    assert store.name == f"run_create {system}"
    assert store.attributes["db.system"] == system
    statements = [s for s in spans if s.parent_span_id == store.span_id]
    if system == "postgresql":  # psycopg's instrumentation: a span per statement, under it
        assert statements
        assert all(
            "INSERT INTO stepline_workflow_runs" in s.attributes["db.statement"] for s in statements
        )
    else:
        assert statements == []  # SQLite's operation is the whole story
    # The run continues the trace from the StartWorkflow span; the caller's keys stay.
    context = run["context"]
    assert context == {
        "tenant": "acme",
        "trace": {"traceparent": f"00-{CALLER_TRACE}-{handler.span_id}-01"},
    }


@pytest.mark.slow
def test_a_malformed_traceparent_starts_a_new_trace(server: Served, receiver: OtlpReceiver) -> None:
    run = _start_over_rest(server, {"traceparent": "00-not-a-trace-01"}, "malformed")

    spans = receiver.wait_for(_has(START))
    handler = next(s for s in spans if s.name == START and s.kind == "server")
    assert handler.trace_id != CALLER_TRACE
    stored = run["context"]["trace"]["traceparent"]  # type: ignore[index]
    assert stored.split("-")[1:3] == [handler.trace_id, handler.span_id]


@pytest.mark.slow
def test_long_polls_probes_and_scrapes_make_no_spans(
    server: Served, receiver: OtlpReceiver
) -> None:
    with grpc.insecure_channel(server.grpc) as channel:
        poll = wk.PollActivityRequest(task_queue="idle", wait=duration_pb2.Duration(nanos=10**8))
        stub = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        assert not stub.PollActivity(poll).tasks
    assert httpx.get(f"{server.rest}/readyz").status_code == 200
    assert httpx.get(f"{server.rest}/metrics").status_code == 200  # reads the queue depths
    _start_over_rest(server, {}, "after-poll")  # a traced call, to know the export ran

    spans = receiver.wait_for(_has(START))
    assert not [s for s in spans if s.attributes.get("rpc.method") == "PollActivity"]
    assert not [s for s in spans if "readyz" in s.name or "metrics" in s.name]
    # Every span belongs to the one traced call: the poll's claim query made none.
    assert len({s.trace_id for s in spans}) == 1


@pytest.mark.slow
def test_json_log_lines_carry_the_trace_and_the_run(server: Served, receiver: OtlpReceiver) -> None:
    run = _start_over_rest(server, {}, "logged")
    get = "/stepline.v1.WorkflowService/GetWorkflowRun"
    with grpc.insecure_channel(server.grpc) as channel:
        request = wf.GetWorkflowRunRequest(run_id=str(run["runId"]))
        wf_grpc.WorkflowServiceStub(channel).GetWorkflowRun(  # type: ignore[no-untyped-call]
            request, metadata=[("traceparent", CALLER)]
        )

    spans = receiver.wait_for(_has(get))
    handler = next(s for s in spans if s.name == get and s.kind == "server")
    handled = _logged(server.log, "GetWorkflowRun handled")
    assert handled[0]["run_id"] == run["runId"]
    assert handled[0]["trace_id"] == CALLER_TRACE
    assert handled[0]["span_id"] == handler.span_id
