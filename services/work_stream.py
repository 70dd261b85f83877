"""The worker stream (WorkerService.WorkStream): one bidirectional stream per worker
carrying what PollActivity and the lease-fenced unary calls do.

A session runs three loops on the stream:
- the reader takes the worker's messages: its opening, run credits, and calls, each
  handled at once as a task of its own by the same code as the unary call;
- the claimer claims due runs as PollActivity does (woken by the same wake-ups) while
  the worker has credits, never more runs than credited;
- the writer sends whatever is ready — claimed runs and answered calls — in one message
  per write, so that what piles up while a write is in flight goes out together.

Each call is answered once its change is committed (the store commits before it returns).
The session ends when the worker closes its side, or when the server shuts down: it
claims no more, answers the calls it has taken, and ends the stream; the worker opens a
new one and sends again what was not answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

from services import convert
from services import validation as v
from services.errors import ApiError, api_error, invalid
from stepline import tracing
from stepline.v1 import worker_service_pb2 as pb
from storage.records import ClaimedRun, RunClaimParams

if TYPE_CHECKING:
    from services.worker_service import WorkerService

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[pb.WorkStreamRequest, pb.WorkStreamResponse]
Operation = Callable[[Any], Awaitable[Any]]

# What context.read() returns once the worker closed its side (grpc-stubs lacks it).
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]
MAX_RUNS_PER_CLAIM = 100
# Credits a worker may hold at once: far above any real worker's slots.
MAX_CREDITS = 100_000
# A due run the claim skipped is held by another claim right now; look again soon.
_MIN_RECHECK = 0.01


class WorkSession:
    """One worker stream, from its opening to its end."""

    def __init__(self, service: WorkerService, context: Context) -> None:
        self._service = service
        self._context = context
        self._store = service.store
        self._ops = service.stream_operations()
        self._params: RunClaimParams | None = None
        self._credits = 0
        self._draining = False
        self._credit_added = asyncio.Event()
        self._closing = asyncio.Event()
        self._outbox = pb.WorkStreamResponse()
        self._ready = asyncio.Event()
        self._calls: set[asyncio.Task[None]] = set()
        self._writing = asyncio.Lock()

    # --- the session --------------------------------------------------------------------

    async def serve(self) -> None:
        first = await self._context.read()
        if first is EOF:
            return
        try:
            self._params = self._claim_params(first)
            self._take(first)
        except ApiError as exc:
            await _abort(self._context, exc)
        reader = asyncio.create_task(self._read())
        shutting_down = asyncio.create_task(self._service.shutting_down.wait())
        loops = [asyncio.create_task(self._claim()), asyncio.create_task(self._write())]
        try:
            await asyncio.wait({reader, shutting_down}, return_when=asyncio.FIRST_COMPLETED)
            self._closing.set()
            failed = reader.exception() if reader.done() else None
            if isinstance(failed, ApiError):
                await _abort(self._context, failed)  # a bad message from the worker
            if failed is not None:
                return  # the stream broke: nobody is left to answer
            # Answer what was taken, then end the stream; the worker sends the rest again.
            if self._calls:
                await asyncio.wait(set(self._calls))
            await self._flush()
        finally:
            for task in (reader, shutting_down, *loops, *self._calls):
                task.cancel()
            await asyncio.gather(reader, shutting_down, *loops, return_exceptions=True)

    def _claim_params(self, first: pb.WorkStreamRequest) -> RunClaimParams:
        if not first.HasField("open"):
            raise invalid("open", "is required on the stream's first message")
        opening = first.open
        return RunClaimParams(
            namespace_id=v.namespace(opening.namespace_id, "open.namespace_id"),
            task_queue=v.name(opening.task_queue, "open.task_queue", v.DEFAULT_TASK_QUEUE),
            worker_id=v.text(opening.worker_id, "open.worker_id") or None,
            workflow_names=tuple(
                v.name(n, "open.workflow_names") for n in dict.fromkeys(opening.workflow_names)
            ),
            max_runs=1,
            lease_duration=self._service.lease_duration,
            max_crashes=self._service.max_crashes,
        )

    # --- reading ------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            message = await self._context.read()
            if message is EOF:
                return
            self._take(message)

    def _take(self, message: pb.WorkStreamRequest) -> None:
        credits = message.run_credits
        if credits < 0 or self._credits + credits > MAX_CREDITS:
            raise invalid("run_credits", f"credits must stay between 0 and {MAX_CREDITS}")
        if credits:
            self._credits += credits
            self._credit_added.set()
        if message.draining and not self._draining:
            self._draining = True
            self._credit_added.set()  # the claimer stops
        for call in message.calls:
            task = asyncio.create_task(self._answer(call))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    # --- calls --------------------------------------------------------------------------

    async def _answer(self, call: pb.WorkCall) -> None:
        kind = call.WhichOneof("call")
        result = pb.WorkResult(call_id=call.call_id)
        try:
            if kind is None:
                raise invalid("call", "is required")
            request = getattr(call, kind)
            # Log lines of the call name its run, as the unary calls' do.
            tracing.current_run_id.set(request.lease.run_id or None)
            response = await self._ops[kind](request)
        except Exception as exc:
            result.error.CopyFrom(api_error(exc, f"WorkStream {kind}").to_proto())
        else:
            getattr(result, kind).CopyFrom(response)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("WorkStream %s handled", kind)
        self._outbox.results.append(result)
        self._ready.set()

    # --- claiming -----------------------------------------------------------------------

    def _claiming(self) -> bool:
        return not (self._draining or self._closing.is_set())

    async def _claim(self) -> None:
        params = self._params
        assert params is not None
        with self._store.wake_hub.subscribe(params.namespace_id, params.task_queue) as woken:
            while self._claiming():
                if self._credits <= 0:
                    self._credit_added.clear()
                    await first_of((self._credit_added, self._closing), None)
                    continue
                # What comes from now on wakes the wait below: this claim sees all before.
                woken.clear()
                self._credit_added.clear()
                await self._service.registry.seen(params.namespace_id, params.worker_id)
                wanted = min(self._credits, MAX_RUNS_PER_CLAIM)
                result = await self._store.run_claim(dataclasses.replace(params, max_runs=wanted))
                if not self._claiming() and not result.claimed:
                    return
                if result.claimed:
                    self._push(result.claimed)
                    continue
                fallback = self._service.poll_fallback
                due = result.next_due_in
                timeout = (
                    fallback
                    if due is None
                    else min(fallback, max(due.total_seconds(), _MIN_RECHECK))
                )
                await first_of((woken, self._closing, self._credit_added), timeout)

    def _push(self, claimed: list[ClaimedRun]) -> None:
        self._credits -= len(claimed)
        self._outbox.tasks.extend(convert.task_to_proto(c) for c in claimed)
        self._ready.set()

    # --- writing ------------------------------------------------------------------------

    async def _write(self) -> None:
        while True:
            await self._ready.wait()
            # One turn of the loop: answers of calls already due join this message.
            await asyncio.sleep(0)
            await self._flush()

    async def _flush(self) -> None:
        """Send everything ready, in one message."""
        async with self._writing:
            self._ready.clear()
            outbox = self._outbox
            if not outbox.tasks and not outbox.results:
                return
            self._outbox = pb.WorkStreamResponse()
            await self._context.write(outbox)


async def _abort(context: Context, error: ApiError) -> None:
    status = error.to_status()
    await context.abort(status.code, status.details, status.trailing_metadata)


async def first_of(events: tuple[asyncio.Event, ...], seconds: float | None) -> None:
    """Wait until any of `events` is set or `seconds` pass."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
