"""Finished runs with a step history, driven through the Store API, for the replay tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from storage import Store
from storage.records import (
    ClaimedRun,
    Lease,
    Run,
    RunFailParams,
    RunSleepParams,
    RunStatus,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepKind,
)
from tests.storage.helpers import (
    FAST_POLICY,
    all_steps,
    claim_eventually,
    create_run,
    failure,
    get_run,
    lease_of,
)

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CONTEXT = json.dumps({"tenant": "t1", "trace": {"traceparent": TRACEPARENT}})


@dataclass(frozen=True)
class History:
    """A FAILED run and its attempts, oldest first."""

    run: Run
    steps: list[StepAttempt]

    def attempt(self, step_id: str, attempt: int = 1) -> StepAttempt:
        (found,) = [s for s in self.steps if (s.step_id, s.attempt) == (step_id, attempt)]
        return found


async def complete(store: Store, lease: Lease, step_id: str, output: str) -> None:
    await store.step_complete(StepCompleteParams(lease, output, step_id=step_id))


async def failed_at_charge(store: Store, ns: str, queue: str) -> History:
    """validate (COMPLETED), nap (a SLEEP already elapsed), charge fails once (the run is
    retried), then on the retry charge completes and ship fails for good:

        validate C, nap C (SLEEP), charge#1 F, charge#2 C, ship F     -> run FAILED
    """
    run = await create_run(
        store, ns, queue, input='{"order":7}', context=CONTEXT, retry_policy=FAST_POLICY
    )
    first = lease_of(await claim_eventually(store, ns, queue))
    await complete(store, first, "validate", '{"ok":true}')
    past = (await get_run(store, ns, run.run_id)).created_at - timedelta(seconds=1)
    await store.run_sleep(RunSleepParams(first, "nap", wake_up_at=past))
    await store.step_fail(StepFailParams(first, failure("CardError"), step_id="charge"))
    second = lease_of(await claim_eventually(store, ns, queue))
    await complete(store, second, "charge", '{"charge_id":"ch_7"}')
    fatal = failure("Fatal", non_retryable=True)
    await store.step_fail(StepFailParams(second, fatal, step_id="ship"))
    return await finished(store, ns, run.run_id)


async def completed_out_of_order(store: Store, ns: str, queue: str) -> History:
    """Step a begins, b completes, the run fails (a is abandoned); on the retry a
    completes and c fails for good. First recorded: a, b, c; completed: b, then a.

        a#1 F, b C, a#2 C, c F     -> run FAILED
    """
    run = await create_run(store, ns, queue, retry_policy=FAST_POLICY)
    first = lease_of(await claim_eventually(store, ns, queue))
    await store.step_begin(StepBeginParams(first, "a"))
    await complete(store, first, "b", '"b"')
    await store.run_fail(RunFailParams(first, failure("Flaky")))
    second = lease_of(await claim_eventually(store, ns, queue))
    await complete(store, second, "a", '"a"')
    await store.step_fail(StepFailParams(second, failure("Fatal", non_retryable=True), step_id="c"))
    return await finished(store, ns, run.run_id)


async def finished(store: Store, ns: str, run_id: str) -> History:
    run = await get_run(store, ns, run_id)
    assert run.status is RunStatus.FAILED, run
    return History(run, await all_steps(store, ns, run_id))


def kinds(steps: list[StepAttempt]) -> list[tuple[str, StepKind]]:
    return [(s.step_id, s.kind) for s in steps]


def claimed_history(claimed: ClaimedRun) -> list[tuple[str, str | None]]:
    return [(s.step_id, s.copied_from_step_attempt_id) for s in claimed.steps]
