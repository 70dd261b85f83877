"""run_batch_cancel and run_batch_replay: chunk by chunk over the runs matching the list
filters, each chunk one transaction, a repeated chunk never acting twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

import psycopg
import pytest

from storage import Store, StoreError
from storage.records import (
    Cursor,
    Run,
    RunBatchCancelParams,
    RunBatchParams,
    RunBatchReplayParams,
    RunBatchResult,
    RunCompleteParams,
    RunFilter,
    RunReplayParams,
    RunStatus,
    StepBeginParams,
    StepCompleteParams,
    StepStatus,
)
from storage.rules import cancel_failure
from tests.storage.helpers import all_steps, create_run, get_run, lease_of, start_run
from tests.storage.histories import failed_at_charge
from tests.storage.listing import ids, list_runs
from tests.storage.rawsql import RUNS_TABLE, STEPS_TABLE, Backend, execute, raw_rows
from tests.storage.states import make_run

S = RunStatus
ACTIVE = (S.PENDING, S.RUNNING, S.SLEEPING)
# Created in this order; the active ones are every other run.
POPULATION = [S.PENDING, S.COMPLETED, S.RUNNING, S.FAILED, S.SLEEPING, S.CANCELED, S.PENDING]

Chunk = Callable[[RunBatchParams], Awaitable[RunBatchResult]]


async def population(store: Store, ns: str, workflow_name: str = "wf") -> list[Run]:
    return [await make_run(store, ns, status, workflow_name=workflow_name) for status in POPULATION]


def batch(
    ns: str,
    limit: int,
    *,
    after: Cursor | None = None,
    as_of: datetime | None = None,
    dry_run: bool = False,
) -> RunBatchParams:
    """A chunk over every run of the namespace."""
    return RunBatchParams(ns, RunFilter(), limit, after, as_of, dry_run)


def canceler(store: Store, reason: str = "cleanup") -> Chunk:
    async def chunk(params: RunBatchParams) -> RunBatchResult:
        return await store.run_batch_cancel(RunBatchCancelParams(params, reason))

    return chunk


def replayer(store: Store, batch_id: str = "batch-1", from_step_id: str | None = None) -> Chunk:
    async def chunk(params: RunBatchParams) -> RunBatchResult:
        return await store.run_batch_replay(RunBatchReplayParams(params, batch_id, from_step_id))

    return chunk


async def walk(chunk: Chunk, first: RunBatchParams) -> list[RunBatchResult]:
    """Every chunk of a batch, each continuing after the one before, as a client would."""
    results = [await chunk(first)]
    while results[-1].has_more:
        previous = results[-1]
        results.append(await chunk(replace(first, after=previous.last, as_of=previous.as_of)))
    return results


def acted(results: list[RunBatchResult]) -> list[str]:
    return [run_id for result in results for run_id in result.run_ids]


async def statuses(store: Store, ns: str) -> list[RunStatus]:
    return [run.status for run in (await list_runs(store, ns)).items]


# --- batch cancel ----------------------------------------------------------------------


async def test_batch_cancel__cancels_active_runs_chunk_by_chunk_and_skips_terminal_ones(
    store: Store, ns: str
) -> None:
    runs = await population(store, ns)
    results = await walk(canceler(store, "cleanup"), batch(ns, 2))
    assert [(r.affected, r.skipped, r.has_more) for r in results] == [
        (1, 1, True),
        (1, 1, True),
        (1, 1, True),
        (1, 0, False),
    ]
    active = [run.run_id for run in runs if run.status in ACTIVE]
    assert acted(results) == active
    for run_id in active:
        run = await get_run(store, ns, run_id)
        assert (run.status, run.error) == (S.CANCELED, cancel_failure("cleanup"))
    assert (
        await statuses(store, ns)
        == [S.CANCELED, S.COMPLETED, S.CANCELED, S.FAILED] + [S.CANCELED] * 3
    )


async def test_batch_cancel__open_attempts_fail_with_the_reason(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.step_begin(StepBeginParams(lease_of(claimed), "slow"))
    sleeping = await make_run(store, ns, S.SLEEPING)
    await walk(canceler(store, "stop"), batch(ns, 10))
    for run_id in (claimed.run.run_id, sleeping.run_id):
        (step,) = await all_steps(store, ns, run_id)
        assert (step.status, step.error) == (StepStatus.FAILED, cancel_failure("stop"))


async def test_batch_cancel__dry_run_changes_nothing_and_answers_as_a_real_call_would(
    backend: Backend, store: Store, ns: str
) -> None:
    runs = await population(store, ns)
    before = [await raw_rows(backend, RUNS_TABLE, "id", run.run_id) for run in runs]
    dry = await walk(canceler(store), batch(ns, 3, dry_run=True))
    assert [await raw_rows(backend, RUNS_TABLE, "id", run.run_id) for run in runs] == before
    real = await walk(canceler(store), batch(ns, 3))
    assert [(r.run_ids, r.affected, r.skipped, r.has_more) for r in dry] == [
        (r.run_ids, r.affected, r.skipped, r.has_more) for r in real
    ]


async def test_batch_cancel__applies_the_list_filters(store: Store, ns: str) -> None:
    keep = await make_run(store, ns, S.PENDING, workflow_name="keep")
    runs = await population(store, ns, workflow_name="drop")
    pending = RunFilter(statuses=(S.PENDING,), workflow_name="drop")
    results = await walk(canceler(store), RunBatchParams(ns, pending, 1))
    assert acted(results) == [runs[0].run_id, runs[-1].run_id]
    assert sum(r.skipped for r in results) == 0
    assert (await get_run(store, ns, keep.run_id)).status is S.PENDING
    assert (await get_run(store, ns, runs[2].run_id)).status is S.RUNNING


async def test_batch_cancel__repeated_chunk_never_cancels_a_run_twice(
    store: Store, ns: str
) -> None:
    runs = await population(store, ns)
    first = await canceler(store, "first")(batch(ns, 3))
    again = await canceler(store, "again")(batch(ns, 3, as_of=first.as_of))
    assert first.run_ids == [runs[0].run_id, runs[2].run_id]
    assert (again.run_ids, again.affected, again.skipped) == ([], 0, 3)
    assert again.last == first.last
    for run_id in first.run_ids:
        assert (await get_run(store, ns, run_id)).error == cancel_failure("first")


async def test_batch_cancel__repeated_chunk_with_a_status_filter_moves_on_to_the_next_runs(
    store: Store, ns: str
) -> None:
    runs = [await make_run(store, ns, S.PENDING) for _ in range(4)]
    pending = RunBatchParams(ns, RunFilter(statuses=(S.PENDING,)), 2)
    first = await canceler(store, "first")(pending)
    # The client lost the answer and repeats the call: the canceled runs no longer match.
    again = await canceler(store, "again")(replace(pending, as_of=first.as_of))
    assert first.run_ids == [runs[0].run_id, runs[1].run_id]
    assert again.run_ids == [runs[2].run_id, runs[3].run_id]
    reasons = [(await get_run(store, ns, run.run_id)).error for run in runs]
    assert reasons == [cancel_failure("first")] * 2 + [cancel_failure("again")] * 2


async def test_batch__runs_created_after_the_first_chunk_are_not_part_of_the_batch(
    store: Store, ns: str, queue: str
) -> None:
    runs = [await make_run(store, ns, S.PENDING) for _ in range(2)]
    first = await canceler(store)(batch(ns, 1))
    late = await create_run(store, ns, queue)
    rest = await walk(canceler(store), batch(ns, 1, after=first.last, as_of=first.as_of))
    assert first.run_ids + acted(rest) == [run.run_id for run in runs]
    assert (await get_run(store, ns, late.run_id)).status is S.PENDING


async def test_batch_cancel__chunk_is_atomic(private_backend: Backend, ns: str, queue: str) -> None:
    store = private_backend.store
    before = await make_run(store, ns, S.PENDING)
    claimed = await start_run(store, ns, queue)
    await store.step_begin(StepBeginParams(lease_of(claimed), "poison"))
    after = await make_run(store, ns, S.PENDING)
    await poison_steps(private_backend)
    with pytest.raises((StoreError, psycopg.Error)):
        await canceler(store)(batch(ns, 10))
    assert await statuses(store, ns) == [S.PENDING, S.RUNNING, S.PENDING]
    assert [before.run_id, after.run_id] == [
        run.run_id for run in (await list_runs(store, ns)).items if run.status is S.PENDING
    ]


# --- batch replay ----------------------------------------------------------------------


async def test_batch_replay__replays_terminal_runs_that_reached_the_step_and_skips_others(
    store: Store, ns: str, queue: str
) -> None:
    first = await failed_at_charge(store, ns, f"{queue}-1")
    never_shipped = await make_run(store, ns, S.COMPLETED)
    running = await make_run(store, ns, S.RUNNING)
    second = await failed_at_charge(store, ns, f"{queue}-2")
    scope = RunBatchParams(ns, RunFilter(), 2, as_of=None)
    results = await walk(replayer(store, from_step_id="ship"), scope)
    assert [(r.affected, r.skipped) for r in results][:2] == [(1, 1), (1, 1)]
    replays = [await get_run(store, ns, run_id) for run_id in acted(results)]
    assert [r.replay_of_run_id for r in replays] == [first.run.run_id, second.run.run_id]
    for replayed in replays:
        steps = await all_steps(store, ns, replayed.run_id)
        assert [s.step_id for s in steps] == ["validate", "nap", "charge"]
    for left in (never_shipped, running):
        assert (await get_run(store, ns, left.run_id)).replay_count == 0


async def test_batch_replay__repeated_chunk_answers_the_same_replays_and_makes_none(
    store: Store, ns: str
) -> None:
    runs = [await make_run(store, ns, S.FAILED) for _ in range(3)]
    failed = RunBatchParams(ns, RunFilter(statuses=(S.FAILED,)), 2)
    first = await replayer(store, "b-1")(failed)
    again = await replayer(store, "b-1")(replace(failed, as_of=first.as_of))
    assert (again.run_ids, again.affected, again.skipped) == (first.run_ids, 2, 0)
    assert [(await get_run(store, ns, r.run_id)).replay_count for r in runs] == [1, 1, 0]
    # The rest of the batch, then the whole batch once more: still one replay each.
    rest = await replayer(store, "b-1")(replace(failed, after=first.last, as_of=first.as_of))
    whole = await walk(replayer(store, "b-1"), replace(failed, as_of=first.as_of))
    assert acted(whole) == first.run_ids + rest.run_ids
    assert [(await get_run(store, ns, r.run_id)).replay_count for r in runs] == [1, 1, 1]
    # Another batch is another replay.
    await walk(replayer(store, "b-2"), replace(failed, as_of=first.as_of))
    assert [(await get_run(store, ns, r.run_id)).replay_count for r in runs] == [2, 2, 2]


async def test_batch_replay__a_single_replay_does_not_count_as_the_batchs(
    store: Store, ns: str
) -> None:
    run = await make_run(store, ns, S.COMPLETED)
    single = await store.run_replay(RunReplayParams(ns, run.run_id))
    result = await replayer(store, "b-1")(RunBatchParams(ns, RunFilter(statuses=(S.COMPLETED,)), 5))
    assert result.run_ids != [single.run.run_id]
    assert (await get_run(store, ns, run.run_id)).replay_count == 2


async def test_batch_replay__dry_run_makes_nothing_and_names_the_runs_it_would_replay(
    store: Store, ns: str
) -> None:
    runs = await population(store, ns)
    results = await walk(replayer(store), batch(ns, 4, dry_run=True))
    terminal = [run.run_id for run in runs if run.status.is_terminal]
    assert acted(results) == terminal
    assert sum(r.skipped for r in results) == len(runs) - len(terminal)
    assert ids(await list_runs(store, ns)) == [run.run_id for run in runs]


async def test_batch_replay__originals_are_byte_for_byte_unchanged(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    history = await failed_at_charge(store, ns, queue)
    run_id = history.run.run_id
    before = (
        await raw_rows(backend, RUNS_TABLE, "id", run_id),
        await raw_rows(backend, STEPS_TABLE, "workflow_run_id", run_id),
    )
    await walk(replayer(store, from_step_id="charge"), batch(ns, 10))
    assert (
        await raw_rows(backend, RUNS_TABLE, "id", run_id),
        await raw_rows(backend, STEPS_TABLE, "workflow_run_id", run_id),
    ) == before


async def test_batch_replay__chunk_is_atomic(private_backend: Backend, ns: str, queue: str) -> None:
    store = private_backend.store
    originals = [await completed_with(store, ns, queue, first) for first in ("plain", "poison")]
    await poison_steps(private_backend)
    # The chunk replays both from "after": the first replay is made, then copying the
    # second one's "poison" step fails, and the whole chunk with it.
    with pytest.raises((StoreError, psycopg.Error)):
        await replayer(store, from_step_id="after")(batch(ns, 10))
    for run in originals:
        assert (await get_run(store, ns, run.run_id)).replay_count == 0
    assert ids(await list_runs(store, ns)) == [run.run_id for run in originals]


async def completed_with(store: Store, ns: str, queue: str, first_step: str) -> Run:
    """A COMPLETED run whose steps are `first_step`, then "after"."""
    claimed = await start_run(store, ns, queue)
    for step_id in (first_step, "after"):
        await store.step_complete(StepCompleteParams(lease_of(claimed), '"x"', step_id=step_id))
    return await store.run_complete(RunCompleteParams(lease_of(claimed), '"done"'))


async def poison_steps(backend: Backend) -> None:
    """From now on, writing a step attempt named "poison" fails its transaction."""
    if backend.name == "postgres":
        await execute(
            backend,
            [
                "CREATE FUNCTION stepline_test_poison() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN IF NEW.step_id = 'poison' THEN RAISE EXCEPTION 'poisoned step'; "
                "END IF; RETURN NEW; END $$",
                "CREATE TRIGGER stepline_test_poison BEFORE INSERT OR UPDATE "
                "ON stepline_step_attempts FOR EACH ROW EXECUTE FUNCTION stepline_test_poison()",
            ],
        )
        return
    await execute(
        backend,
        [
            f"CREATE TRIGGER stepline_test_poison_{event} BEFORE {event} "
            "ON stepline_step_attempts WHEN NEW.step_id = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned step'); END"
            for event in ("INSERT", "UPDATE")
        ],
    )
