"""run_wait with SIGNAL waits, and signal_send: the inbox, consumption, parking, waking."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from storage import LeaseLost, RunAlreadyTerminal, RunNotFound, Store
from storage.records import (
    RunCancelParams,
    RunHeartbeatParams,
    RunStatus,
    StepKind,
    StepStatus,
)
from tests.storage.helpers import (
    LEASE,
    all_steps,
    claim,
    claim_eventually,
    get_run,
    lease_of,
    start_run,
)
from tests.storage.waits_helpers import expire_eventually, send_signal, signal, wait_for


async def test_signal_wait__parks_the_run_waiting_without_a_lease(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    result = await wait_for(store, claimed, signal("approval", "approved"))
    assert result.run.status is RunStatus.WAITING
    assert result.run.available_at is None and result.run.wake_up_at is None
    [step] = result.steps
    assert (step.kind, step.status, step.wait_name) == (
        StepKind.SIGNAL,
        StepStatus.RUNNING,
        "approved",
    )
    with pytest.raises(LeaseLost):
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    assert (await claim(store, ns, queue)).claimed == []


async def test_signal_wait__a_signal_resolves_it_and_wakes_the_run(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, signal("approval", "approved"))
    sent = await send_signal(store, ns, claimed.run.run_id, "approved", {"by": "ann"})
    assert sent.signal.consumed_at is not None and not sent.existing
    assert (await get_run(store, ns, claimed.run.run_id)).status is RunStatus.PENDING
    again = await claim_eventually(store, ns, queue)
    [step] = [s for s in again.steps if s.step_id == "approval"]
    assert step.status is StepStatus.COMPLETED
    assert json.loads(step.output or "null") == {"by": "ann"}
    assert sent.signal.consumed_by_step_attempt_id == step.step_attempt_id


async def test_signal_wait__a_signal_sent_before_is_consumed_at_once(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    sent = await send_signal(store, ns, claimed.run.run_id, "approved", "yes")
    assert sent.signal.consumed_at is None
    result = await wait_for(store, claimed, signal("approval", "approved"))
    assert result.run.status is RunStatus.RUNNING  # resolved now: the lease is kept
    assert result.steps[0].status is StepStatus.COMPLETED
    assert json.loads(result.steps[0].output or "null") == "yes"


async def test_signal_wait__signals_are_consumed_oldest_first_each_once(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    for payload in ("first", "second", "third"):
        await send_signal(store, ns, claimed.run.run_id, "tick", payload)
    result = await wait_for(store, claimed, signal("a", "tick"), signal("b", "tick"))
    assert [json.loads(s.output or "null") for s in result.steps] == ["first", "second"]
    third = await wait_for(store, claimed, signal("c", "tick"), signal("d", "tick"))
    assert json.loads(third.steps[0].output or "null") == "third"
    assert third.steps[1].status is StepStatus.RUNNING
    assert third.run.status is RunStatus.WAITING


async def test_signal_wait__a_completed_wait_is_answered_as_recorded(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, signal("approval", "approved"))
    await send_signal(store, ns, claimed.run.run_id, "approved", 1)
    again = await claim_eventually(store, ns, queue)
    await send_signal(store, ns, claimed.run.run_id, "approved", 2)
    result = await wait_for(store, again, signal("approval", "approved"))
    assert json.loads(result.steps[0].output or "null") == 1
    assert result.run.status is RunStatus.RUNNING


async def test_signal_wait__times_out_without_output(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    result = await wait_for(store, claimed, signal("approval", "approved", timedelta(0)))
    assert result.run.status is RunStatus.WAITING and result.run.wake_up_at is not None
    assert await expire_eventually(store) >= 1
    again = await claim_eventually(store, ns, queue)
    [step] = again.steps
    assert (step.status, step.output) == (StepStatus.COMPLETED, None)


async def test_signal__idempotency_key_returns_the_first_signal(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    first = await send_signal(store, ns, claimed.run.run_id, "s", 1, key="k")
    second = await send_signal(store, ns, claimed.run.run_id, "s", 2, key="k")
    assert second.existing and second.signal == first.signal


async def test_signal__to_a_terminal_run_is_refused(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_cancel(RunCancelParams(ns, claimed.run.run_id))
    with pytest.raises(RunAlreadyTerminal):
        await send_signal(store, ns, claimed.run.run_id, "s", 1)
    with pytest.raises(RunNotFound):
        await send_signal(store, ns, "0190a000-0000-7000-8000-000000000000", "s", 1)


async def test_signal_wait__cancel_while_waiting_ends_the_wait(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, signal("approval", "approved"))
    canceled = await store.run_cancel(RunCancelParams(ns, claimed.run.run_id))
    assert canceled.status is RunStatus.CANCELED
    [step] = await all_steps(store, ns, claimed.run.run_id)
    assert step.status is StepStatus.FAILED
    with pytest.raises(RunAlreadyTerminal):
        await send_signal(store, ns, claimed.run.run_id, "approved", 1)


async def test_signal_wait__a_stale_lease_cannot_register(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, signal("approval", "approved"))
    await send_signal(store, ns, claimed.run.run_id, "approved", 1)
    await claim_eventually(store, ns, queue)
    with pytest.raises(LeaseLost):
        await wait_for(store, claimed, signal("other", "x"))
