"""Concurrency limits through a real gRPC server (both backends): a run held back by a
full limit is claimed by a poll already waiting as soon as a slot frees. The servers
re-check on their own only every 60 s (see conftest), so a poll that returns within the
test's bound was woken by the slot's release."""

from __future__ import annotations

import asyncio

from stepline.v1 import registry_pb2 as rg
from stepline.v1 import worker_service_pb2 as wk
from tests.services.conftest import Api
from tests.services.helpers import poll, start


async def test_a_slot_freed_wakes_a_poll_waiting_for_a_held_back_run(api: Api, ns: str) -> None:
    definition = rg.WorkflowDefinition(workflow_name="wf", version="1", max_concurrency=1)
    await api.worker.RegisterWorker(
        rg.RegisterWorkerRequest(namespace_id=ns, worker_id="registrar", workflows=[definition])
    )
    first = (await start(api, ns)).run
    second = (await start(api, ns)).run
    (task,) = await poll(api, ns, max_runs=10)
    assert task.run.run_id == first.run_id
    waiting = asyncio.ensure_future(poll(api, ns, wait=30, max_runs=10))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # held back: the limit's one slot is taken
    await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [t.run.run_id for t in tasks] == [second.run_id]
