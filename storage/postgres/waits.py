"""RegisterWaits, and resolving waits: by a signal or an event (signals.py, events.py), a
child's end (the stepline_run_ended trigger, migration 0003), or a timeout (the sweep).

RegisterWaits runs in the locked transaction of a call that ends an execution
(fencing.fenced_ending): the waits that can be resolved now are recorded COMPLETED; the
others are recorded RUNNING with a `stepline_waits` row each (and a child run for a
CHILD wait), and the run parks WAITING with its lease released.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage import rules, waiting
from storage.ids import uuid7
from storage.notify import QueueKey
from storage.postgres.attempts import attempts_of, insert_attempt, recorded
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Q, Row, fetch, fetch_one
from storage.postgres.endings import close_open_steps, end_execution
from storage.postgres.fencing import fenced_ending
from storage.postgres.listener import parse_payload
from storage.records import (
    Event,
    RunWaitParams,
    RunWaitResult,
    StepAttempt,
    StepKind,
    StepStatus,
    WaitSpec,
)
from storage.rows import NewAttempt, event_from_row, run_from_row


async def run_wait(db: Database, params: RunWaitParams) -> RunWaitResult:
    lease = params.lease
    waiting.check_waits(params.waits)
    async with fenced_ending(db, lease) as (conn, run_row, repeat):
        run = run_from_row(run_row, CODEC)
        if repeat:
            found = {w.step_id: await _latest(conn, run.run_id, w) for w in params.waits}
            return waiting.waited_again(run, found, params)
        for key in waiting.registration_locks(run.namespace_id, params.waits):
            await conn.execute(Q["event_lock_exclusive"], {"lock_key": key})
        now: datetime = run_row["db_now"]
        since = await _event_since(conn, run_row)
        steps: dict[str, StepAttempt] = {}
        pending: list[WaitSpec] = []
        for wait in params.waits:
            done = await recorded(conn, run.run_id, wait.step_id, wait.kind)
            if done is None or done.status is not StepStatus.COMPLETED:
                done = await _resolve_now(conn, lease, run_row, wait, since)
            if done is None:
                pending.append(wait)
            else:
                steps[wait.step_id] = done
        if not pending:
            return RunWaitResult([steps[w.step_id] for w in params.waits], run)
        await close_open_steps(conn, run.run_id, rules.ABANDONED_ERROR)
        for wait in pending:
            steps[wait.step_id] = await _register(conn, lease, run_row, wait, now, since)
        timeouts = [t for w in pending if (t := waiting.timeout_of(w, now)) is not None]
        ending = waiting.wait_ending(run, min(timeouts, default=None))
        parked = await end_execution(conn, lease, ending)
    return RunWaitResult([steps[w.step_id] for w in params.waits], parked)


async def _latest(conn: Conn, run_id: str, wait: WaitSpec) -> StepAttempt | None:
    attempts = await attempts_of(conn, run_id, wait.step_id)
    return max(attempts, key=lambda a: a.attempt, default=None)


async def _event_since(conn: Conn, run_row: Row) -> datetime:
    row = await fetch_one(conn, "step_latest_started", {"run_id": run_row["id"]})
    previous = None if row is None else row["started_at"]
    return waiting.event_since(previous, run_row["claimed_at"], run_row["created_at"])


def _event_key(namespace_id: str, event_name: str) -> dict[str, Any]:
    return {"namespace_id": namespace_id, "event_name": event_name}


async def _resolve_now(
    conn: Conn, lease: Any, run_row: Row, wait: WaitSpec, since: datetime
) -> StepAttempt | None:
    """The wait recorded COMPLETED when it can be resolved now, else None."""
    if wait.kind is StepKind.SIGNAL:
        values = {"run_id": run_row["id"], "signal_name": wait.name}
        signal = await fetch_one(conn, "signal_oldest", values)
        if signal is None:
            return None
        step = await insert_attempt(conn, lease, run_row, _done(wait, signal["payload"]))
        consume = {"signal_id": signal["id"], "step_attempt_id": step.step_attempt_id}
        await fetch(conn, "signal_consume", consume)
        return step
    if wait.kind is StepKind.EVENT:
        event = await _first_match(conn, run_row["namespace_id"], wait, since)
        if event is None:
            return None
        output = waiting.event_output(event)
        step = await insert_attempt(conn, lease, run_row, _done(wait, output))
        await _link(conn, event.event_id, run_row["id"], step.step_attempt_id)
        return step
    return None


async def _first_match(
    conn: Conn, namespace_id: str, wait: WaitSpec, since: datetime
) -> Event | None:
    values = {**_event_key(namespace_id, wait.name or ""), "since": since}
    for row in await fetch(conn, "events_since", values):
        event = event_from_row(row, CODEC)
        if waiting.event_matches(event, wait.match):
            return event
    return None


def _done(wait: WaitSpec, output: str | None) -> NewAttempt:
    return NewAttempt(
        wait.step_id,
        wait.kind,
        StepStatus.COMPLETED,
        output=output,
        wait_name=wait.name,
        wait_match=wait.match,
    )


async def _register(
    conn: Conn, lease: Any, run_row: Row, wait: WaitSpec, now: datetime, since: datetime
) -> StepAttempt:
    """Record the wait RUNNING, its stepline_waits row, and a CHILD wait's child run."""
    timeout = waiting.timeout_of(wait, now)
    child_id = uuid7() if wait.kind is StepKind.CHILD else None
    new = NewAttempt(
        wait.step_id,
        wait.kind,
        StepStatus.RUNNING,
        wake_up_at=timeout,
        child_workflow_run_id=child_id,
        wait_name=wait.name,
        wait_match=wait.match,
    )
    step = await insert_attempt(conn, lease, run_row, new)
    values = {
        "step_attempt_id": step.step_attempt_id,
        "namespace_id": run_row["namespace_id"],
        "run_id": run_row["id"],
        "kind": wait.kind.value,
        "name": wait.name,
        "match": wait.match,
        "match_key": waiting.match_key(wait.match) if wait.kind is StepKind.EVENT else None,
        "since": since if wait.kind is StepKind.EVENT else None,
        "wake_up_at": timeout,
    }
    await conn.execute(Q["wait_insert"], values)
    if child_id is not None:
        await _start_child(conn, run_row, wait, child_id, step.step_attempt_id)
    return step


