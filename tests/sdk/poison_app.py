"""A worker process whose "poison" workflow SIGKILLs the process running it, beside a
"fine" workflow: `python -m tests.sdk.poison_app ADDRESS NAMESPACE`. One run at a time,
so a kill takes no other run down with it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from stepline import Worker, WorkflowContext, workflow


@workflow(name="poison")
async def poison(ctx: WorkflowContext, _: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@workflow(name="fine")
async def fine(ctx: WorkflowContext, n: int) -> int:
    return await ctx.step.run("double", lambda: n * 2)


def main() -> None:
    address, namespace = sys.argv[1], sys.argv[2]
    worker = Worker(
        address, namespace=namespace, workflows=[poison, fine], concurrency=1, poll_wait=1.0
    )
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
