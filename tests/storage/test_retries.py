"""Retries: a failed execution reschedules the run by its policy, or fails it for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import LeaseLost, Store
from storage.records import Failure, RetryPolicy, Run, RunHeartbeatParams, RunStatus
from storage.rules import backoff, retry_at
from tests.storage.failing import FAILERS
from tests.storage.helpers import (
    DEFAULT_POLICY,
    FAST_POLICY,
    HOUR,
    LEASE,
    claim,
    claim_eventually,
    failure,
    get_run,
    lease_of,
    start_run,
)

MS = timedelta(milliseconds=1)


def policy(
    initial: timedelta = MS, coefficient: float = 2.0, maximum: timedelta = HOUR, attempts: int = 0
) -> RetryPolicy:
    return RetryPolicy(initial, coefficient, maximum, attempts)


def retry_delay(run: Run) -> timedelta:
    assert run.available_at is not None
    return run.available_at - run.updated_at


async def fail_n_times(
    store: Store, ns: str, queue: str, failer: str, n: int, retry_policy: RetryPolicy
) -> list[Run]:
    """Start a run and fail it `n` times, claiming each retry as soon as it is due."""
    claimed = await start_run(store, ns, queue, retry_policy=retry_policy)
    runs = []
    for i in range(n):
        if i:
            claimed = await claim_eventually(store, ns, queue)
        runs.append(await FAILERS[failer](store, lease_of(claimed), failure()))
    return runs


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__failure_reschedules_the_run_by_backoff(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    (run,) = await fail_n_times(store, ns, queue, failer, 1, DEFAULT_POLICY)
    assert run.status is RunStatus.PENDING
    assert run.attempt == 2
    assert run.error == failure()
    assert run.finished_at is None
    assert retry_delay(run) == backoff(DEFAULT_POLICY, 1) == timedelta(seconds=1)
    assert await get_run(store, ns, run.run_id) == run


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__backoff_grows_with_each_failure(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    retry_policy = policy(coefficient=2.0)
    runs = await fail_n_times(store, ns, queue, failer, 4, retry_policy)
    assert [r.attempt for r in runs] == [2, 3, 4, 5]
    assert [retry_delay(r) for r in runs] == [MS, 2 * MS, 4 * MS, 8 * MS]
    assert [retry_delay(r) for r in runs] == [backoff(retry_policy, n) for n in (1, 2, 3, 4)]


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__backoff_is_capped_at_maximum_interval(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    retry_policy = policy(coefficient=10.0, maximum=5 * MS)
    runs = await fail_n_times(store, ns, queue, failer, 3, retry_policy)
    assert [retry_delay(r) for r in runs] == [MS, 5 * MS, 5 * MS]


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__exhausted_attempts_fail_the_run(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    runs = await fail_n_times(store, ns, queue, failer, 3, policy(attempts=3))
    assert [r.status for r in runs] == [RunStatus.PENDING, RunStatus.PENDING, RunStatus.FAILED]
    last = runs[-1]
    assert last.attempt == 3
    assert last.error == failure()
    assert last.finished_at is not None
    assert (await claim(store, ns, queue)).claimed == []


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__maximum_attempts_one_means_no_retry(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    (run,) = await fail_n_times(store, ns, queue, failer, 1, policy(attempts=1))
    assert (run.status, run.attempt, run.error) == (RunStatus.FAILED, 1, failure())


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__maximum_attempts_zero_is_unlimited(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    runs = await fail_n_times(store, ns, queue, failer, 6, FAST_POLICY)
    assert runs[-1].status is RunStatus.PENDING
    assert runs[-1].attempt == 7


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__non_retryable_error_fails_the_run_at_once(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    claimed = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    fatal = failure("Invalid", non_retryable=True)
    run = await FAILERS[failer](store, lease_of(claimed), fatal)
    assert (run.status, run.attempt, run.error) == (RunStatus.FAILED, 1, fatal)
    assert run.finished_at is not None
    assert await get_run(store, ns, run.run_id) == run


@pytest.mark.parametrize("failer", FAILERS)
async def test_retry__failure_releases_the_lease(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await FAILERS[failer](store, lease_of(claimed), failure())
    with pytest.raises(LeaseLost):
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))


async def test_retry__run_is_not_claimed_before_its_backoff_elapses(
    store: Store, ns: str, queue: str
) -> None:
    await fail_n_times(store, ns, queue, "run_fail", 1, policy(initial=timedelta(minutes=10)))
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is not None
    assert timedelta(minutes=9) < result.next_due_in <= timedelta(minutes=10)


async def test_retry__retried_run_keeps_started_at_and_counts_the_attempt(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    await FAILERS["run_fail"](store, lease_of(first), failure())
    second = await claim_eventually(store, ns, queue)
    assert second.run.started_at == first.run.started_at
    assert second.run.attempt == 2
    assert second.run.status is RunStatus.RUNNING
    assert second.lease_id != first.lease_id


async def test_retry__failure_details_round_trip(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    error = failure("Http500", details='{"status":500,"body":["a","b"]}')
    run = await FAILERS["run_fail"](store, lease_of(claimed), error)
    assert run.error == error
    assert (await get_run(store, ns, run.run_id)).error == error


def test_retry_at__a_retry_past_year_9999_is_no_retry() -> None:
    # Only a policy stored before intervals were capped can reach this: the run fails
    # for good rather than raising OverflowError in the middle of a worker call.
    ancient = RetryPolicy(
        initial_interval=timedelta(days=999_999_999),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(days=999_999_999),
        maximum_attempts=0,
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_at(ancient, 1, None, Failure(type="E", message="m"), now) is None