async def _start_child(
    conn: Conn, run_row: Row, wait: WaitSpec, child_id: str, step_attempt_id: str
) -> None:
    child = wait.child
    assert child is not None, "a CHILD wait names its child"
    policy = child.retry_policy
    queue = child.task_queue or run_row["task_queue"]
    values = {
        "id": child_id,
        "namespace_id": run_row["namespace_id"],
        "workflow_name": child.workflow_name,
        "version": child.version,
        "task_queue": queue,
        "input": child.input,
        "context": child.context,
        "retry_initial_interval": policy.initial_interval,
        "retry_backoff_coefficient": policy.backoff_coefficient,
        "retry_maximum_interval": policy.maximum_interval,
        "retry_maximum_attempts": policy.maximum_attempts,
        "parent_run_id": run_row["id"],
        "parent_step_attempt_id": step_attempt_id,
    }
    await fetch(conn, "child_run_insert", values)
    notify = {"namespace_id": run_row["namespace_id"], "task_queue": queue}
    await conn.execute(Q["run_notify"], notify)


async def _link(conn: Conn, event_id: str, run_id: str, step_attempt_id: str) -> None:
    values = {"event_id": event_id, "run_id": run_id, "step_attempt_id": step_attempt_id}
    await conn.execute(Q["event_run_insert"], values)


async def resolve(
    conn: Conn, step_attempt_id: str, run_id: str, output: str | None, woken: set[QueueKey]
) -> bool:
    """Complete an open wait's step with `output` (None: timed out), drop the wait, and
    wake the run if it has no wait left (adding its queue to `woken`). False when the wait
    was resolved already."""
    values = {"step_attempt_id": step_attempt_id, "output": output}
    row = await fetch_one(conn, "wait_resolve", values)
    await conn.execute(Q["wait_delete"], values)
    if row is None:
        return False
    wake = await fetch_one(conn, "run_wake_if_resolved", {"run_id": run_id})
    key = None if wake is None or wake["woken"] is None else parse_payload(wake["woken"])
    if key is not None:
        woken.add(key)
    return True


async def expire(db: Database, limit: int, woken: set[QueueKey]) -> int:
    """The sweep: resolve up to `limit` waits past their timeout, with no output."""
    async with db.transaction() as conn:
        rows = await fetch(conn, "waits_timed_out", {"limit": limit})
        for row in rows:
            await resolve(conn, row["step_attempt_id"], row["workflow_run_id"], None, woken)
    return len(rows)
