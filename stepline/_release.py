"""Handing runs back at shutdown: a run abandoned past the grace period is released
(ReleaseRun), so that another worker resumes it at once instead of after its lease."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import grpc
from opentelemetry import trace

from stepline._calls import WorkerCalls
from stepline._errors import LeaseLost, ServerUnavailable, SteplineError
from stepline._execution import Execution
from stepline.v1 import worker_service_pb2 as wk

# Shutdown must not hang on a server that does not answer: the lease expires anyway.
RELEASE_TIMEOUT = 2.0
REASON = "worker shutdown"


async def release_runs(calls: WorkerCalls, executions: Iterable[Execution]) -> None:
    await asyncio.gather(*(_release(calls, execution) for execution in executions))


async def _release(calls: WorkerCalls, execution: Execution) -> None:
    request = wk.ReleaseRunRequest(lease=execution.lease, reason=REASON)
    try:
        # In the run's trace, under its (ended) execution span: not a trace of its own.
        with trace.use_span(
            execution.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            await calls.call("release_run", request, deadline=RELEASE_TIMEOUT)
    except SteplineError as exc:
        # Lost lease: someone else has the run. Unavailable: its lease expires instead.
        quiet = isinstance(exc, LeaseLost | ServerUnavailable)
        if exc.code is grpc.StatusCode.DEADLINE_EXCEEDED:
            quiet = True
        execution.log.log(
            logging.INFO if quiet else logging.WARNING,
            "run not released (%s); its lease will expire",
            exc.message,
        )
        return
    execution.log.info("run released for another worker")
