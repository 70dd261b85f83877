"""run_replay: a new run whose history holds copies of exactly the steps the original
completed before from_step_id; the original is never changed."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest

from storage import IdempotencyConflict, RunNotFound, RunNotTerminal, StepNotFound, Store
from storage.ids import uuid7
from storage.records import (
    RunCancelParams,
    RunFilter,
    RunReplayParams,
    RunReplayResult,
    RunStatus,
    StepBeginParams,
    StepKind,
    StepStatus,
)
from storage.sqlfile import load_queries
from tests.storage.helpers import claim_one, create_run, get_run, lease_of, snapshot, utcnow
from tests.storage.histories import (
    CONTEXT,
    History,
    claimed_history,
    completed_out_of_order,
    failed_at_charge,
    kinds,
)
from tests.storage.listing import ids, list_runs
from tests.storage.rawsql import RUNS_TABLE, STEPS_TABLE, Backend, raw_rows, table_columns
from tests.storage.states import make_run

CALLER_TRACE = '{"traceparent":"00-11111111111111111111111111111111-2222222222222222-01"}'


async def replay(
    store: Store,
    history: History,
    from_step_id: str | None,
    *,
    input: str | None = None,
    idempotency_key: str | None = None,
    trace: str | None = None,
) -> RunReplayResult:
    run = history.run
    return await store.run_replay(
        RunReplayParams(run.namespace_id, run.run_id, from_step_id, input, idempotency_key, trace)
    )


@pytest.fixture
async def charge(store: Store, ns: str, queue: str) -> History:
    return await failed_at_charge(store, ns, queue)


# --- what is copied ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_step_id", "copied"),
    [
        ("ship", [("validate", 1), ("nap", 1), ("charge", 2)]),
        ("charge", [("validate", 1), ("nap", 1)]),
        ("nap", [("validate", 1)]),
        ("validate", []),
        (None, []),
    ],
    ids=["ship", "charge", "nap", "validate", "start_over"],
)
async def test_replay__copies_exactly_the_steps_completed_before_from_step_id(
    store: Store, ns: str, charge: History, from_step_id: str | None, copied: list[tuple[str, int]]
) -> None:
    result = await replay(store, charge, from_step_id)
    _, steps = await snapshot(store, ns, result.run.run_id)
    sources = [charge.attempt(step_id, attempt) for step_id, attempt in copied]
    assert [s.copied_from_step_attempt_id for s in steps] == [s.step_attempt_id for s in sources]
    for copy, source in zip(steps, sources, strict=True):
        assert copy.status is StepStatus.COMPLETED
        assert copy.workflow_run_id == result.run.run_id
        assert copy.step_attempt_id != source.step_attempt_id
        kept = ("step_id", "kind", "attempt", "config", "context", "output", "error", "worker_id")
        assert [getattr(copy, f) for f in kept] == [getattr(source, f) for f in kept]
        times = ("started_at", "finished_at", "wake_up_at")
        assert [getattr(copy, f) for f in times] == [getattr(source, f) for f in times]
        assert copy.created_at == result.run.created_at


async def test_replay__copies_a_sleep_already_elapsed_as_a_completed_sleep(
    store: Store, ns: str, charge: History
) -> None:
    result = await replay(store, charge, "charge")
    _, steps = await snapshot(store, ns, result.run.run_id)
    assert kinds(steps) == [("validate", StepKind.FUNCTION), ("nap", StepKind.SLEEP)]
    assert steps[1].wake_up_at == charge.attempt("nap").wake_up_at


async def test_replay__copies_in_the_order_steps_were_first_recorded(
    store: Store, ns: str, queue: str
) -> None:
    history = await completed_out_of_order(store, ns, queue)
    assert [s.step_id for s in history.steps if s.status is StepStatus.COMPLETED] == ["b", "a"]
    result = await replay(store, history, "c")
    _, steps = await snapshot(store, ns, result.run.run_id)
    assert [(s.step_id, s.copied_from_step_attempt_id) for s in steps] == [
        ("a", history.attempt("a", 2).step_attempt_id),
        ("b", history.attempt("b").step_attempt_id),
    ]


async def test_replay__worker_claims_the_copies_as_history_and_they_are_memoized(
    store: Store, ns: str, queue: str, charge: History
) -> None:
    result = await replay(store, charge, "ship")
    claimed = await claim_one(store, ns, queue)
    assert claimed.run.run_id == result.run.run_id
    assert [step_id for step_id, _ in claimed_history(claimed)] == ["validate", "nap", "charge"]
    # A worker re-executing the workflow gets the copied steps back, not a new attempt.
    again = await store.step_begin(StepBeginParams(lease_of(claimed), "charge"))
    assert again.status is StepStatus.COMPLETED
    assert again.output == charge.attempt("charge", 2).output
    ship = await store.step_begin(StepBeginParams(lease_of(claimed), "ship"))
    assert (ship.status, ship.attempt) == (StepStatus.RUNNING, 1)


# --- the new run -----------------------------------------------------------------------


async def test_replay__new_run_repeats_the_originals_settings(
    store: Store, ns: str, charge: History
) -> None:
    result = await replay(store, charge, "ship")
    run, original = result.run, charge.run
    assert result.existing is False
    assert run.run_id != original.run_id
    assert (run.status, run.attempt, run.replay_of_run_id) == (
        RunStatus.PENDING,
        1,
        original.run_id,
    )
    same = ("namespace_id", "workflow_name", "version", "task_queue", "input", "retry_policy")
    assert [getattr(run, f) for f in same] == [getattr(original, f) for f in same]
    assert (run.output, run.error, run.worker_id, run.started_at, run.finished_at) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert run.idempotency_key is None and run.replay_count == 0
    assert run.available_at == run.created_at


async def test_replay__input_replaces_the_originals_when_given(
    store: Store, charge: History
) -> None:
    kept = await replay(store, charge, "ship")
    replaced = await replay(store, charge, "ship", input='{"order":8}')
    nulled = await replay(store, charge, "ship", input="null")
    assert (kept.run.input, replaced.run.input, nulled.run.input) == (
        '{"order":7}',
        '{"order":8}',
        "null",
    )


async def test_replay__context_continues_the_callers_trace_with_a_link_to_the_originals(
    store: Store, charge: History
) -> None:
    traced = await replay(store, charge, "ship", trace=CALLER_TRACE)
    untraced = await replay(store, charge, "ship")
    original_trace = json.loads(CONTEXT)["trace"]
    assert json.loads(traced.run.context or "") == {
        "tenant": "t1",
        "trace": {**json.loads(CALLER_TRACE), "links": [original_trace]},
    }
    assert json.loads(untraced.run.context or "") == {
        "tenant": "t1",
        "trace": {"links": [original_trace]},
    }


async def test_replay__run_without_context_gets_only_the_callers_trace(
    store: Store, ns: str, queue: str
) -> None:
    run = await make_run(store, ns, RunStatus.COMPLETED, queue=queue)
    untraced = await store.run_replay(RunReplayParams(ns, run.run_id))
    traced = await store.run_replay(RunReplayParams(ns, run.run_id, trace=CALLER_TRACE))
    assert untraced.run.context is None
    assert json.loads(traced.run.context or "") == {"trace": json.loads(CALLER_TRACE)}


async def test_replay__deadline_is_as_far_after_the_replay_as_after_the_original(
    store: Store, ns: str, queue: str
) -> None:
    run = await make_run(
        store, ns, RunStatus.CANCELED, queue=queue, deadline_at=utcnow() + timedelta(hours=1)
    )
    assert run.deadline_at is not None
    allowed = run.deadline_at - run.created_at
    replayed = (await store.run_replay(RunReplayParams(ns, run.run_id))).run
    assert replayed.deadline_at == replayed.created_at + allowed


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED])
async def test_replay__every_terminal_status_replays(
    store: Store, ns: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status)
    replayed = (await store.run_replay(RunReplayParams(ns, run.run_id))).run
    assert (replayed.status, replayed.replay_of_run_id) == (RunStatus.PENDING, run.run_id)


# --- the original ----------------------------------------------------------------------


async def test_replay__original_is_byte_for_byte_unchanged(
    backend: Backend, store: Store, ns: str, charge: History
) -> None:
    run_id = charge.run.run_id
    before = (
        await raw_rows(backend, RUNS_TABLE, "id", run_id),
        await raw_rows(backend, STEPS_TABLE, "workflow_run_id", run_id),
    )
    assert len(before[0]) == 1 and len(before[1]) == 5
    for from_step_id in ("ship", "charge", None):
        await replay(store, charge, from_step_id)
    after = (
        await raw_rows(backend, RUNS_TABLE, "id", run_id),
        await raw_rows(backend, STEPS_TABLE, "workflow_run_id", run_id),
    )
    assert after == before


async def test_replay__original_shows_its_replays_and_lists_them(
    store: Store, ns: str, charge: History
) -> None:
    first = await replay(store, charge, "ship")
    second = await replay(store, charge, None)
    original = await get_run(store, ns, charge.run.run_id)
    assert original.replay_count == 2
    assert (first.run.replay_count, (await get_run(store, ns, first.run.run_id)).replay_count) == (
        0,
        0,
    )
    page = await list_runs(store, ns, run_filter=RunFilter(replay_of_run_id=charge.run.run_id))
    assert ids(page) == [first.run.run_id, second.run.run_id]
    everything = await list_runs(store, ns)
    counts = {run.run_id: run.replay_count for run in everything.items}
    assert counts[charge.run.run_id] == 2


async def test_replay__a_replay_can_be_replayed(store: Store, ns: str, queue: str) -> None:
    run = await make_run(store, ns, RunStatus.COMPLETED, queue=queue)
    child = (await store.run_replay(RunReplayParams(ns, run.run_id))).run
    await store.run_cancel(RunCancelParams(ns, child.run_id))
    grandchild = (await store.run_replay(RunReplayParams(ns, child.run_id))).run
    assert grandchild.replay_of_run_id == child.run_id
    assert (await get_run(store, ns, run.run_id)).replay_count == 1
    assert (await get_run(store, ns, child.run_id)).replay_count == 1


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SLEEPING])
async def test_replay__run_not_terminal_is_refused_and_nothing_is_made(
    store: Store, ns: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status)
    before = await snapshot(store, ns, run.run_id)
    with pytest.raises(RunNotTerminal) as caught:
        await store.run_replay(RunReplayParams(ns, run.run_id))
    assert (caught.value.run_id, caught.value.status) == (run.run_id, status)
    assert ids(await list_runs(store, ns)) == [run.run_id]
    assert await snapshot(store, ns, run.run_id) == before


async def test_replay__unknown_step_is_refused_naming_it(
    store: Store, ns: str, charge: History
) -> None:
    with pytest.raises(StepNotFound) as caught:
        await replay(store, charge, "refund")
    assert (caught.value.run_id, caught.value.step_id) == (charge.run.run_id, "refund")
    assert ids(await list_runs(store, ns)) == [charge.run.run_id]


async def test_replay__unknown_run_or_other_namespace_is_not_found(
    store: Store, ns: str, charge: History
) -> None:
    with pytest.raises(RunNotFound):
        await store.run_replay(RunReplayParams(ns, uuid7()))
    with pytest.raises(RunNotFound):
        await store.run_replay(RunReplayParams(f"{ns}-other", charge.run.run_id))


# --- idempotency -----------------------------------------------------------------------


async def test_replay__same_idempotency_key_returns_the_first_replay(
    store: Store, ns: str, charge: History
) -> None:
    first = await replay(store, charge, "ship", idempotency_key="retry-7")
    again = await replay(store, charge, "charge", idempotency_key="retry-7")
    assert again.existing is True
    assert again.run.run_id == first.run.run_id
    assert again.run.idempotency_key == "retry-7"
    assert (await get_run(store, ns, charge.run.run_id)).replay_count == 1


async def test_replay__key_of_another_run_is_a_conflict(
    store: Store, ns: str, queue: str, charge: History
) -> None:
    await create_run(store, ns, f"{queue}-x", idempotency_key="taken")
    with pytest.raises(IdempotencyConflict):
        await replay(store, charge, "ship", idempotency_key="taken")
    other = await make_run(store, ns, RunStatus.COMPLETED)
    await store.run_replay(RunReplayParams(ns, other.run_id, idempotency_key="replayed"))
    with pytest.raises(IdempotencyConflict):
        await replay(store, charge, "ship", idempotency_key="replayed")
    assert (await get_run(store, ns, charge.run.run_id)).replay_count == 0


async def test_replay__concurrent_replays_with_one_key_make_one_run(
    store: Store, ns: str, charge: History
) -> None:
    results = await asyncio.gather(
        *(replay(store, charge, "ship", idempotency_key="once") for _ in range(5))
    )
    assert len({r.run.run_id for r in results}) == 1
    assert sorted(r.existing for r in results) == [False, True, True, True, True]
    assert (await get_run(store, ns, charge.run.run_id)).replay_count == 1


# --- the copy is generic ---------------------------------------------------------------

# Columns a replay's run leaves to their defaults: what the original did, not what it was.
RUN_COLUMNS_NOT_COPIED = {
    "output",
    "error",
    "worker_id",
    "lease_id",
    "lease_expires_at",
    "parent_run_id",
    "parent_step_attempt_id",
    "started_at",
    "finished_at",
    "wake_up_at",
    # A replay is a new run: it has crashed no worker yet, nor been claimed.
    "crash_count",
    "claimed_at",
    # Nor holds a concurrency slot: it takes one when claimed.
    "holds_slot",
}


def inserted_columns(statement: str, table: str) -> set[str]:
    found = re.search(rf"INSERT INTO {table} \(([^)]*)\)", statement)
    assert found, statement
    return {column.strip() for column in found[1].split(",")}


async def test_replay__step_copy_writes_every_column_of_the_step_table(backend: Backend) -> None:
    """A column added later (a new step kind's) must be copied too, or this fails."""
    statement = load_queries(backend.migrations_package)["steps_copy"]
    assert inserted_columns(statement, STEPS_TABLE) == await table_columns(backend, STEPS_TABLE)
    assert "kind" not in statement.split("FROM", 1)[1]  # every kind is copied


async def test_replay__run_insert_decides_every_column_of_the_run_table(backend: Backend) -> None:
    """A column added later (priority, a concurrency key) must be decided for replays."""
    statement = load_queries(backend.migrations_package)["run_replay_insert"]
    columns = await table_columns(backend, RUNS_TABLE)
    assert inserted_columns(statement, RUNS_TABLE) == columns - RUN_COLUMNS_NOT_COPIED
