"""Argument values of the `stepline` CLI: JSON payloads, times and durations.

Each parser raises `argparse.ArgumentTypeError`, so a bad value is a usage error
(exit code 2) that names its flag.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def json_value(text: str) -> Any:
    """A JSON document given inline, as `@path` to a file, or as `-` for stdin."""
    if text == "-":
        source, document = "stdin", sys.stdin.read()
    elif text.startswith("@"):
        source = text[1:]
        try:
            document = Path(source).read_text()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {source}: {exc.strerror}") from None
    else:
        source, document = "", text
    try:
        return json.loads(document)
    except json.JSONDecodeError as exc:
        where = f" in {source}" if source else ""
        raise argparse.ArgumentTypeError(f"not valid JSON{where}: {exc}") from None


def json_object(text: str) -> dict[str, Any]:
    value = json_value(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def duration(text: str) -> timedelta:
    """`500ms`, `30s`, `2m`, `1h`, `1d`, or plain seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration (like 30s, 10m, 1h): {text!r}")
    try:
        return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2] or "s"])
    except OverflowError:
        raise argparse.ArgumentTypeError(f"too long a duration: {text!r}") from None


def point_in_time(text: str) -> datetime:
    """An RFC 3339 time with its offset, or a duration counted from now."""
    return _moment(text, ahead=True)


def point_in_past(text: str) -> datetime:
    """An RFC 3339 time with its offset, or a duration counted back from now."""
    return _moment(text, ahead=False)


def _moment(text: str, *, ahead: bool) -> datetime:
    if _DURATION.match(text.strip()):
        try:
            return datetime.now(UTC) + (duration(text) if ahead else -duration(text))
        except OverflowError:
            raise argparse.ArgumentTypeError(f"too far from now: {text!r}") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 time (2030-01-01T09:00:00Z) or a duration (10m): {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time zone, as in {text}Z: {text!r}")
    return moment.astimezone(UTC)


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return number


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)
