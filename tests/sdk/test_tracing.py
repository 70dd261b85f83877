"""The SDK's spans, exported over OTLP/HTTP by real worker and client processes to a
real receiver on loopback (the global tracer provider can be set once per process, and
this one keeps tracing off): a run span per execution continuing the trace stored in the
run's context, step spans under it, client spans under the caller's span."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from stepline import Client, RunStatus, tracing
from stepline._spans import client_interceptors
from tests.sdk.conftest import eventually
from tests.support.otlp import OtlpReceiver, Span

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("sdk_api", ["sqlite"], indirect=True)]
ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
ERROR = 2


@dataclass
class Child:
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records it wrote so far."""
        return [json.loads(line) for line in self.stderr if line.startswith("{")]


async def _collect(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode().rstrip())


@contextlib.asynccontextmanager
async def traced_app(receiver: OtlpReceiver, service: str, *args: str) -> AsyncIterator[Child]:
    """`python -m tests.sdk.traced_app ARGS…` exporting to `receiver`; SIGTERM at the end."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.sdk.traced_app", *args),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), **receiver.environ(service)},
    )
    assert process.stderr is not None
    child = Child(process)
    reader = asyncio.create_task(_collect(process.stderr, child.stderr))
    try:
        yield child
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
        await reader


async def spans_when(receiver: OtlpReceiver, found: Callable[[list[Span]], bool]) -> list[Span]:
    # In a thread: the test's event loop also runs the server the processes call.
    return await asyncio.to_thread(receiver.wait_for, found)


def named(spans: list[Span], name: str) -> list[Span]:
    return [span for span in spans if span.name == name]


def has(*names: str) -> Callable[[list[Span]], bool]:
    return lambda spans: all(named(spans, name) for name in names)


def one(spans: list[Span], name: str) -> Span:
    [span] = named(spans, name)
    return span


def rpc(spans: list[Span], method: str) -> list[Span]:
    return [span for span in spans if span.name.endswith(f"/{method}")]


@dataclass(frozen=True)
class Started:
    run_id: str
    parent_span_id: str
    """The span in the traceparent the server stored in the run's context."""


async def start_traced(address: str, ns: str, workflow: str, payload: Any) -> Started:
    """Start a run as a caller in trace TRACE_ID would: with its traceparent."""
    async with Client(address, namespace=ns, metadata=[("traceparent", TRACEPARENT)]) as client:
        run = await client.start(workflow, payload)
    _version, trace_id, span_id, _flags = run.context["trace"]["traceparent"].split("-")
    assert trace_id == TRACE_ID
    return Started(run.run_id, span_id)


async def test_worker__run_span_continues_the_stored_trace_and_steps_nest_under_it(
    receiver: OtlpReceiver, address: str, ns: str
) -> None:
    started = await start_traced(address, ns, "traced.steps", "x")
    run_id = started.run_id
    async with traced_app(receiver, "worker", "worker", address, ns) as worker:
        spans = await spans_when(receiver, has("run traced.steps"))
    run = one(spans, "run traced.steps")
    assert (run.trace_id, run.parent_span_id, run.kind) == (
        TRACE_ID,
        started.parent_span_id,
        "consumer",
    )
    assert run.attributes == {
        tracing.NAMESPACE_ID: ns,
        tracing.RUN_ID: run_id,
        tracing.WORKFLOW_NAME: "traced.steps",
        tracing.ATTEMPT: 1,
        "stepline.end_reason": "completed",
    }
    assert run.status_code == 0
    for step_id in ("a", "b"):
        step = one(spans, f"step {step_id}")
        assert (step.trace_id, step.parent_span_id) == (TRACE_ID, run.span_id)
        assert step.attributes == {
            tracing.RUN_ID: run_id,
            tracing.STEP_ID: step_id,
            tracing.ATTEMPT: 1,
        }
        [completed] = [s for s in rpc(spans, "CompleteStep") if s.parent_span_id == step.span_id]
        assert completed.kind == "client" and completed.attributes["rpc.system"] == "grpc"
        assert completed.attributes["rpc.service"] == "stepline.v1.WorkerService"
        assert completed.attributes["rpc.method"] == "CompleteStep"
        assert completed.attributes["rpc.grpc.status_code"] == 0
    # The sync step ran on a thread of its own, under its step's span.
    user = one(spans, "user work")
    assert user.parent_span_id == one(spans, "step a").span_id
    [completed_run] = rpc(spans, "CompleteWorkflow")
    assert completed_run.parent_span_id == run.span_id
    assert not rpc(spans, "PollActivity"), "long polls must not make spans"
    assert all(span.trace_id == TRACE_ID for span in spans)

    [line] = [r for r in worker.records() if r["message"] == "working on x"]
    assert (line["trace_id"], line["span_id"], line["run_id"]) == (TRACE_ID, user.span_id, run_id)


