"""examples/waits.py as its docstring and README say: a worker process runs it, the CLI
starts the runs, sends the signal and the event, and reads the results."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from tests.cli import processes

APP = "examples.waits:workflows"


def _cli(address: str, *args: str) -> Any:
    done = processes.run_cli("--address", address, "--output", "json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _status(address: str, run_id: str) -> str:
    return str(_cli(address, "runs", "get", run_id)["status"])


def _until_waiting(address: str, run_id: str) -> None:
    deadline = time.monotonic() + 30
    while _status(address, run_id) != "WORKFLOW_RUN_STATUS_WAITING":
        assert time.monotonic() < deadline, "the run never parked"
        time.sleep(0.1)


def test_waits_example__children_a_signal_and_an_event(backend_address: str) -> None:
    address, queue = backend_address, f"waits-{secrets.token_hex(4)}"
    start = ("runs", "start", "--task-queue", queue)
    with processes.worker(address, APP, "--task-queue", queue):
        charged = _cli(address, *start, "invoices.charge", "--input", "[10, 20, -5]", "--wait")
        expense = _cli(address, *start, "expense.approve", "--input", '{"amount": 120}')
        order_id = f"o-{secrets.token_hex(3)}"
        order = _cli(address, *start, "order.pay", "--input", json.dumps({"id": order_id}))
        _until_waiting(address, expense["runId"])
        decision = '{"approved": true, "by": "ann"}'
        _cli(address, "runs", "signal", expense["runId"], "approval", "--payload", decision)
        _until_waiting(address, order["runId"])
        payment = json.dumps({"order_id": order_id, "amount": 30})
        sent = _cli(address, "events", "send", "payment.received", "--data", payment)
        assert sent["resumedRunIds"] == [order["runId"]]
        approved = _wait(address, expense["runId"])
        paid = _wait(address, order["runId"])
    assert charged["output"] == {"charges": ["ch_10", "ch_20", "failed: cannot charge -5"]}
    assert approved["output"] == {"status": "approved", "approved": True, "by": "ann"}
    assert paid["output"] == {"order": order_id, "status": "paid", "amount": 30}


def _wait(address: str, run_id: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        run = _cli(address, "runs", "get", run_id)
        if run["status"] == "WORKFLOW_RUN_STATUS_COMPLETED":
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
