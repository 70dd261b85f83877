"""Log lines: text for people, JSON lines for log collectors.

The SDK puts a run's `run_id`, `workflow` and `attempt` (and a step's `step_id`) in
each record's `extra`; both formats show the ones a record carries, so a line can be
traced back to its run with `stepline runs get RUN_ID`. Both also show `trace_id` and
`span_id` (W3C hex) of the span current when the record is formatted, and `run_id`
from `stepline.tracing.current_run_id` when the record has none, so a line joins its
trace in a tracing backend.

Shared by the SDK and the server (`stepline-server` formats its lines with these
too), so it imports only `stepline.tracing`, never the client or the worker; importing
it configures nothing. A handler that formats records later on another thread (a
QueueHandler's listener) needs `TraceContextFilter` on the logger or handler that
receives them, which stamps these fields where the record is made.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from opentelemetry import trace

from stepline import tracing

# The `extra` fields the SDK sets, in the order they are shown.
RUN_FIELDS = ("run_id", "workflow", "attempt", "step_id")
TRACE_FIELDS = ("trace_id", "span_id")
FORMATS = ("text", "json")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """`… INFO stepline.worker: run completed run_id=… workflow=… attempt=1 trace_id=…`."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        fields = " ".join(f"{name}={value}" for name, value in context_fields(record).items())
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the run and trace fields,
    exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TraceContextFilter(logging.Filter):
    """Stamps `trace_id`, `span_id` and `run_id` on each record where it is made, for
    formatters that run later elsewhere (the record's own values are kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context_fields(record).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def configure(level: str, style: str) -> None:
    """Send every log record to stderr in `style` ("text" or "json") from `level` up."""
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def context_fields(record: logging.LogRecord) -> dict[str, object]:
    """The record's run fields, then trace_id and span_id; each only when known."""
    fields = {name: getattr(record, name) for name in RUN_FIELDS if hasattr(record, name)}
    if "run_id" not in fields and (run_id := tracing.current_run_id.get()) is not None:
        fields = {"run_id": run_id, **fields}
    if all(hasattr(record, name) for name in TRACE_FIELDS):
        fields.update({name: getattr(record, name) for name in TRACE_FIELDS})
    else:
        fields.update(current_trace_ids())
    return fields


def current_trace_ids() -> dict[str, str]:
    """{"trace_id", "span_id"} of the current span as lowercase hex, or {} if none."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