async def test_worker__a_failing_step_marks_its_span_and_the_run_span_failed(
    receiver: OtlpReceiver, address: str, ns: str
) -> None:
    run_id = (await start_traced(address, ns, "traced.fails", None)).run_id
    async with traced_app(receiver, "worker", "worker", address, ns):
        spans = await spans_when(receiver, has("run traced.fails"))
    run, step = one(spans, "run traced.fails"), one(spans, "step explode")
    assert run.status_code == ERROR and run.attributes["stepline.end_reason"] == "step failed"
    assert step.status_code == ERROR and step.parent_span_id == run.span_id
    [fail_step] = rpc(spans, "FailStep")
    assert fail_step.parent_span_id == step.span_id
    async with Client(address, namespace=ns) as client:
        assert (await client.get(run_id)).status is RunStatus.FAILED


async def test_worker__a_replay_continues_its_callers_trace_and_links_to_the_originals(
    receiver: OtlpReceiver, address: str, ns: str
) -> None:
    started = await start_traced(address, ns, "traced.fails", None)
    replayer_trace = "5bf92f3577b34da6a3ce929d0e0e4736"
    replayer = f"00-{replayer_trace}-{CALLER_SPAN}-01"
    client = Client(address, namespace=ns, metadata=[("traceparent", replayer)])
    async with client, traced_app(receiver, "worker", "worker", address, ns):
        await spans_when(receiver, has("run traced.fails"))
        replay = await client.replay(started.run_id, from_step="explode")
        spans = await spans_when(receiver, lambda s: len(named(s, "run traced.fails")) == 2)
    first, second = sorted(named(spans, "run traced.fails"), key=lambda s: s.trace_id)
    assert (first.trace_id, first.links) == (TRACE_ID, ())
    assert second.trace_id == replayer_trace
    assert second.attributes[tracing.RUN_ID] == replay.run_id
    assert second.links == ((TRACE_ID, started.parent_span_id),)


async def test_worker__a_failing_workflow_marks_the_run_span_failed(
    receiver: OtlpReceiver, address: str, ns: str
) -> None:
    await start_traced(address, ns, "traced.raises", None)
    async with traced_app(receiver, "worker", "worker", address, ns):
        spans = await spans_when(receiver, has("run traced.raises"))
    run = one(spans, "run traced.raises")
    assert run.status_code == ERROR and run.attributes["stepline.end_reason"] == "failed"
    [fail] = rpc(spans, "FailWorkflow")
    assert fail.parent_span_id == run.span_id


async def test_worker__a_canceled_run_ends_its_spans_without_error(
    receiver: OtlpReceiver, client: Client, address: str, ns: str
) -> None:
    run_id = (await start_traced(address, ns, "traced.waits", 60)).run_id
    async with traced_app(receiver, "worker", "worker", address, ns):
        # BeginStep marks the step RUNNING after half a second of it.
        await eventually(lambda: _step_running(client, run_id))
        await client.cancel(run_id)
        spans = await spans_when(receiver, has("run traced.waits"))
    run, step = one(spans, "run traced.waits"), one(spans, "step wait")
    assert run.attributes["stepline.end_reason"] == "canceled"
    assert run.status_code == 0 and step.status_code == 0
    assert step.parent_span_id == run.span_id


async def test_worker__a_run_released_at_shutdown_is_released_in_its_trace(
    receiver: OtlpReceiver, client: Client, address: str, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACED_APP_GRACE", "0.2")
    run_id = (await start_traced(address, ns, "traced.waits", 60)).run_id
    async with traced_app(receiver, "worker", "worker", address, ns) as worker:
        await eventually(lambda: _step_running(client, run_id))
        worker.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.process.wait(), 30) == 0
    spans = await spans_when(receiver, has("run traced.waits"))
    run = one(spans, "run traced.waits")
    assert run.attributes["stepline.end_reason"] == "shutdown" and run.status_code == 0
    [release] = rpc(spans, "ReleaseRun")
    assert (release.trace_id, release.parent_span_id) == (TRACE_ID, run.span_id)
    assert (await client.get(run_id)).status is RunStatus.PENDING


