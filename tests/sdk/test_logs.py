"""The log formatters' trace fields: trace_id and span_id of the current span, run_id
from the record or else from `stepline.tracing.current_run_id`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from stepline import tracing
from stepline.logs import JsonFormatter, TextFormatter, TraceContextFilter

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"


def _record(message: str = "hello", **extra: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "app", "levelname": "INFO", "msg": message, **extra})


@contextmanager
def inside_run(run_id: str = "run-1") -> Iterator[None]:
    """A valid current span and a current run, as in a worker's execution."""
    context = SpanContext(
        int(TRACE_ID, 16), int(SPAN_ID, 16), is_remote=False, trace_flags=TraceFlags(1)
    )
    token = tracing.current_run_id.set(run_id)
    try:
        with trace.use_span(NonRecordingSpan(context)):
            yield
    finally:
        tracing.current_run_id.reset(token)


def test_json__inside_a_run_carries_trace_span_and_run_ids() -> None:
    with inside_run():
        line = json.loads(JsonFormatter().format(_record()))
    assert (line["trace_id"], line["span_id"], line["run_id"]) == (TRACE_ID, SPAN_ID, "run-1")
    assert line["message"] == "hello"


def test_json__outside_a_run_has_no_ids() -> None:
    line = json.loads(JsonFormatter().format(_record()))
    assert not {"trace_id", "span_id", "run_id"} & set(line)


def test_json__an_invalid_current_span_gives_no_trace_ids() -> None:
    with trace.use_span(trace.INVALID_SPAN):
        line = json.loads(JsonFormatter().format(_record()))
    assert "trace_id" not in line and "span_id" not in line


def test_json__the_records_own_run_id_wins_over_the_current_run() -> None:
    with inside_run("run-1"):
        line = json.loads(JsonFormatter().format(_record(run_id="run-2", step_id="s")))
    assert (line["run_id"], line["step_id"]) == ("run-2", "s")


def test_text__ends_with_the_run_then_the_trace_fields() -> None:
    with inside_run():
        line = TextFormatter().format(_record(step_id="charge"))
    assert line.endswith(
        f"INFO app: hello run_id=run-1 step_id=charge trace_id={TRACE_ID} span_id={SPAN_ID}"
    )


def test_filter__stamps_the_ids_where_the_record_is_made() -> None:
    """A record formatted later, outside the span (a QueueHandler's listener), keeps them."""
    record = _record()
    with inside_run():
        assert TraceContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["trace_id"], line["span_id"], line["run_id"]) == (TRACE_ID, SPAN_ID, "run-1")
