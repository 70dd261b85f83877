"""`stepline runs signal`, `stepline events send|get|list|runs`, and `runs get` showing a
run's parent and children, against a live server."""

from __future__ import annotations

import secrets

import grpc
from google.protobuf import duration_pb2

from stepline.v1 import waits_pb2
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from tests.cli.runner import Cli


def fresh_queue() -> str:
    return f"cli-{secrets.token_hex(4)}"


def _park_on_child(address: str, queue: str) -> str:
    """Claim the queue's run and register a CHILD wait; the child's run ID."""
    with grpc.insecure_channel(address) as channel:
        worker = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        polled = worker.PollActivity(
            wk.PollActivityRequest(task_queue=queue, wait=duration_pb2.Duration(seconds=5))
        )
        (task,) = polled.tasks
        wait = wk.Wait(step_id="kid", child=waits_pb2.ChildWait(workflow_name="kid"))
        parked = worker.RegisterWaits(wk.RegisterWaitsRequest(lease=task.lease, waits=[wait]))
        child: str = parked.step_attempts[0].child_workflow_run_id
        return child


def test_runs_signal__keeps_a_signal_for_a_run_that_is_not_waiting(cli: Cli) -> None:
    run = cli.start("approval", "--task-queue", fresh_queue())
    result = cli.ok("runs", "signal", run["runId"], "approved", "--payload", '{"by": "ann"}')
    assert result.out == f"sent signal approved to run {run['runId']}: kept in the run's inbox\n"
    sent = cli.ok("--output", "json", "runs", "signal", run["runId"], "approved").json()
    assert (sent["signalName"], sent["payload"], sent["consumed"]) == ("approved", None, False)


def test_runs_signal__a_run_that_ended_takes_no_signal(cli: Cli) -> None:
    run = cli.start("approval", "--task-queue", fresh_queue())
    cli.ok("runs", "cancel", run["runId"])
    result = cli("runs", "signal", run["runId"], "approved")
    assert result.code == 1
    assert (
        result.err == f"stepline: run {run['runId']} has already ended; it takes no more signals\n"
    )


def test_events__send_get_list_and_runs(cli: Cli) -> None:
    name = f"cli.{secrets.token_hex(4)}"
    sent = cli.ok(
        "--output", "json", "events", "send", name, "--data", '{"order_id": "o-1"}'
    ).json()
    event_id = sent["event"]["eventId"]
    assert sent["event"]["data"] == {"order_id": "o-1"} and sent["resumedRunIds"] == []
    got = cli.ok("--output", "json", "events", "get", event_id).json()
    assert got == sent["event"]
    listed = cli.ok("--output", "json", "events", "list", "--name", name).json()
    assert [e["eventId"] for e in listed] == [event_id]
    assert event_id in cli.ok("events", "list", "--name", name).out
    runs = cli.ok("--output", "json", "events", "runs", event_id).json()
    assert runs["workflowRuns"] == [] and runs["resumedRunIds"] == []
    missing = cli("events", "get", "0190a000-0000-7000-8000-000000000000")
    assert missing.code == 1 and "event not found" in missing.err


def test_runs_get__shows_the_parent_and_the_children(cli: Cli) -> None:
    queue = fresh_queue()
    parent = cli.start("parent", "--task-queue", queue)
    child_id = _park_on_child(cli.address, queue)
    shown = cli.ok("runs", "get", parent["runId"]).out
    assert "WAITING" in shown and child_id in shown
    child = cli.ok("runs", "get", child_id).out
    assert parent["runId"] in child
