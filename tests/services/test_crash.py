"""A worker process SIGKILLed mid-step: the run is reclaimed and finished elsewhere, each
completed step is recorded once, and the dead worker's late writes are rejected."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import grpc
from google.protobuf import json_format

from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from tests.services.conftest import Api
from tests.services.helpers import expect_error, get_run, poll, start, steps_of, value

ROOT = Path(__file__).resolve().parents[2]


async def _spawn_worker(address: str, ns: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.services.crash_worker",
        address,
        ns,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def test_crash__killed_worker_is_replaced_and_its_late_writes_rejected(
    short_lease_api: Api, ns: str
) -> None:
    api = short_lease_api
    run = (await start(api, ns)).run
    doomed = await _spawn_worker(api.server.address, ns)
    assert doomed.stdout is not None
    line = await asyncio.wait_for(doomed.stdout.readline(), timeout=30)
    old = json.loads(line)
    stale = json_format.ParseDict(old["lease"], wk.RunLease())
    assert stale.worker_id == "doomed"
    doomed.send_signal(signal.SIGKILL)
    assert await doomed.wait() == -signal.SIGKILL

    # Another worker claims the run once the dead worker's lease expires.
    task = (await poll(api, ns, wait=20))[0]
    assert task.run.run_id == run.run_id and task.lease.lease_id != stale.lease_id
    history = {(s.step_id, s.status) for s in task.steps}
    assert history == {
        ("one", st.STEP_ATTEMPT_STATUS_COMPLETED),
        ("two", st.STEP_ATTEMPT_STATUS_FAILED),
    }
    lease = task.lease
    replayed_one = await api.worker.CompleteStep(
        wk.CompleteStepRequest(lease=lease, step_id="one", output=value("again"))
    )
    assert replayed_one.step_attempt.output == value("first")  # memoized, not re-run
    for step_id in ("two", "three"):
        await api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=lease, step_id=step_id, output=value(step_id))
        )

    # The dead worker's writes, replayed with its old lease, change nothing.
    late_writes = [
        api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=stale, step_attempt_id=old["step_attempt_id"])
        ),
        api.worker.CompleteStep(wk.CompleteStepRequest(lease=stale, step_id="three")),
        api.worker.RecordHeartbeat(wk.RecordHeartbeatRequest(lease=stale)),
        api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=stale, output=value("stale"))),
    ]
    for write in late_writes:
        await expect_error(write, grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")

    done = await api.worker.CompleteWorkflow(
        wk.CompleteWorkflowRequest(lease=lease, output=value("done"))
    )
    assert done.run.status == wr.WORKFLOW_RUN_STATUS_COMPLETED
    assert (await get_run(api, ns, run.run_id)).output == value("done")
    completed = [
        s.step_id
        for s in await steps_of(api, ns, run.run_id)
        if s.status == st.STEP_ATTEMPT_STATUS_COMPLETED
    ]
    assert sorted(completed) == ["one", "three", "two"]
