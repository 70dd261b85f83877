"""Delays: a step's in-process retries, and the worker's reconnect backoff with jitter."""

from __future__ import annotations

import random
from datetime import timedelta

from stepline._values import RetryPolicy

# Defaults of a step's in-process retries, for fields the given policy leaves unset.
STEP_INITIAL = timedelta(seconds=1)
STEP_COEFFICIENT = 2.0
STEP_MAXIMUM_INTERVAL = timedelta(seconds=100)
STEP_MAXIMUM_ATTEMPTS = 3


def step_retry_delay(policy: RetryPolicy | None, failed_attempt: int) -> float | None:
    """Seconds to wait before trying a step again after attempt `failed_attempt` (1-based)
    failed, or None when the step has used up its in-process attempts."""
    if policy is None:
        return None
    attempts = STEP_MAXIMUM_ATTEMPTS if policy.maximum_attempts is None else policy.maximum_attempts
    if attempts and failed_attempt >= attempts:
        return None
    initial = (policy.initial_interval or STEP_INITIAL).total_seconds()
    coefficient = policy.backoff_coefficient or STEP_COEFFICIENT
    cap = (policy.maximum_interval or STEP_MAXIMUM_INTERVAL).total_seconds()
    try:
        delay = initial * coefficient ** (failed_attempt - 1)
    except OverflowError:  # unlimited attempts run far enough: the cap holds from there
        return float(cap)
    return float(min(delay, cap))


def policy_config(policy: RetryPolicy) -> dict[str, object]:
    """The policy as JSON, recorded in the step's config so the history shows it."""
    doc: dict[str, object] = {}
    if policy.initial_interval is not None:
        doc["initial_interval"] = policy.initial_interval.total_seconds()
    if policy.backoff_coefficient is not None:
        doc["backoff_coefficient"] = policy.backoff_coefficient
    if policy.maximum_interval is not None:
        doc["maximum_interval"] = policy.maximum_interval.total_seconds()
    if policy.maximum_attempts is not None:
        doc["maximum_attempts"] = policy.maximum_attempts
    return {"retry": doc}


class Backoff:
    """Exponential backoff with "equal" jitter (a delay between half the ceiling and the
    ceiling), for reconnecting to a server that is down."""

    def __init__(self, initial: float = 0.1, maximum: float = 10.0, factor: float = 2.0) -> None:
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self._initial * self._factor**self.failures, self._maximum)
        self.failures += 1
        # Jitter: many workers that lost one server do not come back in lockstep; the
        # lower half is kept so that a retry never comes right away.
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
