"""SignalWorkflowRun: a signal into the run's inbox, consumed at once by the run's oldest
wait for its name, if one is open. The run's row lock makes it take turns with a
RegisterWaits of the run, so a signal is either seen by the wait being registered or
finds the wait registered."""

from __future__ import annotations

from storage.errors import RunAlreadyTerminal, RunNotFound
from storage.ids import uuid7
from storage.notify import QueueKey
from storage.postgres import waits
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, fetch, fetch_one
from storage.records import RunStatus, SignalSendParams, SignalSendResult
from storage.rows import signal_from_row


async def send(db: Database, params: SignalSendParams, woken: set[QueueKey]) -> SignalSendResult:
    """The signal; the queue of a run it woke is added to `woken` (committed by return)."""
    run_key = {"namespace_id": params.namespace_id, "run_id": CODEC.id_param(params.run_id)}
    async with db.transaction() as conn:
        run_row = await fetch_one(conn, "run_lock_any", run_key)
        if run_row is None:
            raise RunNotFound(params.namespace_id, params.run_id)
        if params.idempotency_key is not None:
            key = {**run_key, "idempotency_key": params.idempotency_key}
            earlier = await fetch_one(conn, "signal_by_idempotency_key", key)
            if earlier is not None:
                return SignalSendResult(signal_from_row(earlier, CODEC), existing=True)
        status = RunStatus(run_row["status"])
        if status.is_terminal:
            raise RunAlreadyTerminal(params.run_id, status)
        values = {
            **run_key,
            "id": uuid7(),
            "signal_name": params.signal_name,
            "payload": params.payload,
            "idempotency_key": params.idempotency_key,
        }
        row = await fetch_one(conn, "signal_insert", values)
        assert row is not None
        wait = await fetch_one(conn, "wait_for_signal", {**run_key, **values})
        if wait is not None:
            step_attempt_id = str(wait["step_attempt_id"])
            await waits.resolve(conn, step_attempt_id, params.run_id, params.payload, woken)
            consume = {"signal_id": values["id"], "step_attempt_id": step_attempt_id}
            row = (await fetch(conn, "signal_consume", consume))[0]
    return SignalSendResult(signal_from_row(row, CODEC), existing=False)
