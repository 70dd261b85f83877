"""Reads: keyset pages of a namespace's runs and of a run's step attempts; queue depths."""

from __future__ import annotations

from storage.paging import page_of, run_list_query, step_list_query
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
from storage.sqlite.attempts import attempt_by_id
from storage.sqlite.codec import CODEC
from storage.sqlite.database import QUERIES, Tx
from storage.sqlite.runs import get as run_get


def list_runs(tx: Tx, params: RunListParams) -> Page[Run]:
    rows = tx.rows_sql(*run_list_query(QUERIES, CODEC, params))
    return page_of(rows, params, run_read_from_row, CODEC)


def get_step(tx: Tx, params: StepGetParams) -> StepAttempt:
    run_get(tx, RunGetParams(params.namespace_id, params.run_id))
    return attempt_by_id(tx, params.run_id, params.step_attempt_id)


def list_steps(tx: Tx, params: StepListParams) -> Page[StepAttempt]:
    run_get(tx, RunGetParams(params.namespace_id, params.run_id))
    rows = tx.rows_sql(*step_list_query(QUERIES, CODEC, params))
    return page_of(rows, params, step_from_row, CODEC)


def count_by_queue(tx: Tx) -> list[QueueDepth]:
    return [queue_depth_from_row(row) for row in tx.rows("run_count_by_queue")]


def slots_in_use(tx: Tx) -> list[SlotsInUse]:
    return [slots_in_use_from_row(row) for row in tx.rows("slots_in_use")]
