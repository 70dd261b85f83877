"""Replays: one run (ReplayWorkflowRun) or a chunk of a batch, each in one transaction.
What a replay copies is decided by storage/replay.py; the statements insert the new runs
and copy the steps in bulk."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.errors import RunNotFound
from storage.paging import batch_result
from storage.records import (
    Json,
    RunBatchReplayParams,
    RunBatchResult,
    RunReplayParams,
    RunReplayResult,
    RunStatus,
)
from storage.replay import (
    ReplayPlan,
    copy_values,
    earlier_replay,
    insert_values,
    new_run_ids,
    plan_replays,
)
from storage.rows import run_from_row, run_read_from_row
from storage.sqlite.batches import bound, more_after, pick
from storage.sqlite.codec import CODEC, moment
from storage.sqlite.database import Tx

Queues = set[tuple[str, str]]
"""(namespace_id, task_queue) of the new runs, whose polls to wake once committed."""


def replay(tx: Tx, params: RunReplayParams) -> tuple[RunReplayResult, Queues]:
    if params.idempotency_key is not None:
        earlier = tx.row(
            "run_by_idempotency_key",
            namespace_id=params.namespace_id,
            idempotency_key=params.idempotency_key,
        )
        if earlier is not None:
            return earlier_replay(run_read_from_row(earlier, CODEC), params), set()
    original = tx.row("run_get", namespace_id=params.namespace_id, run_id=params.run_id)
    if original is None:
        raise RunNotFound(params.namespace_id, params.run_id)
    plan = _plan(tx, [original], params.from_step_id, params.trace)
    if plan.refused:
        raise plan.refused[0]
    # The write lock is held since the key was looked up: the insert cannot be skipped.
    (row,) = _insert(tx, plan, idempotency_key=params.idempotency_key, input=params.input)
    return RunReplayResult(run_from_row(row, CODEC), existing=False), _queues([row])


def replay_batch(tx: Tx, params: RunBatchReplayParams) -> tuple[RunBatchResult, Queues]:
    """Replay the chunk's terminal runs that reached from_step_id, each at most once per
    batch: a repeated chunk answers the replays made before."""
    batch = params.batch
    as_of = bound(tx, batch)
    picked = pick(tx, batch, as_of)
    plan = _plan(tx, picked, params.from_step_id, params.trace)
    run_ids, inserted = plan.sources, []
    if not batch.dry_run and plan.sources:
        inserted = _insert(tx, plan, batch_id=params.batch_id)
        run_ids = new_run_ids(
            plan,
            inserted,
            lambda missing: tx.rows(
                "run_replays_of_batch",
                sources=CODEC.list_param(missing),
                batch_id=params.batch_id,
            ),
        )
    more = more_after(tx, batch, picked, as_of)
    return batch_result(picked, run_ids, more, moment(as_of), CODEC), _queues(inserted)


def _plan(
    tx: Tx, picked: Sequence[sqlite3.Row], from_step_id: str | None, trace: Json | None
) -> ReplayPlan:
    history: list[sqlite3.Row] = []
    if from_step_id is not None and picked:
        terminal = [row["id"] for row in picked if RunStatus(row["status"]).is_terminal]
        history = tx.rows("step_history_of_runs", run_ids=CODEC.list_param(terminal))
    return plan_replays(picked, history, from_step_id, trace)


def _insert(
    tx: Tx,
    plan: ReplayPlan,
    *,
    batch_id: str | None = None,
    idempotency_key: str | None = None,
    input: Json | None = None,
) -> list[sqlite3.Row]:
    """Insert the plan's new runs and copy their steps; the rows of the runs inserted."""
    values = insert_values(plan, batch_id=batch_id, idempotency_key=idempotency_key, input=input)
    rows = tx.rows("run_replay_insert", **values)
    made = {row["id"] for row in rows}
    if made and plan.copies:
        tx.execute("steps_copy", **copy_values(plan, made))
    for row in rows:
        tx.events.run_replayed(row["namespace_id"], row["workflow_name"])
    return rows


def _queues(rows: Sequence[sqlite3.Row]) -> Queues:
    return {(row["namespace_id"], row["task_queue"]) for row in rows}
