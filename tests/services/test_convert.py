"""Payload and time conversion between protobuf and storage's JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from services import convert

SAMPLES: list[Any] = [
    None,
    True,
    0,
    -3,
    2**52,
    1.5,
    "héllo \u0000 world",
    [],
    {},
    {"a": [1, {"b": None}], "c": "d", "e": False},
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_value_round_trips_through_json_text(sample: Any) -> None:
    value = json_format.ParseDict(sample, struct_pb2.Value())
    text = convert.value_to_json(value)
    assert json.loads(text) == sample
    back = struct_pb2.Value()
    convert.fill_value(back, text)
    assert back == value


def test_integral_numbers_are_written_as_integers() -> None:
    assert convert.value_to_json(struct_pb2.Value(number_value=42.0)) == "42"


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_not_json(number: float) -> None:
    with pytest.raises(convert.NotJsonError):
        convert.value_to_json(struct_pb2.Value(number_value=number))


def test_empty_value_is_null() -> None:
    assert convert.value_to_json(struct_pb2.Value()) == "null"


def test_unset_payload_stays_unset() -> None:
    out = struct_pb2.Value()
    convert.fill_value(out, None)
    assert out.WhichOneof("kind") is None


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 25, 17, 46, 8, 123456, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC),
    ],
)
def test_timestamps_round_trip(moment: datetime) -> None:
    ts = convert.timestamp(moment)
    assert ts.ToDatetime(tzinfo=UTC) == moment
    assert convert.to_datetime(ts) == moment
