"""Check through the public API that no work was lost: every run COMPLETED, each with
exactly its steps, each step completed once. A benchmark that loses work is worthless."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bench.api import Api
from stepline.v1 import step_attempt_pb2 as sa
from stepline.v1 import workflow_run_pb2 as wr
from stepline.v1 import workflow_service_pb2 as wf

_PAGE_SIZE = 1000
_CONCURRENCY = 20
_MAX_PROBLEMS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Verification:
    expected_runs: int
    completed_runs: int
    runs_with_all_steps: int
    steps: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        text = (
            f"{self.completed_runs}/{self.expected_runs} runs COMPLETED, "
            f"{self.runs_with_all_steps}/{self.expected_runs} with exactly "
            f"{self.steps} completed step attempts"
        )
        if self.ok:
            return f"{text}: OK"
        shown = "; ".join(self.problems[:_MAX_PROBLEMS_SHOWN])
        more = len(self.problems) - _MAX_PROBLEMS_SHOWN
        return f"{text}: LOST WORK: {shown}" + (f" (+{more} more)" if more > 0 else "")


async def verify_runs(
    api: Api, namespace_id: str, run_ids: Sequence[str], steps: int
) -> Verification:
    statuses = await _run_statuses(api, namespace_id)
    problems = [
        f"run {run_id} is {wr.WorkflowRunStatus.Name(statuses.get(run_id, 0))}"
        for run_id in run_ids
        if statuses.get(run_id) != wr.WORKFLOW_RUN_STATUS_COMPLETED
    ]
    if len(statuses) != len(run_ids):
        problems.append(f"{len(statuses)} runs in the namespace, {len(run_ids)} started")
    step_problems = await _check_all_steps(api, namespace_id, run_ids, steps)
    return Verification(
        expected_runs=len(run_ids),
        completed_runs=sum(s == wr.WORKFLOW_RUN_STATUS_COMPLETED for s in statuses.values()),
        runs_with_all_steps=len(run_ids) - len(step_problems),
        steps=steps,
        problems=tuple(problems + step_problems),
    )


async def _run_statuses(api: Api, namespace_id: str) -> dict[str, int]:
    statuses: dict[str, int] = {}
    token = ""
    while True:
        page = await api.list_runs(
            wf.ListWorkflowRunsRequest(
                namespace_id=namespace_id, page_size=_PAGE_SIZE, page_token=token
            )
        )
        statuses.update((run.run_id, run.status) for run in page.workflow_runs)
        if not page.has_more:
            return statuses
        token = page.next_page_token


async def _check_all_steps(
    api: Api, namespace_id: str, run_ids: Sequence[str], steps: int
) -> list[str]:
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def check(run_id: str) -> str | None:
        async with limit:
            return await _check_steps(api, namespace_id, run_id, steps)

    results = await asyncio.gather(*(check(run_id) for run_id in run_ids))
    return [problem for problem in results if problem is not None]


async def _check_steps(api: Api, namespace_id: str, run_id: str, steps: int) -> str | None:
    page = await api.list_steps(
        wf.ListStepAttemptsRequest(namespace_id=namespace_id, run_id=run_id, page_size=_PAGE_SIZE)
    )
    attempts = page.step_attempts
    step_ids = sorted(a.step_id for a in attempts)
    expected = sorted(f"step-{n}" for n in range(1, steps + 1))
    completed = all(a.status == sa.STEP_ATTEMPT_STATUS_COMPLETED for a in attempts)
    if step_ids == expected and completed:
        return None
    return f"run {run_id} has {len(attempts)} step attempts {step_ids}, all completed: {completed}"
