"""The worker's end of WorkerService.WorkStream: one bidirectional stream that brings
claimed runs and carries every call of the runs' executions, in batches.

- Back-pressure: the worker grants run credits, its free slots, when the stream opens
  and one more each time an execution ends; the server never pushes more runs.
- Batching: calls wait in a queue while a write is in flight, and go out together in
  the next message; the server's answers come back the same way.
- Reconnect and resume: when the stream ends (the server shut down or restarted, the
  connection broke), a new one is opened with backoff, granting the slots free then, and
  every call still unanswered is sent again — every worker call is safe to repeat (a
  step's first recorded output stands; an ending the server committed answers what it
  recorded). Runs the old stream pushed that never arrived
  are claimed again once their lease expires, as after a lost PollActivity answer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from stepline._channel import pause_before_retry
from stepline._errors import InvalidArgument, SteplineError, from_rpc_error, from_status
from stepline._retry import Backoff
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc

log = logging.getLogger("stepline.worker")

# What call.read() returns once the server ended the stream (grpc-stubs lacks it).
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]
# A stream that lived this long was healthy: the next reconnect starts its backoff over.
_HEALTHY_SECONDS = 5.0
# close(): how long the server gets to end the stream once the worker closed its side.
CLOSE_TIMEOUT = 5.0


class StreamUnsupported(Exception):
    """The server has no WorkStream (an older server): use the unary calls."""


class WorkStream:
    """`run()` keeps a stream open until `close()`; `call()` sends calls on it."""

    def __init__(
        self,
        stub: wk_grpc.WorkerServiceStub,
        opening: wk.WorkStreamOpen,
        metadata: tuple[tuple[str, str], ...] | None,
        on_task: Callable[[wk.RunTask], None],
        free_slots: Callable[[], int],
        on_open: Callable[[], None] = lambda: None,
        before_connect: Callable[[], Awaitable[None]] | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self._stub = stub
        self._channel = channel
        self._opening = opening
        self._metadata = metadata
        self._on_task = on_task
        self._free_slots = free_slots
        self._on_open = on_open
        # Runs before each stream opens, the first and every reconnection: the worker
        # registers what it runs (a server restarted or switched may not know it).
        self._before_connect = before_connect
        self._tasks_received = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[wk.WorkCall, asyncio.Future[Any]]] = {}
        self._unsent: list[int] = []
        self._credits = 0
        self._draining = False
        self._closed = asyncio.Event()
        self._dirty = asyncio.Event()

    # --- calls --------------------------------------------------------------------------

    async def call(self, kind: str, request: Message, deadline: float | None = None) -> Any:
        call_id = next(self._ids)
        work = wk.WorkCall(call_id=call_id)
        getattr(work, kind).CopyFrom(request)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = (work, future)
        self._unsent.append(call_id)
        self._dirty.set()
        try:
            async with asyncio.timeout(deadline):
                return await future
        except TimeoutError:
            raise SteplineError(
                f"{kind}: no answer within {deadline}s",
                code=grpc.StatusCode.DEADLINE_EXCEEDED,
            ) from None
        finally:
            self._pending.pop(call_id, None)

    def _settle(self, result: wk.WorkResult) -> None:
        pending = self._pending.get(result.call_id)
        if pending is None or pending[1].done():
            return  # abandoned, or answered on an earlier stream
        kind = result.WhichOneof("result")
        if kind == "error":
            pending[1].set_exception(from_status(result.error))
        else:
            pending[1].set_result(getattr(result, kind) if kind else None)

    # --- credits ------------------------------------------------------------------------

    def grant(self, runs: int) -> None:
        """`runs` more slots are free."""
        if not self._draining:
            self._credits += runs
            self._dirty.set()

    def drain(self) -> None:
        """Take no more runs; calls go on."""
        self._draining = True
        self._dirty.set()

    async def close(self) -> None:
        """End the stream once what is queued is sent; `run()` returns."""
        self._closed.set()
        self._dirty.set()

    # --- the connection -----------------------------------------------------------------

    async def run(self) -> None:
        """Keep a stream open until `close()`. StreamUnsupported when the server has no
        WorkStream; InvalidArgument when it refuses the opening (a misconfigured worker)."""
        backoff = Backoff()
        while True:
            began = time.monotonic()
            error = await self._connect()
            if self._closed.is_set():
                return
            failure = None if error is None else from_rpc_error(error)
            unimplemented = failure is not None and failure.code is grpc.StatusCode.UNIMPLEMENTED
            if unimplemented and not self._tasks_received:  # an older server, from the start
                raise StreamUnsupported(failure.message if failure else "")
            if isinstance(failure, InvalidArgument):
                raise failure  # a misconfigured worker: reconnecting cannot help
            if time.monotonic() - began > _HEALTHY_SECONDS:
                backoff.reset()
            delay = backoff.next_delay()
            reason = "the server ended it" if failure is None else failure.message
            log.warning("worker stream closed (%s); reconnecting in %.2fs", reason, delay)
            await pause_before_retry(self._channel, delay, self._closed)

    async def _connect(self) -> grpc.aio.AioRpcError | None:
        """One stream, to its end: None when it ended cleanly, else its error."""
        if self._before_connect is not None:
            try:
                await self._before_connect()
            except grpc.aio.AioRpcError as error:
                return error
        stream = self._stub.WorkStream(metadata=self._metadata)
        writer = asyncio.create_task(self._write(stream))
        try:
            await self._read(stream)
        except grpc.aio.AioRpcError as error:
            return error
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            stream.cancel()
        return None

    async def _read(self, stream: Any) -> None:
        while True:
            message = await stream.read()
            if message is EOF:
                return
            self._tasks_received += len(message.tasks)
            for task in message.tasks:
                self._on_task(task)
            for result in message.results:
                self._settle(result)

    async def _write(self, stream: Any) -> None:
        # Everything unanswered goes again; credits start over from the slots free now
        # (in one step with no await, so that no grant is counted twice).
        self._unsent = list(self._pending)
        self._credits = 0
        first = wk.WorkStreamRequest(run_credits=0 if self._draining else self._free_slots())
        first.open.CopyFrom(self._opening)
        self._on_open()
        message: wk.WorkStreamRequest | None = first
        while True:
            if message is None:
                await self._dirty.wait()
                # One turn of the loop: calls made by callbacks already due join this message.
                await asyncio.sleep(0)
                message = wk.WorkStreamRequest()
            self._dirty.clear()
            self._fill(message)
            await stream.write(message)
            message = None
            if self._closed.is_set() and not self._unsent:
                await stream.done_writing()
                return

    def _fill(self, message: wk.WorkStreamRequest) -> None:
        """Add what waits to be sent: credits, the draining flag, calls."""
        message.run_credits += self._credits
        self._credits = 0
        message.draining = self._draining
        unsent, self._unsent = self._unsent, []
        for call_id in unsent:
            pending = self._pending.get(call_id)
            if pending is not None:  # not abandoned meanwhile
                message.calls.append(pending[0])
