"""SignalWorkflowRun: a signal into the run's inbox, consumed at once by the run's oldest
wait for its name, if one is open. Mirrors storage/postgres/signals.py."""

from __future__ import annotations

from storage.errors import RunAlreadyTerminal, RunNotFound
from storage.ids import uuid7
from storage.records import RunStatus, SignalSendParams, SignalSendResult
from storage.rows import signal_from_row
from storage.sqlite import waits
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx


def send(tx: Tx, params: SignalSendParams) -> SignalSendResult:
    run_row = tx.row("run_get", namespace_id=params.namespace_id, run_id=params.run_id)
    if run_row is None:
        raise RunNotFound(params.namespace_id, params.run_id)
    if params.idempotency_key is not None:
        earlier = tx.row(
            "signal_by_idempotency_key",
            run_id=params.run_id,
            idempotency_key=params.idempotency_key,
        )
        if earlier is not None:
            return SignalSendResult(signal_from_row(earlier, CODEC), existing=True)
    status = RunStatus(run_row["status"])
    if status.is_terminal:
        raise RunAlreadyTerminal(params.run_id, status)
    signal_id = uuid7()
    row = tx.one(
        "signal_insert",
        id=signal_id,
        namespace_id=params.namespace_id,
        run_id=params.run_id,
        signal_name=params.signal_name,
        payload=params.payload,
        idempotency_key=params.idempotency_key,
    )
    wait = tx.row("wait_for_signal", run_id=params.run_id, signal_name=params.signal_name)
    if wait is not None:
        step_attempt_id = wait["step_attempt_id"]
        waits.resolve(tx, step_attempt_id, params.run_id, params.payload)
        row = tx.one("signal_consume", signal_id=signal_id, step_attempt_id=step_attempt_id)
    return SignalSendResult(signal_from_row(row, CODEC), existing=False)
