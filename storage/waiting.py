"""The rules of waits (RegisterWaits), for every backend: what a wait resolves to now,
how a run parks, when events match, and a repeated RegisterWaits.

A run parks WAITING, with no lease and no due time (available_at NULL), until every
wait step it registered is resolved: the resolving statement (a child's end, a signal, an
event, the timeout sweep) completes the step, deletes its `stepline_waits` row and, when
the run has none left, makes it PENDING and claimable at once, waking its queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from storage import matching
from storage.errors import ExecutionAlreadyEnded, StoreError
from storage.records import (
    Event,
    Json,
    Run,
    RunStatus,
    RunWaitParams,
    RunWaitResult,
    StepAttempt,
    StepKind,
    StepStatus,
    WaitSpec,
)
from storage.rules import Ending

MAX_WAITS = 100


def wait_ending(run: Run, wake_up_at: datetime | None) -> Ending:
    """Parked on waits: WAITING, not claimable until they are resolved; `wake_up_at` is the
    earliest timeout, when the sweep resolves that wait."""
    return Ending(RunStatus.WAITING, run.attempt, wake_up_at=wake_up_at, available_at=None)


def timeout_of(wait: WaitSpec, now: datetime) -> datetime | None:
    if wait.wake_up_at is not None:
        return wait.wake_up_at
    if wait.duration is not None:
        return now + wait.duration
    return None


def event_since(
    previous_started_at: datetime | None, claimed_at: datetime | None, created_at: datetime
) -> datetime:
    """Events received at or after this match a wait registered now: the start of the run's
    previous step attempt, or this execution's claim when earlier (a step recorded in one
    call has no start of its own before its result), or the run's creation for a first
    step. So an event caused by the previous step is never missed."""
    if previous_started_at is None:
        return created_at
    if claimed_at is None:
        return previous_started_at
    return min(previous_started_at, claimed_at)


def event_output(event: Event) -> Json:
    """What an EVENT step returns: the event itself."""
    return json.dumps(
        {
            "event_id": event.event_id,
            "event_name": event.event_name,
            "data": json.loads(event.data),
            "received_at": event.received_at.isoformat(),
        },
        separators=(",", ":"),
    )


def event_matches(event: Event, wait_match: Json | None) -> bool:
    match = {} if wait_match is None else json.loads(wait_match)
    return matching.contains(json.loads(event.data), match)


def match_key(wait_match: Json | None) -> str:
    return matching.match_key({} if wait_match is None else json.loads(wait_match))


def event_keys(data: Json) -> list[str]:
    return matching.event_keys(json.loads(data))


def lock_key(namespace_id: str, event_name: str, key: str) -> str:
    """What an event wait being registered and an event that may match it both lock
    (PostgreSQL): the namespace, the event name and one match_key."""
    return "\x1f".join((namespace_id, event_name, key))


def registration_locks(namespace_id: str, waits: Iterable[WaitSpec]) -> list[str]:
    """The locks a RegisterWaits takes, in one order (no deadlock between two)."""
    keys = {
        lock_key(namespace_id, wait.name or "", match_key(wait.match))
        for wait in waits
        if wait.kind is StepKind.EVENT
    }
    return sorted(keys)


def event_locks(namespace_id: str, event_name: str, data: Json) -> list[str]:
    """The locks a SendEvent takes: one per key of its data, in one order."""
    return sorted(lock_key(namespace_id, event_name, key) for key in event_keys(data))


def check_waits(waits: Iterable[WaitSpec]) -> None:
    """Storage's own guard (the service validates first): distinct step_ids."""
    seen: set[str] = set()
    for wait in waits:
        if wait.step_id in seen:
            raise StoreError(f"RegisterWaits names step {wait.step_id!r} twice")
        seen.add(wait.step_id)


def waited_again(
    run: Run, recorded: Mapping[str, StepAttempt | None], params: RunWaitParams
) -> RunWaitResult:
    """A repeated RegisterWaits (its answer was lost): the run and the steps, when the run
    parked under this lease (or was woken since) and every wait is recorded with its kind.
    Otherwise ExecutionAlreadyEnded."""
    steps = [recorded.get(wait.step_id) for wait in params.waits]
    parked = run.status in (RunStatus.WAITING, RunStatus.PENDING)
    if parked and all(
        step is not None and step.kind is wait.kind and step.status is not StepStatus.FAILED
        for step, wait in zip(steps, params.waits, strict=True)
    ):
        return RunWaitResult([step for step in steps if step is not None], run)
    raise ExecutionAlreadyEnded(run.run_id, run.status)


def is_open_wait(step: StepAttempt) -> bool:
    return step.kind in (StepKind.CHILD, StepKind.SIGNAL, StepKind.EVENT) and (
        step.status is StepStatus.RUNNING
    )
