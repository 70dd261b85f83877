"""A RegisterWaits sent again (its answer was lost), and replays of runs that waited."""

from __future__ import annotations

import json

import pytest

from storage import Store
from storage.errors import ExecutionAlreadyEnded
from storage.records import (
    RunCompleteParams,
    RunReplayParams,
    RunStatus,
    StepCompleteParams,
    StepKind,
    StepStatus,
)
from tests.storage.helpers import all_steps, claim_eventually, lease_of, start_run
from tests.storage.waits_helpers import child, send_signal, signal, wait_for


async def test_register_waits__repeated_under_the_parked_lease_answers_what_was_recorded(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    first = await wait_for(store, claimed, signal("a", "go"), child("c", queue))
    again = await wait_for(store, claimed, signal("a", "go"), child("c", queue))
    assert again.run == first.run and again.steps == first.steps
    assert len(await all_steps(store, ns, claimed.run.run_id)) == 2  # no second child
    with pytest.raises(ExecutionAlreadyEnded):
        await wait_for(store, claimed, signal("b", "go"))


async def test_replay__copies_the_waits_resolved_before_from_step_id(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, signal("approval", "approved"))
    await send_signal(store, ns, claimed.run.run_id, "approved", {"ok": True})
    again = await claim_eventually(store, ns, queue)
    lease = lease_of(again)
    await store.step_complete(StepCompleteParams(lease, '"shipped"', step_id="ship"))
    await store.run_complete(RunCompleteParams(lease, '"done"'))
    replay = await store.run_replay(RunReplayParams(ns, claimed.run.run_id, from_step_id="ship"))
    assert replay.run.status is RunStatus.PENDING
    [copied] = await all_steps(store, ns, replay.run.run_id)
    assert (copied.step_id, copied.kind, copied.status, copied.wait_name) == (
        "approval",
        StepKind.SIGNAL,
        StepStatus.COMPLETED,
        "approved",
    )
    assert json.loads(copied.output or "null") == {"ok": True}
