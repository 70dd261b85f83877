"""Argument values of the `stepline` CLI: JSON payloads, times and durations.

Each parser raises `argparse.ArgumentTypeError`, so a bad value is a usage error
(exit code 2) that names its flag.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_INT32_MAX = 2**31 - 1
# Payloads are nested protobuf messages, and protobuf decoders stop at 100 levels of
# messages (a JSON level costs two or three): well within that.
MAX_DEPTH = 32
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def json_value(text: str) -> Any:
    """A JSON document given inline, as `@path` to a file, or as `-` for stdin."""
    source, document = _document(text)
    where = f" in {source}" if source else ""
    try:
        value = json.loads(
            document, parse_int=_exact_int, parse_float=_finite_float, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON{where}: {exc}") from None
    except _Uncarried as exc:
        raise argparse.ArgumentTypeError(f"{exc}{where}") from None
    except (ValueError, RecursionError):
        # Python's own limits: an integer of over 4300 digits, or nesting too deep.
        raise argparse.ArgumentTypeError(f"too big or too deeply nested JSON{where}") from None
    if _deeper_than(value, MAX_DEPTH):
        raise argparse.ArgumentTypeError(f"JSON nested over {MAX_DEPTH} levels deep{where}")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Arrays and objects nested more than `limit` deep? Level by level, not recursively:
    the value may be as deep as Python's JSON decoder allows."""
    level = [value]
    for _ in range(limit):
        level = [child for item in level for child in _children(item) if _nests(child)]
    return any(_nests(item) for item in level)


def _nests(value: Any) -> bool:
    return isinstance(value, dict | list)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def _document(text: str) -> tuple[str, str]:
    """(where the JSON came from, the JSON): inline, `@path`, or `-` for stdin."""
    if text == "-":
        return "stdin", sys.stdin.read()
    if not text.startswith("@"):
        return "", text
    try:
        return text[1:], Path(text[1:]).read_text()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {exc.strerror}") from None


class _Uncarried(ValueError):
    """Valid JSON with a number that payloads (protobuf doubles) cannot carry."""


def _exact_int(text: str) -> int:
    # A payload number is a double: refuse the whole numbers it would silently change.
    number = int(text)
    try:
        exact = int(float(number)) == number
    except OverflowError:
        exact = False
    if not exact:
        raise _Uncarried(
            f"{_short(text)} is too large for a payload number (a double); quote it as a string"
        )
    return number


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Uncarried(f"{_short(text)} is out of range for a JSON number")
    return number


def _no_constant(text: str) -> float:
    raise _Uncarried(f"{text} is not a JSON number")


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


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
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first UTC year
        raise argparse.ArgumentTypeError(f"out of the range of times: {text!r}") from None


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    if number > _INT32_MAX:  # the API's counts are int32
        raise argparse.ArgumentTypeError(f"must be at most {_INT32_MAX}: {text}")
    return number


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)
