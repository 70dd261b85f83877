"""The poison policy of a workflow definition: its max_crashes replaces the server's, and
on_poison PAUSE pauses the workflow and puts the run back to PENDING instead of failing
it, in the claim's transaction; ResumeWorkflow gives the run a fresh count (both
backends)."""

from __future__ import annotations

from datetime import timedelta

from storage import Store
from storage.records import ClaimedRun, RunClaimParams, RunStatus, StepBeginParams, StepStatus
from storage.registry import (
    PoisonAction,
    WorkerRegisterParams,
    WorkflowDefinition,
    WorkflowGetParams,
    WorkflowPauseParams,
)
from storage.rules import WORKER_CRASHED
from tests.storage.helpers import LEASE, all_steps, create_run, get_run, lease_of
from tests.storage.test_events import Recorder
from tests.storage.test_poison_runs import claim, crash

WINDOW = timedelta(minutes=1)


async def define(
    store: Store,
    ns: str,
    queue: str,
    *,
    version: str = "v1",
    max_crashes: int | None = None,
    on_poison: PoisonAction = PoisonAction.FAIL,
) -> None:
    """A worker (not the claiming one) registers wf@version with the policy."""
    definition = WorkflowDefinition("wf", version, max_crashes=max_crashes, on_poison=on_poison)
    await store.worker_register(
        WorkerRegisterParams(ns, f"registrar-{version}", queue, (definition,), WINDOW)
    )


async def crash_times(store: Store, ns: str, queue: str, times: int, server_max: int) -> None:
    for _ in range(times):
        (claimed,) = await claim(store, ns, queue, max_crashes=server_max)
        await crash(store, claimed)


async def test_poison_policy__the_definitions_max_crashes_replaces_the_servers(
    store: Store, ns: str, queue: str
) -> None:
    await define(store, ns, queue, max_crashes=2)
    run = await create_run(store, ns, queue)
    await crash_times(store, ns, queue, 2, server_max=5)
    assert await claim(store, ns, queue, max_crashes=5) == []
    failed = await get_run(store, ns, run.run_id)
    assert failed.status is RunStatus.FAILED and failed.crash_count == 2
    assert failed.error is not None and failed.error.type == WORKER_CRASHED


async def test_poison_policy__a_definitions_zero_is_no_limit(
    store: Store, ns: str, queue: str
) -> None:
    await define(store, ns, queue, max_crashes=0)
    await create_run(store, ns, queue)
    await crash_times(store, ns, queue, 4, server_max=2)
    (claimed,) = await claim(store, ns, queue, max_crashes=2)
    assert claimed.run.crash_count == 4 and claimed.run.status is RunStatus.RUNNING


async def test_poison_policy__is_the_runs_versions(store: Store, ns: str, queue: str) -> None:
    await define(store, ns, queue, version="v1", max_crashes=1)
    await define(store, ns, queue, version="v2", max_crashes=5)
    v1 = await create_run(store, ns, queue, version="v1")
    v2 = await create_run(store, ns, queue, version="v2")
    for claimed in await claim(store, ns, queue, max_crashes=5):
        await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue, max_crashes=5)
    assert claimed.run.run_id == v2.run_id and claimed.run.crash_count == 1
    assert (await get_run(store, ns, v1.run_id)).status is RunStatus.FAILED


async def test_poison_policy__a_run_with_no_version_takes_the_crashed_workers(
    store: Store, ns: str, queue: str
) -> None:
    await define(store, ns, queue, version="v1", max_crashes=5)
    await define(store, ns, queue, version="v2", max_crashes=1)
    run = await create_run(store, ns, queue, version="")
    # The worker registered v2: the run it lost is judged by v2's definition.
    (claimed,) = await claim_as(store, ns, queue, "registrar-v2")
    await crash(store, claimed)
    assert await claim(store, ns, queue, max_crashes=5) == []
    assert (await get_run(store, ns, run.run_id)).status is RunStatus.FAILED


