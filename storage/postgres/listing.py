"""Reads: keyset pages of a namespace's runs and of a run's step attempts; queue depths."""

from __future__ import annotations

from storage.paging import page_of, run_list_query, step_list_query
from storage.postgres.attempts import attempt_by_id
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, Q
from storage.postgres.runs import get as run_get
from storage.records import (
    Page,
    QueueDepth,
    Run,
    RunGetParams,
    RunListParams,
    SlotsInUse,
    StepAttempt,
    StepGetParams,
    StepListParams,
)
from storage.rows import (
    queue_depth_from_row,
    run_read_from_row,
    slots_in_use_from_row,
    step_from_row,
)


async def list_runs(db: Database, params: RunListParams) -> Page[Run]:
    rows = await db.fetch_sql(*run_list_query(Q, CODEC, params))
    return page_of(rows, params, run_read_from_row, CODEC)


async def get_step(db: Database, params: StepGetParams) -> StepAttempt:
    await run_get(db, RunGetParams(params.namespace_id, params.run_id))
    async with db.connection() as conn:
        return await attempt_by_id(conn, params.run_id, params.step_attempt_id)


async def list_steps(db: Database, params: StepListParams) -> Page[StepAttempt]:
    await run_get(db, RunGetParams(params.namespace_id, params.run_id))
    rows = await db.fetch_sql(*step_list_query(Q, CODEC, params))
    return page_of(rows, params, step_from_row, CODEC)


async def count_by_queue(db: Database) -> list[QueueDepth]:
    return [queue_depth_from_row(row) for row in await db.fetch("run_count_by_queue", {})]


async def slots_in_use(db: Database) -> list[SlotsInUse]:
    return [slots_in_use_from_row(row) for row in await db.fetch("slots_in_use", {})]
