"""Pieces shared by an execution and its steps: the signal that ends an execution, the
log adapter that stamps run fields on records, and exceptions turned into Failures."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from stepline._convert import fill_value
from stepline._errors import NotSerializableError
from stepline.v1 import common_pb2

# Bounds that keep a Failure under the server's payload limit.
_MAX_STACK_TRACE = 32 * 1024
_MAX_MESSAGE = 8 * 1024


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
