"""WorkerService.WorkStream through a real server, driven by a raw gRPC stream: runs are
pushed against credits only, calls are answered by call_id with the unary responses or
their errors, draining stops the pushes, and a bad opening ends the stream."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from tests.services.conftest import Api
from tests.services.helpers import altered, claim, get_run, start, steps_of, value

READ_TIMEOUT = 10.0
QUIET = 0.3  # no message expected within this


class Stream:
    """A worker stream opened on `api`; its messages are read into a queue (cancelling a
    read would cancel the whole call)."""

    def __init__(self, api: Api, ns: str, credits: int, **opening: Any) -> None:
        self.call: Any = api.worker.WorkStream()
        self.first = wk.WorkStreamRequest(
            open=wk.WorkStreamOpen(namespace_id=ns, **opening), run_credits=credits
        )
        self.received: asyncio.Queue[wk.WorkStreamResponse] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stream:
        await self.call.write(self.first)
        self._reader = asyncio.create_task(self._read_all())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.call.cancel()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read_all(self) -> None:
        while isinstance(message := await self.call.read(), wk.WorkStreamResponse):
            await self.received.put(message)

    async def send(self, **fields: Any) -> None:
        await self.call.write(wk.WorkStreamRequest(**fields))

    async def read(self, within: float = READ_TIMEOUT) -> wk.WorkStreamResponse:
        return await asyncio.wait_for(self.received.get(), within)

    async def tasks(self, count: int) -> list[wk.RunTask]:
        got: list[wk.RunTask] = []
        while len(got) < count:
            got += (await self.read()).tasks
        return got

    async def results(self, count: int) -> dict[int, wk.WorkResult]:
        got: dict[int, wk.WorkResult] = {}
        while len(got) < count:
            got.update((r.call_id, r) for r in (await self.read()).results)
        return got

    async def nothing_more(self) -> None:
        with pytest.raises(TimeoutError):
            await self.read(QUIET)


async def test_stream__pushes_no_more_runs_than_credited(api: Api, ns: str) -> None:
    runs = [(await start(api, ns)).run.run_id for _ in range(3)]
    async with Stream(api, ns, credits=2, worker_id="w-s") as stream:
        first = await stream.tasks(2)
        await stream.nothing_more()
        await stream.send(run_credits=1)
        third = await stream.tasks(1)

    tasks = first + third
    assert sorted(t.run.run_id for t in tasks) == sorted(runs)
    assert {t.run.status for t in tasks} == {wr.WORKFLOW_RUN_STATUS_RUNNING}
    assert {t.lease.worker_id for t in tasks} == {"w-s"}


async def test_stream__an_idle_stream_is_woken_by_a_start(api: Api, ns: str) -> None:
    # The fallback re-check is 60 s: only the start's wake-up can push the run in time.
    async with Stream(api, ns, credits=5) as stream:
        await stream.nothing_more()
        run = (await start(api, ns)).run
        (task,) = await stream.tasks(1)
    assert task.run.run_id == run.run_id


async def test_stream__an_idle_stream_does_not_claim_again_and_again(
    api: Api, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims: list[str] = []
    store = api.server.store
    claim = store.run_claim

    async def counted(params: Any) -> Any:
        if params.namespace_id == ns:
            claims.append(params.namespace_id)
        return await claim(params)

    monkeypatch.setattr(store, "run_claim", counted)
    async with Stream(api, ns, credits=5) as stream:
        await stream.send(run_credits=1)  # credits that find nothing due
        await asyncio.sleep(0.5)
    # One claim at the opening, perhaps one for the added credit; then it waits for a
    # wake-up (the fallback re-check is 60 s here).
    assert 1 <= len(claims) <= 2


async def test_stream__answers_calls_by_id_once_committed(api: Api, ns: str) -> None:
    async with Stream(api, ns, credits=1) as stream:
        run_id = (await start(api, ns)).run.run_id
        (task,) = await stream.tasks(1)
        step = wk.CompleteStepRequest(lease=task.lease, step_id="a", output=value(1))
        await stream.send(calls=[wk.WorkCall(call_id=7, complete_step=step)])
        first = await stream.results(1)
        done = wk.CompleteWorkflowRequest(lease=task.lease, output=value("ok"))
        beat = wk.RecordHeartbeatRequest(lease=task.lease)
        # Calls of one message run concurrently: the heartbeat is answered before the run
        # ends, or it would race the completion and could find the lease gone.
        await stream.send(calls=[wk.WorkCall(call_id=8, record_heartbeat=beat)])
        rest = await stream.results(1)
        await stream.send(calls=[wk.WorkCall(call_id=9, complete_workflow=done)])
        rest.update(await stream.results(1))

    assert first[7].complete_step.step_attempt.status == st.STEP_ATTEMPT_STATUS_COMPLETED
    assert rest[8].WhichOneof("result") == "record_heartbeat"
    assert rest[9].complete_workflow.run.status == wr.WORKFLOW_RUN_STATUS_COMPLETED
    assert (await get_run(api, ns, run_id)).output == value("ok")
    assert [s.step_id for s in await steps_of(api, ns, run_id)] == ["a"]


async def test_stream__a_call_under_a_stale_lease_is_answered_lease_lost(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    stale = altered(task.lease, lease_id="00000000-0000-7000-8000-000000000000")
    async with Stream(api, ns, credits=0) as stream:
        step = wk.CompleteStepRequest(lease=stale, step_id="a", output=value(1))
        empty = wk.WorkCall(call_id=2)
        await stream.send(calls=[wk.WorkCall(call_id=1, complete_step=step), empty])
        results = await stream.results(2)

    assert _reason(results[1]) == (grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")
    assert _reason(results[2]) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert await steps_of(api, ns, task.run.run_id) == []


async def test_stream__draining_stops_the_pushes_and_calls_go_on(api: Api, ns: str) -> None:
    async with Stream(api, ns, credits=5) as stream:
        await stream.send(draining=True)
        await asyncio.sleep(0.1)
        await start(api, ns)
        await stream.nothing_more()
        task = await claim(api, ns)  # by PollActivity: the draining stream took neither
        beat = wk.RecordHeartbeatRequest(lease=task.lease)
        await stream.send(calls=[wk.WorkCall(call_id=1, record_heartbeat=beat)])
        results = await stream.results(1)
    assert results[1].record_heartbeat.HasField("lease_expires_at")


@pytest.mark.parametrize(
    ("first", "field"),
    [
        (wk.WorkStreamRequest(run_credits=1), "open"),
        (wk.WorkStreamRequest(open=wk.WorkStreamOpen(namespace_id="bad ns!")), "open.namespace_id"),
        (wk.WorkStreamRequest(open=wk.WorkStreamOpen(), run_credits=-1), "run_credits"),
    ],
)
async def test_stream__a_bad_opening_ends_the_stream_invalid_argument(
    api: Api, first: wk.WorkStreamRequest, field: str
) -> None:
    call: Any = api.worker.WorkStream()
    await call.write(first)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(call.read(), READ_TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (caught.value.details() or "")


def _reason(result: wk.WorkResult) -> tuple[grpc.StatusCode, str]:
    assert result.WhichOneof("result") == "error"
    info = error_details_pb2.ErrorInfo()
    (detail,) = [d for d in result.error.details if d.Is(info.DESCRIPTOR)]
    detail.Unpack(info)
    code = next(c for c in grpc.StatusCode if c.value[0] == result.error.code)
    return code, info.reason
