"""RegisterWaits, and resolving waits: by a signal or an event (signals.py, events.py), a
child's end (the stepline_run_ended trigger, migration 0003), or a timeout (the sweep).
Mirrors storage/postgres/waits.py; the write lock stands in for its row and advisory
locks."""

from __future__ import annotations

from datetime import datetime

from storage import waiting
from storage.ids import uuid7
from storage.records import (
    Event,
    Lease,
    Run,
    RunWaitParams,
    RunWaitResult,
    StepAttempt,
    StepKind,
    StepStatus,
    WaitSpec,
)
from storage.rows import NewAttempt, event_from_row
from storage.sqlite.attempts import attempts_of, insert_attempt, recorded
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx
from storage.sqlite.endings import abandon_open_steps, end_execution
from storage.sqlite.fencing import fence_ending


def run_wait(tx: Tx, params: RunWaitParams) -> RunWaitResult:
    lease = params.lease
    waiting.check_waits(params.waits)
    run, repeat = fence_ending(tx, lease)
    if repeat:
        found = {w.step_id: _latest(tx, run.run_id, w) for w in params.waits}
        return waiting.waited_again(run, found, params)
    since = _event_since(tx, run)
    steps: dict[str, StepAttempt] = {}
    pending: list[WaitSpec] = []
    for wait in params.waits:
        done = recorded(tx, run.run_id, wait.step_id, wait.kind)
        if done is None or done.status is not StepStatus.COMPLETED:
            done = _resolve_now(tx, lease, run, wait, since)
        if done is None:
            pending.append(wait)
        else:
            steps[wait.step_id] = done
    if not pending:
        return RunWaitResult([steps[w.step_id] for w in params.waits], run)
    abandon_open_steps(tx, run.run_id)
    for wait in pending:
        steps[wait.step_id] = _register(tx, lease, run, wait, since)
    timeouts = [t for w in pending if (t := waiting.timeout_of(w, tx.now_at)) is not None]
    ending = waiting.wait_ending(run, min(timeouts, default=None))
    parked = end_execution(tx, run, lease, ending)
    return RunWaitResult([steps[w.step_id] for w in params.waits], parked)


def _latest(tx: Tx, run_id: str, wait: WaitSpec) -> StepAttempt | None:
    return max(attempts_of(tx, run_id, wait.step_id), key=lambda a: a.attempt, default=None)


def _event_since(tx: Tx, run: Run) -> datetime:
    row = tx.row("step_latest_started", run_id=run.run_id)
    previous = None if row is None else CODEC.moment_or_none(row["started_at"])
    claimed = tx.one("run_get", namespace_id=run.namespace_id, run_id=run.run_id)["claimed_at"]
    return waiting.event_since(previous, CODEC.moment_or_none(claimed), run.created_at)


def _resolve_now(
    tx: Tx, lease: Lease, run: Run, wait: WaitSpec, since: datetime
) -> StepAttempt | None:
    """The wait recorded COMPLETED when it can be resolved now, else None."""
    if wait.kind is StepKind.SIGNAL:
        signal = tx.row("signal_oldest", run_id=run.run_id, signal_name=wait.name)
        if signal is None:
            return None
        step = insert_attempt(tx, run, lease, _done(wait, signal["payload"]))
        tx.one("signal_consume", signal_id=signal["id"], step_attempt_id=step.step_attempt_id)
        return step
    if wait.kind is StepKind.EVENT:
        event = _first_match(tx, run.namespace_id, wait, since)
        if event is None:
            return None
        step = insert_attempt(tx, run, lease, _done(wait, waiting.event_output(event)))
        link(tx, event.event_id, run.run_id, step.step_attempt_id)
        return step
    return None


def _first_match(tx: Tx, namespace_id: str, wait: WaitSpec, since: datetime) -> Event | None:
    rows = tx.rows(
        "events_since",
        namespace_id=namespace_id,
        event_name=wait.name,
        since=CODEC.moment_param(since),
    )
    for row in rows:
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


def _register(tx: Tx, lease: Lease, run: Run, wait: WaitSpec, since: datetime) -> StepAttempt:
    """Record the wait RUNNING, its stepline_waits row, and a CHILD wait's child run."""
    timeout = waiting.timeout_of(wait, tx.now_at)
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
    step = insert_attempt(tx, run, lease, new)
    is_event = wait.kind is StepKind.EVENT
    tx.execute(
        "wait_insert",
        step_attempt_id=step.step_attempt_id,
        namespace_id=run.namespace_id,
        run_id=run.run_id,
        kind=wait.kind.value,
        name=wait.name,
        match=wait.match,
        match_key=waiting.match_key(wait.match) if is_event else None,
        since=CODEC.moment_param(since) if is_event else None,
        wake_up_at=CODEC.moment_param_or_none(timeout),
    )
    if child_id is not None:
        _start_child(tx, run, wait, child_id, step.step_attempt_id)
    return step


def _start_child(tx: Tx, run: Run, wait: WaitSpec, child_id: str, step_attempt_id: str) -> None:
    child = wait.child
    assert child is not None, "a CHILD wait names its child"
    policy = child.retry_policy
    queue = child.task_queue or run.task_queue
    tx.one(
        "child_run_insert",
        id=child_id,
        namespace_id=run.namespace_id,
        workflow_name=child.workflow_name,
        version=child.version,
        task_queue=queue,
        input=child.input,
        context=child.context,
        retry_initial_interval=CODEC.interval_param(policy.initial_interval),
        retry_backoff_coefficient=policy.backoff_coefficient,
        retry_maximum_interval=CODEC.interval_param(policy.maximum_interval),
        retry_maximum_attempts=policy.maximum_attempts,
        parent_run_id=run.run_id,
        parent_step_attempt_id=step_attempt_id,
    )
    tx.rows("run_notify", namespace_id=run.namespace_id, task_queue=queue)


def link(tx: Tx, event_id: str, run_id: str, step_attempt_id: str) -> None:
    values = {"event_id": event_id, "run_id": run_id, "step_attempt_id": step_attempt_id}
    tx.execute("event_run_insert", **values)


def resolve(tx: Tx, step_attempt_id: str, run_id: str, output: str | None) -> bool:
    """Complete an open wait's step with `output` (None: timed out), drop the wait, and
    wake the run if it has no wait left. False when the wait was resolved already."""
    row = tx.row("wait_resolve", step_attempt_id=step_attempt_id, output=output)
    tx.execute("wait_delete", step_attempt_id=step_attempt_id)
    if row is None:
        return False
    for woken in tx.rows("run_wake_if_resolved", run_id=run_id):
        tx.rows("run_notify", namespace_id=woken["namespace_id"], task_queue=woken["task_queue"])
    return True


def expire(tx: Tx, limit: int) -> int:
    """The sweep: resolve up to `limit` waits past their timeout, with no output."""
    rows = tx.rows("waits_timed_out", limit=max(limit, 0))
    for row in rows:
        resolve(tx, row["step_attempt_id"], row["workflow_run_id"], None)
    return len(rows)
