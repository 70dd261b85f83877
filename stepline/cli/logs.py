"""The worker's log lines: text for people, JSON lines for log collectors.

The SDK puts a run's `run_id`, `workflow` and `attempt` (and a step's `step_id`) in
each record's `extra`; both formats show the ones a record carries, so a line can be
traced back to its run with `stepline runs get RUN_ID`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# The `extra` fields the SDK sets, in the order they are shown.
RUN_FIELDS = ("run_id", "workflow", "attempt", "step_id")
FORMATS = ("text", "json")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """`… INFO stepline.worker: run completed run_id=… workflow=… attempt=1`."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        fields = " ".join(f"{name}={value}" for name, value in _run_fields(record).items())
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the run fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_run_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, style: str) -> None:
    """Send every log record to stderr in `style` ("text" or "json") from `level` up."""
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def _run_fields(record: logging.LogRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in RUN_FIELDS if hasattr(record, name)}
