"""gateway/render.py renders what json_format.MessageToDict renders: equal as JSON
values, numbers compared numerically (render.py prints integral doubles as ints)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message

from gateway.render import to_json
from stepline.v1 import workflow_service_pb2 as wf
from tests.gateway import protos

FULL_KITCHEN = {
    "i32": -5,
    "i64": "-9007199254740993",
    "u32": 4000000000,
    "u64": "18446744073709551615",
    "s32": -7,
    "s64": "-8",
    "f32": 9,
    "f64": "10",
    "sf64": "-11",
    "fl": 0.1,
    "db": 1e300,
    "flag": True,
    "text": "h\u00e9llo \u2713",
    "data": "AAH/",
    "color": "COLOR_BLUE",
    "nested": {"messageId": "m", "text": "t"},
    "manyI64": ["1", "-2"],
    "manyText": ["a", ""],
    "colors": ["COLOR_RED", 7],
    "nesteds": [{}, {"text": "x"}],
    "manyDb": [0.5, "NaN", "-Infinity", "Infinity"],
    "manyData": ["", "AA=="],
    "byName": {"a": "1"},
    "byNumber": {"-3": "neg"},
    "byFlag": {"true": {"text": "yes"}, "false": {}},
    "colorByName": {"x": "COLOR_RED"},
    "at": "2030-01-02T03:04:05.123456789Z",
    "took": "-1.500s",
    "mask": "a.b,cD",
    "doc": {"k": [1, "two", None, {"z": False}], "empty": {}},
    "value": {"nested": [1.5]},
    "list": [None, True, "s"],
    "wrappedI64": "0",
    "wrappedFlag": False,
    "wrappedFl": 0.1,
    "wrappedData": "AQI=",
    "empty": {},
    "choiceNumber": "0",
    "maybe": 0,
    "times": ["1970-01-01T00:00:00Z"],
    "values": [None, 3, "x", [], {}],
    "child": {"child": {"i32": 1}},
}

CASES: list[dict[str, Any]] = [
    {},
    FULL_KITCHEN,
    {"choiceText": "", "value": None, "fl": 3.4028234663852886e38},
    {"fl": "Infinity", "db": "-Infinity", "value": "s", "doc": {}},
]


def _same(ours: Any, theirs: Any) -> bool:
    """Equal JSON values; numbers compare by value (1 == 1.0), but never with a bool."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return ours == theirs
    return type(ours) is type(theirs) and bool(ours == theirs)


@pytest.mark.parametrize("document", CASES)
def test_render__matches_json_format(document: dict[str, Any]) -> None:
    kitchen = protos.message_class("Kitchen")()
    json_format.ParseDict(document, kitchen)
    assert _same(to_json(kitchen), json_format.MessageToDict(kitchen))


def test_render__integral_numbers_print_as_ints_as_in_go_protojson() -> None:
    kitchen: Any = protos.message_class("Kitchen")()
    json_format.ParseDict(
        {
            "db": 2.0,
            "fl": 9.0,
            "manyDb": [3.0, 0.5, -0.0, 1e300, "NaN"],
            "doc": {"a": 1, "b": 2.5, "max": 2**53, "over": 2.0**54},
            "value": -7,
        },
        kitchen,
    )
    text = json.dumps(to_json(kitchen), separators=(",", ":"), sort_keys=True)
    assert '"db":2,' in text and '"fl":9,' in text
    assert '"manyDb":[3,0.5,-0.0,1e+300,"NaN"]' in text
    assert '"doc":{"a":1,"b":2.5,"max":9007199254740992,"over":1.8014398509481984e+16}' in text
    assert '"value":-7' in text


def test_render__any_and_unknown_enum_numbers_match_json_format() -> None:
    kitchen: Any = protos.message_class("Kitchen")(color=42)
    inner = protos.message_class("Message")(text="inside")
    packed = any_pb2.Any()
    packed.Pack(inner)
    kitchen.any.CopyFrom(packed)
    rendered = to_json(kitchen)
    assert _same(rendered, json_format.MessageToDict(kitchen))
    assert rendered["color"] == 42 and rendered["any"]["text"] == "inside"


def test_render__nan_in_a_value_fails_like_json_format() -> None:
    kitchen: Any = protos.message_class("Kitchen")()
    kitchen.value.number_value = math.nan
    with pytest.raises(json_format.SerializeToJsonError):
        json_format.MessageToDict(kitchen)
    with pytest.raises(json_format.SerializeToJsonError):
        to_json(kitchen)


def test_render__a_full_workflow_run_response() -> None:
    response: Message = wf.StartWorkflowResponse(existing=True)
    json_format.ParseDict(
        {
            "run": {
                "runId": "01a21552-d45f-71f9-a47c-e66bd27da7e7",
                "status": "WORKFLOW_RUN_STATUS_FAILED",
                "input": {"a": [1, 2.5, None]},
                "error": {"type": "T", "message": "m", "details": "x", "nonRetryable": True},
                "context": {"trace": {"traceparent": "00-a-b-01"}},
                "retryPolicy": {"initialInterval": "1s", "backoffCoefficient": 2.0},
                "createdAt": "2026-11-26T00:47:59.583779Z",
                "attempt": 3,
            }
        },
        response,
    )
    assert _same(to_json(response), json_format.MessageToDict(response))


def test_render__map_and_struct_keys_come_out_sorted() -> None:
    kitchen: Any = protos.message_class("Kitchen")()
    keys = [f"k{n:02d}" for n in range(30, 0, -1)]
    for key in keys:
        kitchen.by_name[key] = 1
        kitchen.doc[key] = 1
    rendered = to_json(kitchen)
    assert list(rendered["byName"]) == sorted(keys)
    assert list(rendered["doc"]) == sorted(keys)