async def _step_running(client: Client, run_id: str) -> bool:
    return [step.status for step in await client.steps(run_id)] == ["RUNNING"]


async def test_worker__a_malformed_stored_traceparent_starts_a_new_trace(
    receiver: OtlpReceiver, client: Client, address: str, ns: str
) -> None:
    garbage = {"traceparent": "00-not-a-trace-01"}
    run = await client.start("traced.steps", "y", context={"trace": garbage, "mine": 1})
    assert run.context == {"trace": garbage, "mine": 1}
    async with traced_app(receiver, "worker", "worker", address, ns) as worker:
        spans = await spans_when(receiver, has("run traced.steps"))
    span = one(spans, "run traced.steps")
    assert span.parent_span_id == "" and len(span.trace_id) == 32 and span.trace_id != "0" * 32
    assert span.status_code == 0 and span.attributes["stepline.end_reason"] == "completed"
    assert one(spans, "step b").trace_id == span.trace_id
    assert (await client.get(run.run_id)).status is RunStatus.COMPLETED
    assert not [r for r in worker.records() if r["level"] in ("ERROR", "CRITICAL")]


async def test_worker__a_run_resumed_by_another_process_after_a_sleep_joins_the_same_trace(
    receiver: OtlpReceiver, address: str, ns: str
) -> None:
    started = await start_traced(address, ns, "traced.sleeps", 0.5)
    # The first worker leaves after one execution: the one that parks the run.
    async with traced_app(receiver, "worker-a", "worker", address, ns, "1") as first:
        assert await asyncio.wait_for(first.process.wait(), 60) == 0
    async with traced_app(receiver, "worker-b", "worker", address, ns):
        spans = await spans_when(receiver, lambda s: len(named(s, "run traced.sleeps")) == 2)

    parked, resumed = sorted(named(spans, "run traced.sleeps"), key=lambda s: s.service)
    assert (parked.service, resumed.service) == ("worker-a", "worker-b")
    for run in (parked, resumed):
        assert (run.trace_id, run.parent_span_id) == (TRACE_ID, started.parent_span_id)
        assert run.attributes[tracing.RUN_ID] == started.run_id and run.status_code == 0
    assert parked.attributes["stepline.end_reason"] == "sleeping"
    assert resumed.attributes["stepline.end_reason"] == "completed"
    nap = one(spans, "sleep nap")
    assert nap.parent_span_id == parked.span_id and "stepline.wake_up_at" in nap.attributes
    # A step completed before the sleep is replayed, not run again: no second span.
    assert one(spans, "step before").parent_span_id == parked.span_id
    assert one(spans, "step after").parent_span_id == resumed.span_id


async def test_client__async_and_sync_calls_make_client_spans_under_the_callers_span(
    receiver: OtlpReceiver, client: Client, address: str, ns: str
) -> None:
    async with traced_app(receiver, "client", "client", address, ns) as caller:
        assert caller.process.stdout is not None
        out = await caller.process.stdout.read()
        assert await caller.process.wait() == 0, caller.stderr
    ids = json.loads(out)
    spans = await spans_when(receiver, has("caller"))

    [start] = rpc(spans, "StartWorkflow")
    [get] = rpc(spans, "GetWorkflowRun")  # made by the SyncClient, on its own loop
    for call, method in ((start, "StartWorkflow"), (get, "GetWorkflowRun")):
        assert (call.trace_id, call.parent_span_id) == (ids["trace_id"], ids["span_id"])
        assert call.kind == "client"
        assert call.attributes["rpc.service"] == "stepline.v1.WorkflowService"
        assert call.attributes["rpc.method"] == method
    # The traceparent travelled in the metadata: the run continues the client's span.
    run = await client.get(ids["run_id"])
    traceparent = run.context["trace"]["traceparent"]
    assert traceparent.startswith(f"00-{ids['trace_id']}-{start.span_id}-")  # then the flags


async def test_tracing_off__channels_carry_no_interceptor(client: Client) -> None:
    """With no tracer provider, no interceptor injects the current span's context."""
    assert not tracing.active()
    assert client_interceptors() is None
    caller = SpanContext(
        int(TRACE_ID, 16), int(CALLER_SPAN, 16), is_remote=False, trace_flags=TraceFlags(1)
    )
    with trace.use_span(NonRecordingSpan(caller)):
        run = await client.start("traced.steps", "z")
    assert "trace" not in run.context
