"""`stepline runs start|get|list|cancel|steps` against a live server, in both output modes,
on each backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.cli import processes
from tests.cli.runner import Cli
from tests.support import namespaces

PENDING = "WORKFLOW_RUN_STATUS_PENDING"
CANCELED = "WORKFLOW_RUN_STATUS_CANCELED"


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def address(request: pytest.FixtureRequest) -> str:
    """The server on each backend in turn: these tests run twice."""
    started: str = request.getfixturevalue(f"{request.param}_address")
    return started


def fresh_queue() -> str:
    """A task queue of this test's own: no worker polls it, no other test lists it."""
    return f"cli-{secrets.token_hex(4)}"


def test_start__table_names_the_new_run_and_its_status(cli: Cli) -> None:
    result = cli.ok("runs", "start", "greet", "--task-queue", fresh_queue())
    assert re.fullmatch(r"started run [0-9a-f-]{36} PENDING\n", result.out), result.out


def test_start__json_is_the_run_with_every_start_field(cli: Cli) -> None:
    queue = fresh_queue()
    run = cli.start(
        "greet",
        *("--task-queue", queue, "--version", "2", "--idempotency-key", queue),
        *("--input", '{"name": "Ada"}', "--context", '{"tenant": "acme"}'),
        *("--deadline", "2030-01-02T00:00:00Z", "--start-at", "1h"),
    )
    assert run["workflowName"] == "greet" and run["version"] == "2"
    assert run["taskQueue"] == queue and run["idempotencyKey"] == queue
    assert run["status"] == PENDING
    assert run["input"] == {"name": "Ada"}
    assert run["context"]["tenant"] == "acme"
    assert run["deadlineAt"] == "2030-01-02T00:00:00Z"
    delay = _time(run["availableAt"]) - _time(run["createdAt"])
    assert timedelta(minutes=59) < delay <= timedelta(hours=1)


def test_start__same_idempotency_key_reports_the_existing_run(cli: Cli) -> None:
    queue = fresh_queue()
    first = cli.start("greet", "--task-queue", queue, "--idempotency-key", queue)
    again = cli.ok("runs", "start", "greet", "--task-queue", queue, "--idempotency-key", queue)
    assert again.out == f"existing run (idempotency key matched) {first['runId']} PENDING\n"


def test_start__reads_input_from_a_file(cli: Cli, tmp_path: Path) -> None:
    document = tmp_path / "order.json"
    document.write_text('{"id": 7, "items": ["tea"]}')
    run = cli.start("greet", "--task-queue", fresh_queue(), "--input", f"@{document}")
    assert run["input"] == {"id": 7, "items": ["tea"]}


def test_start__reads_input_from_stdin_in_a_real_process(address: str) -> None:
    result = processes.run_cli(
        *("--address", address, "--output", "json", "runs", "start", "greet"),
        *("--task-queue", fresh_queue(), "--input", "-"),
        stdin='[1, "two", null]',
    )
    assert result.returncode == 0, result.stderr
    assert '"input": [\n    1,\n    "two",\n    null\n  ]' in result.stdout


def test_get__table_and_json_show_the_same_run(cli: Cli) -> None:
    run = cli.start("greet", "--task-queue", fresh_queue(), "--input", '{"name": "Ada"}')
    sheet = cli.ok("runs", "get", run["runId"]).out
    assert re.search(rf"run\s+{run['runId']}\n", sheet)
    assert re.search(r"status\s+PENDING\n", sheet)
    assert '"name": "Ada"' in sheet
    assert cli.ok("--output", "json", "runs", "get", run["runId"]).json() == run


def test_list__filters_by_queue_status_and_workflow(cli: Cli) -> None:
    queue = fresh_queue()
    first, second, third = (
        cli.start(name, "--task-queue", queue)["runId"] for name in ("greet", "other", "greet")
    )
    cli.ok("runs", "cancel", third)

    def listed(*flags: str) -> list[str]:
        runs = cli.ok("--output", "json", "runs", "list", "--task-queue", queue, *flags).json()
        return [run["runId"] for run in runs]

    assert listed() == [first, second, third]
    assert listed("--status", "canceled") == [third]
    assert listed("--status", "PENDING", "canceled", "--workflow", "greet") == [first, third]
    assert listed("--workflow", "other") == [second]
    assert listed("--since", "1h") == [first, second, third]
    assert listed("--since", "2999-01-01T00:00:00Z") == []
    table = cli.ok("runs", "list", "--task-queue", queue).out
    assert re.search(rf"{third}\s+greet\s+CANCELED\s+{queue}\s+1 ", table), table
    assert first in table and second in table


def test_list__limit_and_page_size_follow_pages(cli: Cli) -> None:
    queue = fresh_queue()
    ids = [cli.start("greet", "--task-queue", queue)["runId"] for _ in range(3)]

    def listed(*flags: str) -> list[str]:
        runs = cli.ok("--output", "json", "runs", "list", "--task-queue", queue, *flags).json()
        return [run["runId"] for run in runs]

    assert listed("--limit", "2") == ids[:2]
    assert listed("--page-size", "1") == ids
    assert listed("--page-size", "1", "--limit", "0") == ids


def test_cancel__table_then_json_on_the_canceled_run(cli: Cli) -> None:
    run_id = cli.start("greet", "--task-queue", fresh_queue())["runId"]
    sheet = cli.ok("runs", "cancel", run_id, "--reason", "not needed").out
    assert re.search(r"status\s+CANCELED\n", sheet)
    again = cli.ok("--output", "json", "runs", "cancel", run_id).json()
    assert again["runId"] == run_id and again["status"] == CANCELED


def test_steps__of_a_run_not_yet_claimed_are_empty(cli: Cli) -> None:
    run_id = cli.start("greet", "--task-queue", fresh_queue())["runId"]
    assert cli.ok("--output", "json", "runs", "steps", run_id).json() == []
    header = cli.ok("runs", "steps", run_id).out
    assert header.split() == [
        "STEP",
        "KIND",
        "ATTEMPT",
        "STATUS",
        "STARTED",
        "(UTC)",
        "TOOK",
        "DETAIL",
    ]


def test_namespace__scopes_every_command(cli: Cli, address: str) -> None:
    queue = fresh_queue()
    namespaces.create_through(address, "cli-other")
    run = cli.start("greet", "--task-queue", queue, "--namespace", "cli-other")  # after the command
    assert run["namespaceId"] == "cli-other"
    assert cli("runs", "get", run["runId"]).code == 1  # not in the default namespace
    shown = cli.ok("--namespace", "cli-other", "--output", "json", "runs", "get", run["runId"])
    assert shown.json() == run


def test_address_and_namespace__come_from_stepline_variables(address: str) -> None:
    queue = fresh_queue()
    namespaces.create_through(address, "cli-env")
    variables = {"STEPLINE_ADDRESS": address, "STEPLINE_NAMESPACE": "cli-env"}
    started = processes.run_cli("runs", "start", "greet", "--task-queue", queue, env=variables)
    assert started.returncode == 0, started.stderr
    listed = processes.run_cli(
        "--output", "json", "runs", "list", "--task-queue", queue, env=variables
    )
    assert [run["namespaceId"] for run in json.loads(listed.stdout)] == ["cli-env"]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
