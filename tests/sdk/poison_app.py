"""A worker process whose "poison" workflow SIGKILLs the process running it, beside a
"fine" workflow: `python -m tests.sdk.poison_app ADDRESS NAMESPACE [pause]`. One run at a
time, so a kill takes no other run down with it. With `pause`, "poison" is registered
with max_crashes=2 and on_poison="pause"."""

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


poison_pausing = workflow(name="poison", max_crashes=2, on_poison="pause")(poison.fn)


@workflow(name="fine")
async def fine(ctx: WorkflowContext, n: int) -> int:
    return await ctx.step.run("double", lambda: n * 2)


def main() -> None:
    address, namespace = sys.argv[1], sys.argv[2]
    chosen = poison_pausing if sys.argv[3:] == ["pause"] else poison
    worker = Worker(
        address, namespace=namespace, workflows=[chosen, fine], concurrency=1, poll_wait=1.0
    )
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
