"""Worker: long-polls a task queue for as many runs as it has free slots and executes
each claimed run as an asyncio task, with its own heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from stepline import _spans, tracing
from stepline._calls import UnaryCalls, WorkerCalls
from stepline._convert import seconds_duration
from stepline._credentials import Transport
from stepline._errors import InvalidArgument, ServerUnavailable, SteplineError, from_rpc_error
from stepline._execution import Execution, ExecutionSettings
from stepline._heartbeat import Heartbeat
from stepline._release import release_runs
from stepline._retry import Backoff
from stepline._stream import CLOSE_TIMEOUT, StreamUnsupported, WorkStream
from stepline._workflow import AnyWorkflow
from stepline.tls import TLSSetting
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc

log = logging.getLogger("stepline.worker")

_MAX_RUNS_PER_POLL = 100
# After the grace, how long cancelled runs get to unwind before shutdown goes on.
_CANCEL_WAIT = 1.0
# The poll's gRPC deadline: its wait plus this margin for the reply to travel.
_POLL_DEADLINE_MARGIN = 10.0
_CHANNEL_OPTIONS = [
    # A long poll sits idle for its whole wait; keep the connection known to be alive.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


@dataclass(slots=True)
class WorkerStats:
    """Counters of one Worker, for monitoring and benchmarks."""

    polls: int = 0
    empty_polls: int = 0
    streams: int = 0
    """Worker streams opened (the first, then one per reconnect); 0 when long-polling."""
    claimed: int = 0
    ended: Counter[str] = field(default_factory=Counter)
    """Executions ended, by reason: completed, failed, step failed, sleeping, canceled,
    lease lost, deadline exceeded, shutdown."""
    last_ended_at: float = 0.0
    """time.perf_counter() when the latest execution ended."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class Worker:
    """Runs `workflows` from `task_queue`, `concurrency` runs at a time.

    `await worker.run()` serves until SIGTERM/SIGINT (handlers are installed when it runs
    on the main thread, unless `install_signal_handlers=False`; the previous ones are put
    back when it returns) or `await worker.shutdown()`. Shutdown is graceful: claiming stops,
    in-flight runs get `shutdown_grace` seconds to finish, then they are cancelled without
    writing anything more and released (ReleaseRun): another worker resumes them at once
    from their last completed step. A second signal skips the grace period (and the short
    wait for cancelled runs to unwind). A Worker runs once.
    """

    def __init__(
        self,
        target: str,
        *,
        task_queue: str = "default",
        workflows: Sequence[AnyWorkflow],
        concurrency: int = 100,
        namespace: str = "default",
        worker_id: str | None = None,
        shutdown_grace: float = 30.0,
        poll_wait: float = 20.0,
        step_begin_after: float = 0.5,
        api_key: str | None = None,
        tls: TLSSetting = None,
        metadata: Sequence[tuple[str, str]] = (),
        install_signal_handlers: bool = True,
        stream: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.target = target
        self.task_queue = task_queue
        self.namespace = namespace
        self.concurrency = concurrency
        self.worker_id = worker_id or default_worker_id()
        self.shutdown_grace = shutdown_grace
        self.poll_wait = poll_wait
        self._transport = Transport(target, tls=tls, api_key=api_key, metadata=metadata)
        self._metadata = self._transport.metadata
        self._install_signals = install_signal_handlers
        self._stream_wanted = stream
        self._releasing: set[asyncio.Task[None]] = set()
        # The stream's credit grant while a worker stream serves: one per slot freed.
        self._grant: Callable[[int], None] | None = None
        self._workflows = _by_name(workflows)
        self._step_begin_after = step_begin_after
        self._active: dict[asyncio.Task[None], Execution] = {}
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._force = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self.stats = WorkerStats()
        self._end_waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def active_runs(self) -> int:
        return len(self._active)

    # --- public -------------------------------------------------------------------------

    async def run(self) -> None:
        if self._running:
            raise RuntimeError("the worker is already running")
        self._running = True
        self._done.clear()
        channel = self._transport.channel(
            options=_CHANNEL_OPTIONS, interceptors=_spans.client_interceptors()
        )
        stub = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        settings = ExecutionSettings(self._step_begin_after)
        restore = self._install_signal_handlers()
        log.info(
            "worker %s serving %s queue %r for %s",
            self.worker_id,
            self.target,
            self.task_queue,
            ", ".join(self._workflows),
        )
        try:
            if self._stream_wanted and not tracing.active():
                try:
                    await self._serve_stream(stub, settings)
                    return
                except StreamUnsupported:
                    log.info("the server has no worker stream: long-polling instead")
            calls = UnaryCalls(stub, self._metadata)
            try:
                await self._poll_loop(stub, calls, settings)
            finally:
                await self._drain(calls)
        finally:
            restore()
            await channel.close(grace=None)
            self._running = False
            self._done.set()
            log.info("worker %s stopped", self.worker_id)

    async def wait_for_ended(self, count: int) -> None:
        """Wait until `count` executions (claims of runs) have ended in all, whatever the
        outcome (see `stats.ended`): for scripts and benchmarks that process a batch."""
        if self.stats.ended.total() >= count:
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (count, waiter)
        self._end_waiters.append(entry)
        try:
            await waiter
        finally:
            self._end_waiters.remove(entry)

    async def shutdown(self) -> None:
        """Stop taking runs, let in-flight runs finish within the grace period, and return
        when `run()` has returned."""
        self._stopping.set()
        if self._running:
            await self._done.wait()

    # --- the worker stream --------------------------------------------------------------

    async def _serve_stream(
        self, stub: wk_grpc.WorkerServiceStub, settings: ExecutionSettings
    ) -> None:
        """Run what the stream brings until shutdown, then drain over the same stream.
        StreamUnsupported (before any run started) when the server has no stream."""
        opening = wk.WorkStreamOpen(
            namespace_id=self.namespace,
            task_queue=self.task_queue,
            worker_id=self.worker_id,
            workflow_names=list(self._workflows),
        )
        stream = WorkStream(
            stub,
            opening,
            self._metadata,
            on_task=lambda task: self._on_task(stream, task, settings),
            free_slots=lambda: max(self.concurrency - len(self._active), 0),
            on_open=self._stream_opened,
        )
        self._grant = stream.grant
        connection = asyncio.create_task(stream.run())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if connection.done():
                connection.result()  # StreamUnsupported, InvalidArgument
            stream.drain()
            await self._drain(stream)
            if self._releasing:
                await asyncio.gather(*self._releasing)
        finally:
            self._grant = None
            stopping.cancel()
            await stream.close()
            done, _ = await asyncio.wait({connection}, timeout=CLOSE_TIMEOUT)
            if not done:
                connection.cancel()
            await asyncio.gather(connection, return_exceptions=True)

    def _stream_opened(self) -> None:
        self.stats.streams += 1

    def _on_task(self, stream: WorkStream, task: wk.RunTask, settings: ExecutionSettings) -> None:
        self.stats.claimed += 1
        if not self._stopping.is_set():
            self._launch(stream, task, settings)
            return
        # Pushed as the worker began to shut down: hand it back at once.
        execution = Execution(stream, task, self._workflows[task.run.workflow_name], settings, log)
        releasing = asyncio.create_task(release_runs(stream, [execution]))
        self._releasing.add(releasing)
        releasing.add_done_callback(self._releasing.discard)

    # --- polling ------------------------------------------------------------------------

    async def _poll_loop(
        self, stub: wk_grpc.WorkerServiceStub, calls: WorkerCalls, settings: ExecutionSettings
    ) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            if not await self._wait_for_free_slot():
                return
            began = time.monotonic()
            try:
                tasks = await self._poll(stub)
            except SteplineError as exc:
                if isinstance(exc, InvalidArgument):
                    raise  # a misconfigured worker: retrying cannot help
                delay = backoff.next_delay()
                level = logging.WARNING if isinstance(exc, ServerUnavailable) else logging.ERROR
                log.log(level, "poll failed (%s); retrying in %.2fs", exc.message, delay)
                await self._sleep_unless_stopping(delay)
                continue
            if tasks is None:
                return
            self.stats.empty_polls += not tasks
            if not tasks and self._returned_early(time.monotonic() - began):
                # A server shutting down answers at once: do not spin against it.
                await self._sleep_unless_stopping(backoff.next_delay())
                continue
            backoff.reset()
            for task in tasks:
                self.stats.claimed += 1
                self._launch(calls, task, settings)

    def _returned_early(self, elapsed: float) -> bool:
        """An empty poll that came back well before its wait was up."""
        return self.poll_wait <= 0 or elapsed < self.poll_wait / 2

    async def _poll(self, stub: wk_grpc.WorkerServiceStub) -> list[wk.RunTask] | None:
        """One long poll; None when shutdown began while it waited."""
        request = wk.PollActivityRequest(
            namespace_id=self.namespace,
            task_queue=self.task_queue,
            worker_id=self.worker_id,
            workflow_names=list(self._workflows),
            max_runs=min(self.concurrency - len(self._active), _MAX_RUNS_PER_POLL),
            wait=seconds_duration(self.poll_wait),
        )
        self.stats.polls += 1
        call = asyncio.ensure_future(self._poll_call(stub, request))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({call, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not call.done():
            # Shutdown: a run the server claims for this cancelled poll is reclaimed by
            # another worker once its lease expires.
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            return None
        return call.result()

    async def _poll_call(
        self, stub: wk_grpc.WorkerServiceStub, request: wk.PollActivityRequest
    ) -> list[wk.RunTask]:
        try:
            response: wk.PollActivityResponse = await stub.PollActivity(
                request, timeout=self.poll_wait + _POLL_DEADLINE_MARGIN, metadata=self._metadata
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None
        return list(response.tasks)

    async def _wait_for_free_slot(self) -> bool:
        while len(self._active) >= self.concurrency:
            if self._stopping.is_set():
                return False
            self._slot_freed.clear()
            stopping = asyncio.ensure_future(self._stopping.wait())
            freed = asyncio.ensure_future(self._slot_freed.wait())
            await asyncio.wait({stopping, freed}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            freed.cancel()
        return not self._stopping.is_set()

    async def _sleep_unless_stopping(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # --- executions ---------------------------------------------------------------------

    def _launch(self, calls: WorkerCalls, task: wk.RunTask, settings: ExecutionSettings) -> None:
        workflow = self._workflows[task.run.workflow_name]
        execution = Execution(calls, task, workflow, settings, log)
        execution.log.debug("run claimed")
        running = asyncio.create_task(self._execute(execution))
        execution.attach(running)
        self._active[running] = execution
        running.add_done_callback(self._ended)

    async def _execute(self, execution: Execution) -> None:
        # Under the execution's span, so that heartbeats are its children too.
        with execution.traced():
            heartbeat = Heartbeat(execution)
            heartbeat.start()
            try:
                await execution.execute()
            except Exception as exc:
                execution.log.exception("execution crashed")
                _spans.failed(execution.span, exc)
            finally:
                beating = heartbeat.stop()
                if beating is not None:
                    await asyncio.gather(beating, return_exceptions=True)

    def _ended(self, task: asyncio.Task[None]) -> None:
        execution = self._active.pop(task, None)
        if execution is not None:
            self.stats.ended[execution.end_reason or "crashed"] += 1
            self.stats.last_ended_at = time.perf_counter()
            total = self.stats.ended.total()
            for count, waiter in self._end_waiters:
                if count <= total and not waiter.done():
                    waiter.set_result(None)
            if self._grant is not None and not self._stopping.is_set():
                self._grant(1)
        self._slot_freed.set()

    async def _drain(self, calls: WorkerCalls) -> None:
        """Give in-flight runs the grace period, then cancel them without writing and
        release their runs to other workers."""
        if not self._active:
            return
        log.info(
            "waiting up to %.0fs for %d in-flight runs", self.shutdown_grace, len(self._active)
        )
        # Ends when every run is done, at the grace timeout, or on a second signal.
        await self._wait_for(set(self._active), self.shutdown_grace)
        leftover = {task: ex for task, ex in self._active.items() if not task.done()}
        for task, execution in leftover.items():
            execution.log.warning("run abandoned at shutdown")
            execution.end("shutdown")  # cancels its task
            if not task.cancelling():
                task.cancel()
        # Code that swallows the cancellation must not hold the process: wait a little
        # (a second signal cuts it short), then leave such runs to their lease.
        stuck = await self._wait_for(set(leftover), _CANCEL_WAIT)
        if stuck:
            log.warning("%d runs ignore cancellation; leaving them to expire", len(stuck))
        stopped = [ex for task, ex in leftover.items() if task not in stuck]
        await release_runs(calls, stopped)

    async def _wait_for(
        self, tasks: set[asyncio.Task[None]], seconds: float
    ) -> set[asyncio.Task[None]]:
        """Wait until `tasks` are done, `seconds` pass, or a second signal comes;
        returns the tasks still pending."""
        if not tasks:
            return set()
        everything = asyncio.ensure_future(asyncio.wait(tasks))
        force = asyncio.ensure_future(self._force.wait())
        try:
            await asyncio.wait(
                {everything, force}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            everything.cancel()
            force.cancel()
        return {task for task in tasks if not task.done()}

    # --- signals ------------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        if self._stopping.is_set():
            log.warning("second %s: cancelling in-flight runs now", signal.Signals(signum).name)
            self._force.set()
            return
        log.info("%s: shutting down gracefully", signal.Signals(signum).name)
        self._stopping.set()

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGTERM/SIGINT handlers for the run; the returned function puts back the ones
        the host application had (signal.signal handlers)."""
        if not self._install_signals or threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            before = signal.getsignal(signum)
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self._on_signal, signum)
                previous[signum] = before

        def restore() -> None:
            for signum, before in previous.items():
                loop.remove_signal_handler(signum)
                if before is not None:
                    signal.signal(signum, before)

        return restore


def _by_name(workflows: Sequence[AnyWorkflow]) -> dict[str, AnyWorkflow]:
    named: dict[str, AnyWorkflow] = {}
    for workflow in workflows:
        if workflow.name in named:
            raise ValueError(f"two workflows are named {workflow.name!r}")
        named[workflow.name] = workflow
    if not named:
        raise ValueError("a worker needs at least one workflow")
    return named
