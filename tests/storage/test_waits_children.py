"""run_wait with CHILD waits: the child is created with the step, and its end resolves
the parent's wait whichever way it ends; a parent's cancel cancels its children."""

from __future__ import annotations

import asyncio
import json

from storage import Store
from storage.errors import ExecutionAlreadyEnded, LeaseLost
from storage.records import (
    RunCancelParams,
    RunCompleteParams,
    RunFailParams,
    RunFilter,
    RunListParams,
    RunStatus,
    StepStatus,
)
from tests.storage.helpers import (
    all_steps,
    claim,
    claim_eventually,
    failure,
    get_run,
    lease_of,
    start_run,
)
from tests.storage.waits_helpers import child, send_signal, signal, wait_for


async def test_child_wait__creates_the_child_with_the_step(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    result = await wait_for(store, parent, child("charge", queue, input={"amount": 5}))
    [step] = result.steps
    assert result.run.status is RunStatus.WAITING
    assert step.child_workflow_run_id is not None
    kid = await get_run(store, ns, step.child_workflow_run_id)
    assert (kid.parent_run_id, kid.parent_step_attempt_id) == (
        parent.run.run_id,
        step.step_attempt_id,
    )
    assert (kid.status, kid.workflow_name, json.loads(kid.input or "null")) == (
        RunStatus.PENDING,
        "child",
        {"amount": 5},
    )
    children = await store.run_list(
        RunListParams(ns, RunFilter(parent_run_id=parent.run.run_id), limit=10)
    )
    assert [r.run_id for r in children.items] == [kid.run_id]


async def test_child_wait__the_childs_completion_wakes_the_parent(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    result = await wait_for(store, parent, child("charge", queue))
    kid = await claim_eventually(store, ns, queue)
    assert kid.run.run_id == result.steps[0].child_workflow_run_id
    await store.run_complete(RunCompleteParams(lease_of(kid), json.dumps({"ok": True})))
    assert (await get_run(store, ns, parent.run.run_id)).status is RunStatus.PENDING
    again = await claim_eventually(store, ns, queue)
    assert again.run.run_id == parent.run.run_id
    [step] = again.steps
    assert step.status is StepStatus.COMPLETED and step.error is None
    assert json.loads(step.output or "null") == {"ok": True}


async def test_child_wait__a_failed_child_completes_the_step_with_its_failure(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    await wait_for(store, parent, child("charge", queue))
    kid = await claim_eventually(store, ns, queue)
    await store.run_fail(RunFailParams(lease_of(kid), failure("Declined", non_retryable=True)))
    again = await claim_eventually(store, ns, queue)
    [step] = again.steps
    assert step.status is StepStatus.COMPLETED
    assert step.error is not None and step.error.type == "Declined"


async def test_child_wait__the_parent_wakes_once_every_wait_ended(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    waits = [child(f"c{n}", queue, input=n) for n in range(3)]
    result = await wait_for(store, parent, *waits, signal("go", "go"))
    kids = (await claim(store, ns, queue)).claimed
    assert sorted(k.run.run_id for k in kids) == sorted(
        s.child_workflow_run_id or "" for s in result.steps[:3]
    )
    for kid in kids:
        assert (await get_run(store, ns, parent.run.run_id)).status is RunStatus.WAITING
        await store.run_complete(RunCompleteParams(lease_of(kid), kid.run.input))
    assert (await get_run(store, ns, parent.run.run_id)).status is RunStatus.WAITING
    await send_signal(store, ns, parent.run.run_id, "go", True)
    again = await claim_eventually(store, ns, queue)
    outputs = {s.step_id: json.loads(s.output or "null") for s in again.steps}
    assert outputs == {"c0": 0, "c1": 1, "c2": 2, "go": True}


async def test_child_wait__canceling_the_parent_cancels_its_children(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    result = await wait_for(store, parent, child("charge", queue))
    kid_id = result.steps[0].child_workflow_run_id or ""
    kid = await claim_eventually(store, ns, queue)
    grandchild = await wait_for(store, kid, child("deeper", queue))
    grand_id = grandchild.steps[0].child_workflow_run_id or ""
    await store.run_cancel(RunCancelParams(ns, parent.run.run_id, reason="stop"))
    for run_id in (parent.run.run_id, kid_id, grand_id):
        run = await get_run(store, ns, run_id)
        assert run.status is RunStatus.CANCELED, run
    for run_id in (parent.run.run_id, kid_id):
        assert all(s.status is StepStatus.FAILED for s in await all_steps(store, ns, run_id))
    assert (await claim(store, ns, queue)).claimed == []


async def test_child_wait__a_canceled_child_resolves_the_parents_wait(
    store: Store, ns: str, queue: str
) -> None:
    parent = await start_run(store, ns, queue)
    result = await wait_for(store, parent, child("charge", queue))
    kid_id = result.steps[0].child_workflow_run_id or ""
    await store.run_cancel(RunCancelParams(ns, kid_id, reason="no"))
    again = await claim_eventually(store, ns, queue)
    [step] = again.steps
    assert step.status is StepStatus.COMPLETED
    assert step.error is not None and step.error.type == "CANCELED"


async def test_child_wait__children_ending_at_once_wake_the_parent(
    store: Store, ns: str, queue: str
) -> None:
    """Each child's end deletes its own wait and checks for the others: ended together,
    each must not miss the others' ends (the parent would wait forever)."""
    for _ in range(5):
        parent = await start_run(store, ns, queue)
        await wait_for(store, parent, *(child(f"c{n}", queue) for n in range(8)))
        kids = (await claim(store, ns, queue)).claimed
        assert len(kids) == 8
        # Failures: each in a transaction of its own (completions are group-committed).
        fatal = failure("Fatal", non_retryable=True)
        await asyncio.gather(*(store.run_fail(RunFailParams(lease_of(kid), fatal)) for kid in kids))
        assert (await get_run(store, ns, parent.run.run_id)).status is RunStatus.PENDING
        again = await claim_eventually(store, ns, queue)
        assert again.run.run_id == parent.run.run_id
        await store.run_complete(RunCompleteParams(lease_of(again), "null"))


async def test_child_wait__a_parents_cancel_races_its_children_ending(
    store: Store, ns: str, queue: str
) -> None:
    """A child's end locks the child, then its parent (to resolve the CHILD wait); a cancel
    locks the parent and its children. Raced many times, neither call may fail (on
    PostgreSQL, a lock-order deadlock would abort one with STORAGE_UNAVAILABLE)."""
    fatal = failure("Fatal", non_retryable=True)
    for round_number in range(25):
        parent = await start_run(store, ns, queue)
        await wait_for(store, parent, *(child(f"c{n}", queue) for n in range(6)))
        kids = (await claim(store, ns, queue)).claimed
        assert len(kids) == 6
        endings = [
            store.run_fail(RunFailParams(lease_of(kid), fatal))
            if n % 2
            else store.run_complete(RunCompleteParams(lease_of(kid), "1"))
            for n, kid in enumerate(kids)
        ]
        cancel = store.run_cancel(RunCancelParams(ns, parent.run.run_id, reason="stop"))
        # Half the rounds start the cancel first, half the children's ends.
        calls = [cancel, *endings] if round_number % 2 else [*endings, cancel]
        results = await asyncio.gather(*calls, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        # A child canceled before its own end was recorded: that end is refused (its
        # lease is gone), which is the cancel winning, not a failure of the storage.
        assert all(isinstance(e, (LeaseLost, ExecutionAlreadyEnded)) for e in errors), errors
        assert (await get_run(store, ns, parent.run.run_id)).status is RunStatus.CANCELED
        for kid in kids:
            assert (await get_run(store, ns, kid.run.run_id)).status.is_terminal
    assert (await claim(store, ns, queue)).claimed == []