async def claim_as(store: Store, ns: str, queue: str, worker_id: str) -> list[ClaimedRun]:
    result = await store.run_claim(
        RunClaimParams(ns, queue, worker_id, (), 10, LEASE, max_crashes=5)
    )
    return result.claimed


async def test_poison_policy__pause_puts_the_run_back_and_pauses_its_workflow(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    await define(store, ns, queue, max_crashes=2, on_poison=PoisonAction.PAUSE)
    run = await create_run(store, ns, queue)
    await crash_times(store, ns, queue, 1, server_max=5)
    (claimed,) = await claim(store, ns, queue, max_crashes=5)
    await store.step_begin(StepBeginParams(lease_of(claimed), "open-step"))
    await crash(store, claimed)
    other = await create_run(store, ns, queue, workflow_name="other")
    recorder.take()
    # The poison run is put back, not claimed; the other workflow's run is.
    (taken,) = await claim(store, ns, queue, max_crashes=5)
    assert taken.run.run_id == other.run_id
    back = await get_run(store, ns, run.run_id)
    assert back.status is RunStatus.PENDING and back.crash_count == 2
    assert back.error is None and back.finished_at is None
    assert back.worker_id is None and back.available_at is not None
    (step,) = await all_steps(store, ns, run.run_id)
    assert step.status is StepStatus.FAILED
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    assert workflow.paused and workflow.paused_at is not None
    assert run.run_id in workflow.paused_reason and "crashed 2 times" in workflow.paused_reason
    assert ("run_poison_paused", "wf") in recorder.take()
    # Paused: nothing claims it.
    assert await claim(store, ns, queue, max_crashes=5) == []


async def test_poison_policy__resume_gives_the_run_a_fresh_count(
    store: Store, ns: str, queue: str
) -> None:
    await define(store, ns, queue, max_crashes=2, on_poison=PoisonAction.PAUSE)
    run = await create_run(store, ns, queue)
    await crash_times(store, ns, queue, 2, server_max=5)
    assert await claim(store, ns, queue, max_crashes=5) == []
    await store.workflow_pause(WorkflowPauseParams(ns, "wf", False, "", WINDOW))
    assert (await get_run(store, ns, run.run_id)).crash_count == 0
    (claimed,) = await claim(store, ns, queue, max_crashes=5)
    assert claimed.run.run_id == run.run_id and claimed.run.crash_count == 0
    await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue, max_crashes=5)
    assert claimed.run.crash_count == 1
    await crash(store, claimed)
    # max_crashes claims again, then paused again.
    assert await claim(store, ns, queue, max_crashes=5) == []
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    assert workflow.paused


async def test_poison_policy__is_shown_on_the_version(store: Store, ns: str, queue: str) -> None:
    await define(store, ns, queue, max_crashes=4, on_poison=PoisonAction.PAUSE)
    await define(store, ns, queue, version="v2")
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    v1, v2 = workflow.version("v1"), workflow.version("v2")
    assert v1 is not None and (v1.max_crashes, v1.on_poison) == (4, PoisonAction.PAUSE)
    assert v2 is not None and (v2.max_crashes, v2.on_poison) == (None, PoisonAction.FAIL)


async def test_poison_policy__two_poison_runs_in_one_claim_pause_once(
    store: Store, ns: str, queue: str
) -> None:
    await define(store, ns, queue, max_crashes=1, on_poison=PoisonAction.PAUSE)
    runs = [await create_run(store, ns, queue) for _ in range(2)]
    for claimed in await claim(store, ns, queue, max_crashes=5):
        await crash(store, claimed)
    assert await claim(store, ns, queue, max_crashes=5) == []
    for run in runs:
        back = await get_run(store, ns, run.run_id)
        assert back.status is RunStatus.PENDING and back.crash_count == 1
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    # The reason names one of them (which one is the claim's order).
    assert workflow.paused and any(r.run_id in workflow.paused_reason for r in runs)
