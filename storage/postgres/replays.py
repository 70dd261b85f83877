"""Replays: one run (ReplayWorkflowRun) or a chunk of a batch, each in one transaction.
What a replay copies is decided by storage/replay.py; the statements insert the new runs
(waking their queues' polls at commit) and copy the steps in bulk. The originals are only
read, and held against retention's delete while their steps are copied (FOR KEY SHARE):
a replay takes no lock a claim could wait for."""

from __future__ import annotations

from collections.abc import Sequence

from storage.errors import RunNotFound
from storage.events import StoreEvents
from storage.paging import batch_result
from storage.postgres.batches import bound, more_after, pick
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Row, fetch, fetch_one
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


async def replay(db: Database, params: RunReplayParams) -> RunReplayResult:
    async with db.transaction() as conn:
        earlier = await _by_key(conn, params)
        if earlier is not None:
            return earlier
        ref = {"namespace_id": params.namespace_id, "run_id": CODEC.id_param(params.run_id)}
        original = await fetch_one(conn, "run_get", ref)
        if original is None:
            raise RunNotFound(params.namespace_id, params.run_id)
        plan = await _plan(conn, [original], params.from_step_id, params.trace)
        if plan.refused:
            raise plan.refused[0]
        rows = await _insert(conn, plan, idempotency_key=params.idempotency_key, input=params.input)
        if not rows:
            # A replay with the same key committed first (the insert waited for it).
            earlier = await _by_key(conn, params)
            assert earlier is not None, "an insert skips only for a key that is taken"
            return earlier
    _replayed(db.events, rows)
    return RunReplayResult(run_from_row(rows[0], CODEC), existing=False)


async def replay_batch(db: Database, params: RunBatchReplayParams) -> RunBatchResult:
    """Replay the chunk's terminal runs that reached from_step_id, each at most once per
    batch: a repeated chunk answers the replays made before."""
    batch = params.batch
    inserted: list[Row] = []
    async with db.transaction() as conn:
        picked = await pick(conn, batch)
        plan = await _plan(conn, picked, params.from_step_id, params.trace)
        run_ids = plan.sources
        if not batch.dry_run and plan.sources:
            inserted = await _insert(conn, plan, batch_id=params.batch_id)
            earlier = await _earlier_of_batch(conn, plan, inserted, params.batch_id)
            run_ids = new_run_ids(plan, inserted, lambda _: earlier)
        as_of = bound(batch, picked)
        more = await more_after(conn, batch, picked, as_of)
    _replayed(db.events, inserted)
    return batch_result(picked, run_ids, more, as_of, CODEC)


async def _by_key(conn: Conn, params: RunReplayParams) -> RunReplayResult | None:
    """The earlier replay that holds the request's idempotency key, if any."""
    if params.idempotency_key is None:
        return None
    key = {"namespace_id": params.namespace_id, "idempotency_key": params.idempotency_key}
    row = await fetch_one(conn, "run_by_idempotency_key", key)
    return None if row is None else earlier_replay(run_read_from_row(row, CODEC), params)


async def _earlier_of_batch(
    conn: Conn, plan: ReplayPlan, inserted: list[Row], batch_id: str
) -> list[Row]:
    """The replays the batch made before of the sources the insert skipped."""
    made = {row["replay_of_run_id"] for row in inserted}
    missing = [source for source in plan.sources if source not in made]
    if not missing:
        return []
    values = {"sources": CODEC.list_param(missing), "batch_id": batch_id}
    return await fetch(conn, "run_replays_of_batch", values)


async def _plan(
    conn: Conn, picked: Sequence[Row], from_step_id: str | None, trace: Json | None
) -> ReplayPlan:
    history: list[Row] = []
    if from_step_id is not None and picked:
        terminal = [row["id"] for row in picked if RunStatus(row["status"]).is_terminal]
        await fetch(conn, "runs_hold_for_replay", {"run_ids": terminal})
        history = await fetch(conn, "step_history_of_runs", {"run_ids": terminal})
    return plan_replays(picked, history, from_step_id, trace)


async def _insert(
    conn: Conn,
    plan: ReplayPlan,
    *,
    batch_id: str | None = None,
    idempotency_key: str | None = None,
    input: Json | None = None,
) -> list[Row]:
    """Insert the plan's new runs and copy their steps; the rows of the runs inserted."""
    values = insert_values(plan, batch_id=batch_id, idempotency_key=idempotency_key, input=input)
    rows = await fetch(conn, "run_replay_insert", values)
    made = {row["id"] for row in rows}
    if made and plan.copies:
        await fetch(conn, "steps_copy", copy_values(plan, made))
    return rows


def _replayed(events: StoreEvents, rows: Sequence[Row]) -> None:
    """Report the new runs, once committed."""
    for row in rows:
        events.run_replayed(row["namespace_id"], row["workflow_name"])
