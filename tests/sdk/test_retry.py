"""In-process step retry delays: the backoff formula, its cap, and no overflow when a
step retries without limit."""

from __future__ import annotations

from datetime import timedelta

from stepline import RetryPolicy
from stepline._retry import step_retry_delay

POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=100),
    maximum_attempts=0,
)


def test_step_retry_delay__grows_then_holds_at_the_cap() -> None:
    assert [step_retry_delay(POLICY, n) for n in (1, 2, 3, 8)] == [1.0, 2.0, 4.0, 100.0]


def test_step_retry_delay__unlimited_attempts_never_overflow() -> None:
    # 2.0 ** 1099 is past a float's range: the cap must still hold.
    assert step_retry_delay(POLICY, 1100) == 100.0


def test_step_retry_delay__none_once_attempts_are_used_up() -> None:
    limited = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
    assert step_retry_delay(limited, 2) == 2.0
    assert step_retry_delay(limited, 3) is None
    assert step_retry_delay(None, 1) is None
