"""`stepline workflows list|get|pause|resume` and `stepline workers list` against a live
server, with a worker registered through the real RegisterWorker call."""

from __future__ import annotations

import secrets

import grpc
import pytest

from stepline.v1 import registry_pb2 as rg
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from tests.cli.runner import Cli
from tests.support import namespaces


@pytest.fixture
def ns(address: str) -> str:
    name = f"cli-{secrets.token_hex(4)}"
    namespaces.create_through(address, name)
    return name


def _register(address: str, ns: str, *workflows: rg.WorkflowDefinition) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        stub.RegisterWorker(
            rg.RegisterWorkerRequest(
                namespace_id=ns,
                worker_id="cli-worker",
                task_queue="orders",
                workflows=workflows
                or [
                    rg.WorkflowDefinition(
                        workflow_name="fulfil",
                        version="7",
                        max_concurrency=5,
                        max_concurrency_per_key=1,
                    )
                ],
            )
        )


def test_workflows__list_get_pause_resume_and_workers_list(cli: Cli, ns: str) -> None:
    _register(cli.address, ns)
    scope = ("--namespace", ns)
    listed = cli.ok(*scope, "workflows", "list").out
    assert "fulfil" in listed and "7" in listed and "active" in listed
    paused = cli.ok(*scope, "--output", "json", "workflows", "pause", "fulfil", "--reason", "oops")
    assert paused.json()["paused"] is True and paused.json()["pausedReason"] == "oops"
    shown = cli.ok(*scope, "workflows", "get", "fulfil").out
    assert "paused" in shown and "oops" in shown
    assert "concurrency limits: 5 running, 1 per key" in shown
    resumed = cli.ok(*scope, "--output", "json", "workflows", "resume", "fulfil").json()
    assert resumed.get("paused", False) is False
    workers = cli.ok(*scope, "workers", "list").out
    assert "cli-worker" in workers and "fulfil@7" in workers and "online" in workers


def test_workflows__an_unknown_workflow_is_one_line(cli: Cli, ns: str) -> None:
    result = cli("--namespace", ns, "workflows", "get", "nope")
    assert result.code == 1
    assert result.err == "stepline: workflow not found: nope (no worker registered it)\n"


def test_runs_start__warns_about_a_workflow_no_worker_registered(cli: Cli, ns: str) -> None:
    result = cli.ok("--namespace", ns, "--output", "json", "runs", "start", "ghost")
    assert result.json()["workflowName"] == "ghost"
    assert "warning: no worker ever registered workflow 'ghost'" in result.err


def test_workflows_get__shows_each_versions_poison_policy(cli: Cli, ns: str) -> None:
    _register(
        cli.address,
        ns,
        rg.WorkflowDefinition(
            workflow_name="ledger", version="2", max_crashes=2, on_poison=rg.POISON_ACTION_PAUSE
        ),
    )
    shown = cli.ok("--namespace", ns, "workflows", "get", "ledger").out
    assert "POISON RUNS" in shown and "pause after 2 crashes" in shown
