"""Worker processes that die, stall or are told to stop: a SIGKILLed worker's run is
finished by another with each completed step's side effect observed once; a stalled
worker that lost its lease writes nothing more; SIGTERM lets in-flight runs finish."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stepline import Client, RunStatus
from tests.sdk.apps import awaited_child, awaiting, effects, gated
from tests.sdk.conftest import eventually, running

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.log)


async def _collect(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode().rstrip())


@contextlib.asynccontextmanager
async def worker_process(
    address: str, ns: str, grace: float = 20.0
) -> AsyncIterator[WorkerProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sdk.worker_app",
        address,
        ns,
        str(grace),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stderr is not None
    worker = WorkerProcess(process)
    reader = asyncio.create_task(_collect(process.stderr, worker.log))
    try:
        yield worker
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader


async def _started_gated(client: Client, tmp_path: Path, worker: WorkerProcess) -> str:
    """Start a `gated` run and wait until `worker` is inside its step "two" and the server
    has recorded that attempt as RUNNING (the SDK sends BeginStep only once a step has run
    for `step_begin_after`, 0.5 s: a worker killed before then leaves no attempt of it)."""
    run = await client.start("gated", {"dir": str(tmp_path)})
    await eventually(lambda: f"two {worker.pid} started" in effects(tmp_path), within=30)

    async def two_recorded() -> bool:
        steps = await client.steps(run.run_id)
        return ("two", "RUNNING") in [(s.step_id, s.status) for s in steps]

    await eventually(two_recorded, within=30)
    return run.run_id


async def test_sigkill__another_worker_finishes_and_done_steps_run_once(
    client: Client, address: str, ns: str, tmp_path: Path
) -> None:
    async with worker_process(address, ns) as doomed:
        run_id = await _started_gated(client, tmp_path, doomed)
        doomed.process.send_signal(signal.SIGKILL)
        assert await doomed.process.wait() == -signal.SIGKILL

    (tmp_path / "release").touch()
    async with running(address, ns, [gated]):
        output = await client.result(run_id, timeout=30)

    here = os.getpid()
    assert output == {"one": f"one {doomed.pid}", "two": f"two {here}", "three": f"three {here}"}
    lines = effects(tmp_path)
    assert [line for line in lines if line.startswith("one")] == [f"one {doomed.pid}"]
    assert [line for line in lines if line.startswith("three")] == [f"three {here}"]
    steps = [(s.step_id, s.status) for s in await client.steps(run_id)]
    assert steps == [
        ("one", "COMPLETED"),
        ("two", "FAILED"),
        ("two", "COMPLETED"),
        ("three", "COMPLETED"),
    ]


async def test_lease_loss__a_stalled_worker_writes_nothing_after_resuming(
    client: Client, address: str, ns: str, tmp_path: Path
) -> None:
    async with worker_process(address, ns) as stalled:
        run_id = await _started_gated(client, tmp_path, stalled)
        stalled.process.send_signal(signal.SIGSTOP)
        (tmp_path / "release").touch()
        async with running(address, ns, [gated]):
            output = await client.result(run_id, timeout=30)
        recorded = _snapshot(await client.steps(run_id))

        stalled.process.send_signal(signal.SIGCONT)
        await eventually(lambda: stalled.logged("execution stopped (lease lost)"), within=30)
        stalled.process.send_signal(signal.SIGTERM)
        assert await stalled.process.wait() == 0

    assert _snapshot(await client.steps(run_id)) == recorded
    assert (await client.get(run_id)).output == output
    assert output["one"] == f"one {stalled.pid}" and output["three"] == f"three {os.getpid()}"
    assert not any(line.startswith(f"three {stalled.pid}") for line in effects(tmp_path))
    assert [line for line in effects(tmp_path) if line.startswith("one")] == [output["one"]]


def _snapshot(steps: list[Any]) -> list[tuple[str, str, str, Any]]:
    return [(s.step_attempt_id, s.step_id, s.status, s.output) for s in steps]


async def test_sigterm__in_flight_runs_finish_within_the_grace_and_exit_0(
    client: Client, address: str, ns: str, tmp_path: Path
) -> None:
    async with worker_process(address, ns, grace=20) as worker:
        runs = [
            await client.start("slow", {"dir": str(tmp_path), "name": name, "seconds": 1.0})
            for name in ("a", "b")
        ]
        await eventually(lambda: {"a started", "b started"} <= set(effects(tmp_path)), within=30)
        worker.process.send_signal(signal.SIGTERM)
        assert await worker.process.wait() == 0

    for run in runs:
        assert (await client.get(run.run_id)).status is RunStatus.COMPLETED
    assert sorted(effects(tmp_path)) == ["a done", "a started", "b done", "b started"]
    assert worker.logged("SIGTERM: shutting down gracefully")


async def test_sigterm__a_stuck_step_past_the_grace_does_not_keep_the_process(
    client: Client, address: str, ns: str, tmp_path: Path
) -> None:
    async with worker_process(address, ns, grace=0.3) as worker:
        run_id = await _started_gated(client, tmp_path, worker)
        worker.process.send_signal(signal.SIGTERM)
        # The gate holds the step for a minute; the process must not wait for it.
        assert await asyncio.wait_for(worker.process.wait(), 20) == 0

    # Released as the process exits: claimable at once, not after the lease.
    assert worker.logged("run abandoned at shutdown")
    assert worker.logged("run released for another worker")
    assert (await client.get(run_id)).status is RunStatus.PENDING
    assert [s.status for s in await client.steps(run_id)] == ["COMPLETED", "FAILED"]


async def test_sigkill_while_waiting__another_worker_resumes_and_nothing_runs_twice(
    client: Client, address: str, ns: str, tmp_path: Path
) -> None:
    """The worker dies (SIGKILL) while its run waits (its child done, the signal not yet
    sent): the run holds no lease, so nothing is lost; once the signal comes, another
    worker resumes it. The step before the wait and the child's step ran exactly once."""
    async with worker_process(address, ns) as doomed:
        run = await client.start("awaiting", {"dir": str(tmp_path)})
        await eventually(lambda: _status_is(client, run.run_id, RunStatus.WAITING), within=30)
        await eventually(lambda: _child_completed(client, run.run_id), within=30)
        doomed.process.send_signal(signal.SIGKILL)
        await doomed.process.wait()
    await client.signal(run.run_id, "approved", "yes")
    async with running(address, ns, [awaiting, awaited_child]):
        result = await client.result(run.run_id, timeout=60)
    lines = effects(tmp_path)
    assert [line.split()[0] for line in lines] == ["before", "child", "after"], lines
    assert result["approval"] == "yes" and result["child"] == lines[1]
    assert lines[0].endswith(str(doomed.pid)) and not lines[2].endswith(str(doomed.pid))


async def _status_is(client: Client, run_id: str, status: RunStatus) -> bool:
    return (await client.get(run_id)).status is status


async def _child_completed(client: Client, run_id: str) -> bool:
    """The child ran and was recorded: the parent still waits for its signal."""
    children = await client.children(run_id)
    return bool(children) and children[0].status is RunStatus.COMPLETED
