"""stepline: durable workflows as a service — the Python SDK.

Write workflows as plain async Python; every step is recorded by the server, so a crash,
a deploy or a week-long sleep resumes at the first unfinished step::

    from datetime import timedelta
    from stepline import Client, Worker, WorkflowContext, workflow

    @workflow(name="order.fulfil", version="1")
    async def fulfil(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
        charge = await ctx.step.run("charge", charge_card, order)
        await ctx.step.sleep("cool-off", timedelta(hours=1))
        await ctx.step.run("ship", ship, order)
        return {"charge": charge}

    await Worker("127.0.0.1:50051", workflows=[fulfil]).run()       # until SIGTERM

    async with Client("127.0.0.1:50051") as client:
        run = await client.start("order.fulfil", {"id": 1}, idempotency_key="order-1")
        result = await client.result(run.run_id)

`SyncClient` offers the client's methods without `await`, for scripts and notebooks.
The SDK speaks to the server only over gRPC; `stepline.v1` holds the generated stubs.

The public names below load on first use (PEP 562), so `import stepline` itself costs
nothing. That matters to the server: it shares four modules of this package — the
generated `stepline.v1`, `stepline.tracing`, `stepline.logs` and `stepline.tls` — and
must not load the client, the worker or the execution engine with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads them
    from stepline._client import Client
    from stepline._context import StepContext, WorkflowContext
    from stepline._errors import (
        ChildRunFailed,
        DuplicateStepError,
        EventNotFound,
        ExecutionAlreadyEnded,
        IdempotencyConflict,
        InvalidArgument,
        InvalidPageToken,
        LeaseLost,
        NonRetryableError,
        NotSerializableError,
        PayloadTooLarge,
        RunAlreadyTerminal,
        RunCanceled,
        RunDeadlineExceeded,
        RunFailed,
        RunNotFound,
        RunNotTerminal,
        ScheduleAlreadyExists,
        ScheduleNotFound,
        ServerUnavailable,
        StepAttemptNotFound,
        SteplineError,
        StepNotFound,
        StepStateError,
        WorkflowNotFound,
    )
    from stepline._schedules import Overlap, Schedule
    from stepline._sync import SyncClient
    from stepline._values import (
        BatchResult,
        Event,
        EventRuns,
        EventSent,
        Failure,
        Page,
        RetryPolicy,
        Run,
        RunStatus,
        Signal,
        Step,
    )
    from stepline._worker import Worker, WorkerStats
    from stepline._workflow import Workflow, workflow
    from stepline.tls import TLSConfig

# The private module that defines each public name.
_MODULES: dict[str, tuple[str, ...]] = {
    "stepline._client": ("Client",),
    "stepline._context": ("StepContext", "WorkflowContext"),
    "stepline._errors": (
        "ChildRunFailed",
        "DuplicateStepError",
        "EventNotFound",
        "ExecutionAlreadyEnded",
        "IdempotencyConflict",
        "InvalidArgument",
        "InvalidPageToken",
        "LeaseLost",
        "NonRetryableError",
        "NotSerializableError",
        "PayloadTooLarge",
        "RunAlreadyTerminal",
        "RunCanceled",
        "RunDeadlineExceeded",
        "RunFailed",
        "RunNotFound",
        "RunNotTerminal",
        "ScheduleAlreadyExists",
        "ScheduleNotFound",
        "ServerUnavailable",
        "StepAttemptNotFound",
        "SteplineError",
        "StepNotFound",
        "StepStateError",
        "WorkflowNotFound",
    ),
    "stepline._schedules": ("Overlap", "Schedule"),
    "stepline._sync": ("SyncClient",),
    "stepline._values": (
        "BatchResult",
        "Event",
        "EventRuns",
        "EventSent",
        "Failure",
        "Page",
        "RetryPolicy",
        "Run",
        "RunStatus",
        "Signal",
        "Step",
    ),
    "stepline._worker": ("Worker", "WorkerStats"),
    "stepline._workflow": ("Workflow", "workflow"),
    "stepline.tls": ("TLSConfig",),
}
_HOMES = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "BatchResult",
    "ChildRunFailed",
    "Client",
    "DuplicateStepError",
    "Event",
    "EventNotFound",
    "EventRuns",
    "EventSent",
    "ExecutionAlreadyEnded",
    "Failure",
    "IdempotencyConflict",
    "InvalidArgument",
    "InvalidPageToken",
    "LeaseLost",
    "NonRetryableError",
    "NotSerializableError",
    "Overlap",
    "Page",
    "PayloadTooLarge",
    "RetryPolicy",
    "Run",
    "RunAlreadyTerminal",
    "RunCanceled",
    "RunDeadlineExceeded",
    "RunFailed",
    "RunNotFound",
    "RunNotTerminal",
    "RunStatus",
    "Schedule",
    "ScheduleAlreadyExists",
    "ScheduleNotFound",
    "ServerUnavailable",
    "Signal",
    "Step",
    "StepAttemptNotFound",
    "StepContext",
    "StepNotFound",
    "StepStateError",
    "SteplineError",
    "SyncClient",
    "TLSConfig",
    "Worker",
    "WorkerStats",
    "Workflow",
    "WorkflowContext",
    "WorkflowNotFound",
    "workflow",
]


if not TYPE_CHECKING:  # hidden from type checkers, which would take any name through it

    def __getattr__(name: str) -> Any:
        """Load a public name from its module on first use, then keep it here."""
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # later lookups skip this function
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
