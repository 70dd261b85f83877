"""The `stepline` command sets tracing up from the OTEL_* variables: a bad one is a usage
error; spans of `runs start` and of `stepline worker` reach the collector before the
processes exit, as one trace from the command to the run's steps."""

from __future__ import annotations

import pytest

from tests.cli import processes
from tests.cli.test_runs import fresh_queue
from tests.support.otlp import OtlpReceiver, Span

pytestmark = pytest.mark.slow
APP = "tests.cli.apps:workflows"


def _exporting_at_exit_only(receiver: OtlpReceiver) -> dict[str, str]:
    """The receiver's variables, without a service name (the command's default applies)
    and with a batch delay no test waits out: spans arrive only when the process flushes
    them on its way out."""
    env = receiver.environ("unused")
    del env["OTEL_SERVICE_NAME"]
    return {**env, "OTEL_BSP_SCHEDULE_DELAY": "600000"}


def _one(spans: list[Span], name: str) -> Span:
    [span] = [span for span in spans if span.name == name]
    return span


def test_unknown_exporter__is_a_usage_error_in_one_line() -> None:
    result = processes.run_cli("runs", "list", env={"OTEL_TRACES_EXPORTER": "zipkin"})
    assert result.returncode == 2, result
    assert result.stderr == (
        "stepline: OTEL_TRACES_EXPORTER=zipkin is not supported; use otlp, console or none\n"
    )


def test_runs_start_and_worker__one_trace_flushed_at_exit(
    receiver: OtlpReceiver, sqlite_address: str
) -> None:
    queue, env = fresh_queue(), _exporting_at_exit_only(receiver)
    with processes.worker(sqlite_address, APP, "--task-queue", queue, env=env) as worker:
        started = processes.run_cli(
            *("--address", sqlite_address, "--output", "json", "runs", "start", "cli.echo"),
            *("--task-queue", queue, "--input", '"hi"', "--wait"),
            env=env,
        )
        assert started.returncode == 0, started
        # The command has exited: its spans came with it, none yet from the worker.
        cli_spans = receiver.wait_for(lambda spans: bool(spans))
        assert {span.service for span in cli_spans} == {"stepline-cli"}
        assert processes.stop(worker) == 0
    spans = receiver.wait_for(lambda spans: any(s.name == "run cli.echo" for s in spans))

    command = _one(spans, "stepline runs start")
    assert command.parent_span_id == "" and command.service == "stepline-cli"
    start = _one(spans, "/stepline.v1.WorkflowService/StartWorkflow")
    assert start.parent_span_id == command.span_id and start.kind == "client"
    run = _one(spans, "run cli.echo")
    assert run.service == "stepline-worker"
    assert (run.trace_id, run.parent_span_id) == (command.trace_id, start.span_id)
    assert _one(spans, "step echo").parent_span_id == run.span_id
