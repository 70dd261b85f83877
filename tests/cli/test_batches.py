"""`stepline runs replay`, `runs batch-cancel` and `runs batch-replay` against a live server:
in-process for the outputs, as the real console script for the confirmation prompt and
for a replay a worker runs to its end."""

from __future__ import annotations

import io
import json
import re
import secrets

import pytest

from tests.cli import processes
from tests.cli.runner import Cli
from tests.support import namespaces

PENDING = "WORKFLOW_RUN_STATUS_PENDING"
CANCELED = "WORKFLOW_RUN_STATUS_CANCELED"
COMPLETED = "WORKFLOW_RUN_STATUS_COMPLETED"


@pytest.fixture
def ns(address: str) -> str:
    return namespaces.create_through(address, f"cli-{secrets.token_hex(4)}")


def start_runs(cli: Cli, ns: str, count: int, workflow: str = "report") -> list[str]:
    queue = f"{ns}-idle"  # no worker polls it
    return [
        cli.start("--namespace", ns, workflow, "--task-queue", queue)["runId"] for _ in range(count)
    ]


def status(cli: Cli, ns: str, run_id: str) -> str:
    got: str = cli.ok("--output", "json", "--namespace", ns, "runs", "get", run_id).json()["status"]
    return got


def test_replay__names_the_new_run(cli: Cli, ns: str) -> None:
    (run_id,) = start_runs(cli, ns, 1)
    cli.ok("--namespace", ns, "runs", "cancel", run_id)
    result = cli.ok("--namespace", ns, "runs", "replay", run_id)
    assert re.fullmatch(rf"replayed run {run_id} as run [0-9a-f-]{{36}} PENDING\n", result.out), (
        result.out
    )
    replay = cli.ok("--output", "json", "--namespace", ns, "runs", "replay", run_id).json()
    assert replay["replayOfRunId"] == run_id
    assert (
        cli.ok("--output", "json", "--namespace", ns, "runs", "get", run_id).json()["replayCount"]
        == 2
    )


def test_replay__refusals_are_one_line(cli: Cli, ns: str) -> None:
    (run_id,) = start_runs(cli, ns, 1)
    pending = cli("--namespace", ns, "runs", "replay", run_id)
    assert pending.code == 1
    assert pending.err == (
        f"stepline: run {run_id} has not ended; only a COMPLETED, FAILED or CANCELED run replays\n"
    )
    cli.ok("--namespace", ns, "runs", "cancel", run_id)
    missing = cli("--namespace", ns, "runs", "replay", run_id, "--from-step", "nope")
    assert (missing.code, missing.err) == (1, f"stepline: run {run_id} has no step 'nope'\n")


def test_batch_cancel__dry_run_counts_and_changes_nothing(cli: Cli, ns: str) -> None:
    runs = start_runs(cli, ns, 3)
    result = cli.ok("--namespace", ns, "runs", "batch-cancel", "--workflow", "report", "--dry-run")
    assert result.out == "would cancel 3 runs (0 skipped)\n"
    assert [status(cli, ns, run_id) for run_id in runs] == [PENDING] * 3


def test_batch_cancel__yes_cancels_without_asking(cli: Cli, ns: str) -> None:
    runs = start_runs(cli, ns, 3)
    result = cli.ok(
        "--output", "json", "--namespace", ns, "runs", "batch-cancel",
        "--status", "pending", "--reason", "cleanup", "--yes", "--page-size", "2",
    )  # fmt: skip
    assert result.json() == {
        "affectedCount": 3,
        "skippedCount": 0,
        "runIds": runs,
        "dryRun": False,
    }
    assert [status(cli, ns, run_id) for run_id in runs] == [CANCELED] * 3


def test_batch_cancel__asks_first_and_a_no_changes_nothing(
    cli: Cli, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = start_runs(cli, ns, 2)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = cli("--namespace", ns, "runs", "batch-cancel")
    assert declined.code == 1
    assert "Cancel 2 runs?" in declined.err and "aborted; nothing was changed" in declined.err
    assert [status(cli, ns, run_id) for run_id in runs] == [PENDING] * 2


def test_batch_replay__yes_replays_and_names_the_batch(cli: Cli, ns: str) -> None:
    runs = start_runs(cli, ns, 2)
    cli.ok("--namespace", ns, "runs", "batch-cancel", "--yes")
    result = cli.ok("--namespace", ns, "runs", "batch-replay", "--status", "canceled", "--yes")
    assert re.fullmatch(r"replayed 2 runs \(0 skipped\); batch [0-9a-f-]{36}\n", result.out)
    for run_id in runs:
        listed = cli.ok("--output", "json", "--namespace", ns, "runs", "get", run_id).json()
        assert listed["replayCount"] == 1
    skipped = cli.ok(
        "--namespace", ns, "runs", "batch-replay", "--from-step", "charge", "--yes",
        "--status", "canceled",
    )  # fmt: skip
    assert skipped.out.startswith("replayed 0 runs (2 skipped); batch ")


def test_batch_cancel__the_real_command_asks_on_its_terminal(address: str, ns: str) -> None:
    base = ("--address", address, "--namespace", ns)
    started = [
        processes.run_cli(*base, "--output", "json", "runs", "start", "report", "--task-queue", ns)
        for _ in range(2)
    ]
    runs = [json.loads(done.stdout)["runId"] for done in started]
    declined = processes.run_cli(*base, "runs", "batch-cancel", stdin="n\n")
    assert declined.returncode == 1, declined.stderr
    accepted = processes.run_cli(*base, "runs", "batch-cancel", stdin="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Cancel 2 runs?" in accepted.stderr
    assert accepted.stdout == "canceled 2 runs (0 skipped)\n"
    closed = processes.run_cli(*base, "runs", "batch-cancel", "--status", "canceled", stdin="")
    assert closed.stdout == "canceled 0 runs (2 skipped)\n"
    for run_id in runs:
        got = processes.run_cli(*base, "--output", "json", "runs", "get", run_id)
        assert json.loads(got.stdout)["status"] == CANCELED


@pytest.mark.slow
def test_replay__wait_runs_the_replay_to_its_end(address: str) -> None:
    """A declined card fails an order at its first step; replayed from there with a good
    card, the order completes."""
    base = ("--address", address, "--output", "json")
    order = '{"id": 9, "card": "declined", "cool_off_seconds": 0}'
    with processes.worker(address, "examples.order_fulfilment:workflows"):
        failed = processes.run_cli(
            *base, "runs", "start", "order.fulfil", "--input", order, "--wait"
        )
        assert failed.returncode == 1
        run_id = json.loads(failed.stdout)["runId"]
        fixed = '{"id": 9, "cool_off_seconds": 0}'
        replayed = processes.run_cli(
            *base, "runs", "replay", run_id, "--from-step", "charge", "--input", fixed, "--wait"
        )
    assert replayed.returncode == 0, replayed.stderr
    run = json.loads(replayed.stdout)
    assert (run["status"], run["replayOfRunId"]) == (COMPLETED, run_id)
    assert run["output"]["charge"] == "ch_9"
