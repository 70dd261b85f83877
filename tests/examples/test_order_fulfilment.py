"""examples/order_fulfilment.py end to end: `stepline worker --app …` runs it, the CLI
starts orders and shows their steps, all as real processes against a real server."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli import processes
from tests.cli.runner import Cli

APP = "examples.order_fulfilment:workflows"
ORDER = {"id": 42, "amount": 30, "cool_off_seconds": 1}


@dataclass
class Orders:
    address: str
    fulfilled: subprocess.CompletedProcess[str]
    declined: subprocess.CompletedProcess[str]

    @property
    def run_id(self) -> str:
        return str(json.loads(self.fulfilled.stdout)["runId"])


@pytest.fixture(scope="module")
def orders(backend_address: str) -> Orders:
    """One order fulfilled and one declined, started together with `runs start --wait`."""
    queue = f"orders-{secrets.token_hex(4)}"

    def order(payload: dict[str, Any]) -> subprocess.Popen[str]:
        return processes.spawn_cli(
            *("--address", backend_address, "--output", "json", "runs", "start"),
            *("order.fulfil", "--task-queue", queue, "--input", json.dumps(payload), "--wait"),
        )

    with processes.worker(backend_address, APP, "--task-queue", queue):
        waiting = order(ORDER), order({**ORDER, "id": 43, "card": "declined"})
        fulfilled, declined = (processes.finish(process) for process in waiting)
    return Orders(backend_address, fulfilled, declined)


def test_order__completes_on_its_second_attempt_with_the_tracking_number(orders: Orders) -> None:
    assert orders.fulfilled.returncode == 0, orders.fulfilled.stderr
    run = json.loads(orders.fulfilled.stdout)
    assert run["status"] == "WORKFLOW_RUN_STATUS_COMPLETED"
    assert run["output"] == {"order": 42, "charge": "ch_42", "tracking": "TRACK-42-bin-0"}
    assert run["attempt"] == 2


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], orders: Orders) -> Cli:
    """`stepline …` in-process, against the server that ran the orders."""
    return Cli(capsys, orders.address)


def test_order__steps_show_the_sleep_and_the_step_that_failed_once(
    orders: Orders, cli: Cli
) -> None:
    listed = cli.ok("--output", "json", "runs", "steps", orders.run_id)
    steps = [
        (
            s["stepId"],
            s["kind"].removeprefix("STEP_KIND_"),
            s["status"].removeprefix("STEP_ATTEMPT_STATUS_"),
            s["attempt"],
        )
        for s in listed.json()
    ]
    assert steps == [
        ("charge", "FUNCTION", "COMPLETED", 1),
        ("cool-off", "SLEEP", "COMPLETED", 1),
        ("reserve-stock", "FUNCTION", "FAILED", 1),
        ("reserve-stock", "FUNCTION", "COMPLETED", 2),
        ("ship", "FUNCTION", "COMPLETED", 1),
    ]
    failed = listed.json()[2]["error"]
    assert (failed["type"], failed["message"]) == ("ConnectionError", "warehouse busy")


def test_order__steps_table_shows_kind_status_and_detail(orders: Orders, cli: Cli) -> None:
    table = cli.ok("runs", "steps", orders.run_id).out
    assert re.search(r"cool-off\s+SLEEP\s+1\s+COMPLETED .* until ", table)
    assert re.search(
        r"reserve-stock\s+FUNCTION\s+1\s+FAILED .* ConnectionError: warehouse busy", table
    )
    assert re.search(r"reserve-stock\s+FUNCTION\s+2\s+COMPLETED .* \"bin-0\"", table)
    assert re.search(r"ship\s+FUNCTION\s+1\s+COMPLETED .* \"TRACK-42-bin-0\"", table)


def test_order__declined_card_fails_the_run_at_once(orders: Orders) -> None:
    assert orders.declined.returncode == 1
    run = json.loads(orders.declined.stdout)
    assert run["status"] == "WORKFLOW_RUN_STATUS_FAILED" and run["attempt"] == 1
    assert (run["error"]["type"], run["error"]["message"]) == ("NonRetryableError", "card declined")


def test_order__canceling_a_completed_run_is_one_clear_line(orders: Orders, cli: Cli) -> None:
    result = cli("runs", "cancel", orders.run_id)
    assert result.code == 1
    assert result.err == (
        f"stepline: run {orders.run_id} has already ended; only a running run can be canceled\n"
    )
