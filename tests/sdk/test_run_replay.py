"""Replay through the SDK end to end, on both backends: a run fails at step 3 of 4, the
worker's code is fixed, and the run is replayed from step 3: steps 1 and 2 do not run
again, 3 and 4 do, and the replay's result is the fixed code's. Batches through the SDK,
with their progress callback, async and sync."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from stepline import (
    BatchResult,
    Client,
    NonRetryableError,
    RunNotTerminal,
    RunStatus,
    StepNotFound,
    SyncClient,
    WorkflowContext,
    workflow,
)
from tests.sdk.conftest import running


def make_pipeline(effects: Counter[str], fixed: bool) -> Any:
    """Four steps, each counting its side effect; before the fix, step 3 fails for good."""

    def extract(order: int) -> dict[str, int]:
        effects["extract"] += 1
        return {"order": order, "items": 3}

    def price(data: dict[str, int]) -> int:
        effects["price"] += 1
        return data["items"] * 10

    def discount(total: int) -> int:
        effects["discount"] += 1
        if not fixed:
            raise NonRetryableError("discount service rejects the total")
        return total - 5

    def invoice(total: int) -> str:
        effects["invoice"] += 1
        return f"invoice {total}"

    @workflow(name="pipeline")
    async def pipeline(ctx: WorkflowContext, order: int) -> dict[str, Any]:
        data = await ctx.step.run("extract", extract, order)
        total = await ctx.step.run("price", price, data)
        discounted = await ctx.step.run("discount", discount, total)
        sent = await ctx.step.run("invoice", invoice, discounted)
        return {"order": data["order"], "total": discounted, "invoice": sent}

    return pipeline


async def test_replay__from_the_failing_step_runs_only_it_and_what_follows(
    client: Client, address: str, ns: str
) -> None:
    effects: Counter[str] = Counter()
    async with running(address, ns, [make_pipeline(effects, fixed=False)]):
        original = await client.start("pipeline", 42)
        failed = await client.wait(original.run_id, timeout=30)
    assert failed.status is RunStatus.FAILED
    assert failed.error is not None and "rejects" in failed.error.message
    assert effects == Counter(extract=1, price=1, discount=1)

    # The fix ships: a new worker with the corrected code. Replay from the failing step.
    async with running(address, ns, [make_pipeline(effects, fixed=True)]):
        replay = await client.replay(original.run_id, from_step="discount")
        assert replay.replay_of_run_id == original.run_id
        result = await client.result(replay.run_id, timeout=30)

    assert result == {"order": 42, "total": 25, "invoice": "invoice 25"}
    assert effects == Counter(extract=1, price=1, discount=2, invoice=1)
    steps = await client.steps(replay.run_id)
    assert [(s.step_id, s.status, bool(s.copied_from_step_attempt_id)) for s in steps] == [
        ("extract", "COMPLETED", True),
        ("price", "COMPLETED", True),
        ("discount", "COMPLETED", False),
        ("invoice", "COMPLETED", False),
    ]
    again = await client.get(original.run_id)
    assert (again.status, again.replay_count) == (RunStatus.FAILED, 1)
    assert again.error == failed.error


async def test_replay__input_and_idempotency_key_and_refusals(
    client: Client, address: str, ns: str
) -> None:
    effects: Counter[str] = Counter()
    async with running(address, ns, [make_pipeline(effects, fixed=True)]):
        done = await client.start("pipeline", 1)
        await client.wait(done.run_id, timeout=30)
        first = await client.replay(done.run_id, input=2, idempotency_key="again-1")
        same = await client.replay(done.run_id, input=3, idempotency_key="again-1")
        assert (same.run_id, same.existing, first.existing) == (first.run_id, True, False)
        assert (await client.result(first.run_id, timeout=30))["order"] == 2
    with pytest.raises(StepNotFound) as caught:
        await client.replay(done.run_id, from_step="nope")
    assert caught.value.metadata["step_id"] == "nope"
    pending = await client.start("pipeline", 3, task_queue=f"{ns}-idle")
    with pytest.raises(RunNotTerminal):
        await client.replay(pending.run_id)


async def test_batches__loop_over_pages_with_progress(client: Client, ns: str) -> None:
    runs = [await client.start("report", n, task_queue=f"{ns}-idle") for n in range(5)]
    seen: list[tuple[int, int, bool]] = []

    def progress(totals: BatchResult) -> None:
        seen.append((totals.pages, totals.affected_count, totals.done))

    dry = await client.batch_cancel(workflow_name="report", dry_run=True, page_size=2)
    assert (dry.affected_count, dry.pages) == (5, 3)
    canceled = await client.batch_cancel(
        workflow_name="report", reason="cleanup", page_size=2, progress=progress
    )
    assert canceled.run_ids == [run.run_id for run in runs] == dry.run_ids
    assert seen == [(1, 2, False), (2, 4, False), (3, 5, True)]
    replayed = await client.batch_replay(statuses=["canceled"], page_size=3)
    assert (replayed.affected_count, replayed.skipped_count) == (5, 0)
    assert replayed.batch_id
    replays = [await client.get(run_id) for run_id in replayed.run_ids]
    assert [r.replay_of_run_id for r in replays] == [run.run_id for run in runs]
    # The same batch again: every page is answered with the replays it made.
    again = await client.batch_replay(statuses=["canceled"], batch_id=replayed.batch_id)
    assert again.run_ids == replayed.run_ids
    assert {(await client.get(run.run_id)).replay_count for run in runs} == {1}


async def test_sync_client__replays_and_batches(address: str, ns: str) -> None:
    def work() -> tuple[str, BatchResult, list[int]]:
        pages: list[int] = []
        with SyncClient(address, namespace=ns) as sync:
            run = sync.start("report", 1, task_queue=f"{ns}-idle")
            sync.cancel(run.run_id)
            replay = sync.replay(run.run_id)
            batch = sync.batch_cancel(
                replay_of_run_id=run.run_id, progress=lambda t: pages.append(t.pages)
            )
            return replay.run_id, batch, pages

    replay_id, batch, pages = await asyncio.to_thread(work)
    assert (batch.run_ids, pages) == ([replay_id], [1])
