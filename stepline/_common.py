"""Pieces shared by an execution and its steps: the signal that ends an execution, the
log adapter that stamps run fields on records, and exceptions turned into Failures."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from stepline._convert import fill_value
from stepline._errors import NotSerializableError
from stepline.v1 import common_pb2, worker_service_pb2

# Bounds that keep a Failure under the server's payload limit.
_MAX_STACK_TRACE = 32 * 1024
_MAX_MESSAGE = 8 * 1024
# A failure the server refused is sent again within these: it fits any allowed limit.
_SLIM_STACK_TRACE = 256
_SLIM_MESSAGE = 256
_FALLBACK_LEASE = 30.0


class ExecutionEnded(BaseException):
    """The execution is over; the workflow's code must stop."""


class LogAdapter(logging.LoggerAdapter[logging.Logger]):
    """Adds the run's fields to every record, keeping the caller's own `extra`."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def failure_of(exc: BaseException, non_retryable: bool) -> common_pb2.Failure:
    trace = "".join(traceback.format_exception(exc))[-_MAX_STACK_TRACE:]
    out = common_pb2.Failure(
        type=type(exc).__qualname__,
        message=str(exc)[:_MAX_MESSAGE],
        stack_trace=trace,
        non_retryable=non_retryable,
    )
    details = getattr(exc, "details", None)
    if details is not None:
        try:
            fill_value(out.details, details, "details")
        except NotSerializableError:
            out.ClearField("details")
    return out


def slim_failure(error: common_pb2.Failure) -> common_pb2.Failure:
    """`error` without details, its message and trace cut to fit the smallest payload
    limit a server allows (1 KiB)."""
    return common_pb2.Failure(
        type=error.type[:_SLIM_MESSAGE],
        message=error.message[:_SLIM_MESSAGE],
        stack_trace=error.stack_trace[-_SLIM_STACK_TRACE:],
        non_retryable=error.non_retryable,
    )


def lease_seconds(task: worker_service_pb2.RunTask) -> float:
    """The lease's length: lease expiry - claim time, both on the server's clock, or the
    time left by the local clock when that is shorter (a clock ahead of the server's)."""
    if not task.HasField("lease_expires_at"):
        return _FALLBACK_LEASE
    expires = task.lease_expires_at.ToNanoseconds()
    candidates = [(expires - time.time_ns()) / 1e9]
    if task.run.HasField("updated_at"):
        candidates.append((expires - task.run.updated_at.ToNanoseconds()) / 1e9)
    positive = [seconds for seconds in candidates if seconds > 0]
    return min(positive) if positive else _FALLBACK_LEASE
