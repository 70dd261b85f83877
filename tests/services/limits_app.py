"""A worker process for the concurrency-limit test across servers:
`python -m tests.services.limits_app ADDRESS`. Its one workflow, "limited", allows 3 runs
at once and 1 per concurrency key; each run holds its slot for one short step. The worker
itself would take 10 runs at once: only the server's limits hold it back."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from stepline import Worker, WorkflowContext, workflow

MAX_CONCURRENCY = 3
MAX_PER_KEY = 1


@workflow(name="limited", max_concurrency=MAX_CONCURRENCY, max_concurrency_per_key=MAX_PER_KEY)
async def limited(ctx: WorkflowContext, _: Any) -> str:
    async def work() -> str:
        await asyncio.sleep(0.08)
        return "done"

    return await ctx.step.run("work", work)


def main() -> None:
    worker = Worker(sys.argv[1], workflows=[limited], concurrency=10, poll_wait=2.0)
    print("ready", flush=True)
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
