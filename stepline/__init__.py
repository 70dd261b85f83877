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
"""

from stepline._client import Client
from stepline._context import StepContext, WorkflowContext
from stepline._errors import (
    DuplicateStepError,
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
    ServerUnavailable,
    StepAttemptNotFound,
    SteplineError,
    StepStateError,
)
from stepline._sync import SyncClient
from stepline._values import Failure, Page, RetryPolicy, Run, RunStatus, Step
from stepline._worker import Worker, WorkerStats
from stepline._workflow import Workflow, workflow

__all__ = [
    "Client",
    "DuplicateStepError",
    "Failure",
    "IdempotencyConflict",
    "InvalidArgument",
    "InvalidPageToken",
    "LeaseLost",
    "NonRetryableError",
    "NotSerializableError",
    "Page",
    "PayloadTooLarge",
    "RetryPolicy",
    "Run",
    "RunAlreadyTerminal",
    "RunCanceled",
    "RunDeadlineExceeded",
    "RunFailed",
    "RunNotFound",
    "RunStatus",
    "ServerUnavailable",
    "Step",
    "StepAttemptNotFound",
    "StepContext",
    "StepStateError",
    "SteplineError",
    "SyncClient",
    "Worker",
    "WorkerStats",
    "Workflow",
    "WorkflowContext",
    "workflow",
]
