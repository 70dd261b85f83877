"""The OpenAPI document: built from the bindings, proto3 JSON schemas, comments as
descriptions, the error body; and served by the gateway at /openapi.json."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
import schemathesis
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import Descriptor

from gateway import comments, openapi_rules
from gateway.errors import GatewayError
from gateway.http_rule import HttpBinding, bindings_for
from gateway.openapi import build_openapi
from gateway.openapi_schemas import SchemaRegistry
from gateway.query import MAX_DEPTH
from gateway.services import REST_SERVICES
from gateway.transcode import RequestBuilder
from services.validation import NAME_CHARACTERS
from tests.gateway import protos
from tests.gateway.conftest import RestApi

Schema = dict[str, Any]
RUNS = "/v1/namespaces/{namespace_id}/runs"
RUN = RUNS + "/{run_id}"
WORKFLOWS = "/v1/namespaces/{namespace_id}/workflows"
WORKFLOW = WORKFLOWS + "/{workflow_name}"
SCHEDULES = "/v1/namespaces/{namespace_id}/schedules"
SCHEDULE = SCHEDULES + "/{schedule_id}"


def _document(bindings: list[HttpBinding] | None = None) -> Schema:
    if bindings is None:
        bindings = [b for service in REST_SERVICES for b in bindings_for(service)]
    return build_openapi(bindings, title="t", version="1")


@pytest.fixture(scope="module")
def document() -> Schema:
    return _document()


def _operations(doc: Schema) -> dict[str, Schema]:
    return {op["operationId"]: op for path in doc["paths"].values() for op in path.values()}


def _params(operation: Schema, where: str) -> dict[str, Schema]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == where}


def _component(doc: Schema, name: str) -> Schema:
    schema: Schema = doc["components"]["schemas"][name]
    return schema


def _validator(doc: Schema, schema: Schema) -> Any:
    """A validator of `schema`, whose $refs resolve against the document's components."""
    return jsonschema_rs.validator_for({**schema, "components": doc["components"]})


# --- the stepline API ------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: Schema) -> None:
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()
    for name, schema in document["components"]["schemas"].items():
        assert _validator(document, schema) is not None, name


EVENTS = "/v1/namespaces/{namespace_id}/events"


def test_every_rpc_is_one_operation_named_after_it(document: Schema) -> None:
    methods = {
        "StartWorkflow": ("post", RUNS),
        "GetWorkflowRun": ("get", RUN),
        "ListWorkflowRuns": ("get", RUNS),
        "CancelWorkflowRun": ("post", RUN + ":cancel"),
        "ListStepAttempts": ("get", RUN + "/steps"),
        "GetStepAttempt": ("get", RUN + "/steps/{step_attempt_id}"),
        "ReplayWorkflowRun": ("post", RUN + ":replay"),
        "BatchCancelWorkflowRuns": ("post", RUNS + ":batchCancel"),
        "BatchReplayWorkflowRuns": ("post", RUNS + ":batchReplay"),
        "SignalWorkflowRun": ("post", RUN + ":signal"),
        "SendEvent": ("post", EVENTS),
        "GetEvent": ("get", EVENTS + "/{event_id}"),
        "ListEvents": ("get", EVENTS),
        "ListEventRuns": ("get", EVENTS + "/{event_id}/runs"),
        "ListWorkflows": ("get", WORKFLOWS),
        "GetWorkflow": ("get", WORKFLOW),
        "PauseWorkflow": ("post", WORKFLOW + ":pause"),
        "ResumeWorkflow": ("post", WORKFLOW + ":resume"),
        "ListWorkers": ("get", "/v1/namespaces/{namespace_id}/workers"),
        "CreateSchedule": ("post", SCHEDULES),
        "GetSchedule": ("get", SCHEDULE),
        "ListSchedules": ("get", SCHEDULES),
        "DeleteSchedule": ("delete", SCHEDULE),
        "PauseSchedule": ("post", SCHEDULE + ":pause"),
        "ResumeSchedule": ("post", SCHEDULE + ":resume"),
        "TriggerSchedule": ("post", SCHEDULE + ":trigger"),
    }
    admin = {
        "CreateNamespace": ("post", "/v1/namespaces"),
        "GetNamespace": ("get", "/v1/namespaces/{namespace_id}"),
        "ListNamespaces": ("get", "/v1/namespaces"),
        "UpdateNamespace": ("patch", "/v1/namespaces/{namespace_id}"),
        "CreateApiKey": ("post", "/v1/namespaces/{namespace_id}/apiKeys"),
        "ListApiKeys": ("get", "/v1/namespaces/{namespace_id}/apiKeys"),
        "RevokeApiKey": ("post", "/v1/namespaces/{namespace_id}/apiKeys/{key_id}:revoke"),
    }
    for tag, operations in (("WorkflowService", methods), ("AdminService", admin)):
        for operation_id, (http_method, path) in operations.items():
            operation = document["paths"][path][http_method]
            assert operation["operationId"] == operation_id
            assert operation["tags"] == [tag]
    assert len(_operations(document)) == len(methods) + len(admin)
    assert [t["name"] for t in document["tags"]] == ["WorkflowService", "AdminService"]


def test_path_variables_are_required_path_parameters(document: Schema) -> None:
    operation = _operations(document)["GetStepAttempt"]
    params = _params(operation, "path")
    assert list(params) == ["namespace_id", "run_id", "step_attempt_id"]
    assert all(p["required"] for p in params.values())
    assert params["run_id"]["schema"]["pattern"].startswith("^[0-9a-fA-F]{8}-")
    assert _params(operation, "query") == {}


def test_list_filters_are_query_parameters(document: Schema) -> None:
    operation = _operations(document)["ListWorkflowRuns"]
    query = _params(operation, "query")
    assert list(query) == [
        "page_size",
        "page_token",
        "statuses",
        "workflow_name",
        "task_queue",
        "created_after",
        "created_before",
        "replay_of_run_id",
        "parent_run_id",
    ]
    statuses = query["statuses"]
    # The server refuses WORKFLOW_RUN_STATUS_UNSPECIFIED as a filter: not offered.
    items = statuses["schema"]["items"]
    assert statuses["schema"]["type"] == "array"
    assert items["type"] == "string" and "WORKFLOW_RUN_STATUS_COMPLETED" in items["enum"]
    assert not any(name.endswith("_UNSPECIFIED") for name in items["enum"])
    assert statuses["explode"] is True and statuses["style"] == "form"
    assert query["page_size"]["schema"]["maximum"] == 1000
    assert query["created_after"]["schema"]["format"] == "date-time"
    assert not any(p["required"] for p in query.values())
    assert "requestBody" not in operation


def test_body_star_is_the_request_without_its_path_fields(document: Schema) -> None:
    operation = _operations(document)["StartWorkflow"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == [
        "workflowName",
        "version",
        "taskQueue",
        "input",
        "idempotencyKey",
        "context",
        "deadlineAt",
        "startAt",
        "retryPolicy",
        "priority",
        "concurrencyKey",
    ]
    assert body["required"] == ["workflowName"]
    assert body["additionalProperties"] is False
    assert _params(operation, "query") == {}
    cancel = _operations(document)["CancelWorkflowRun"]["requestBody"]
    assert list(cancel["content"]["application/json"]["schema"]["properties"]) == ["reason"]


def test_responses_are_the_response_messages(document: Schema) -> None:
    response = _operations(document)["GetWorkflowRun"]["responses"]["200"]
    schema = response["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/stepline.v1.GetWorkflowRunResponse"}
    assert response["description"] == "GetWorkflowRunResponse carries one run."


def _plain(schema: Schema) -> Schema:
    """A property's schema without its "or null" (proto3 JSON reads null as the default)."""
    branches = schema.get("anyOf", [])
    if len(branches) == 2 and branches[1] == {"type": "null"}:
        return {**branches[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema


def _plain_properties(component: Schema) -> dict[str, Schema]:
    return {name: _plain(schema) for name, schema in component["properties"].items()}


def test_fields_not_required_accept_null_as_their_default(document: Schema) -> None:
    start = _component(document, "stepline.v1.RetryPolicy")["properties"]
    assert start["maximumAttempts"]["anyOf"][1] == {"type": "null"}
    run = _component(document, "stepline.v1.WorkflowRun")["properties"]
    assert "anyOf" not in run["input"]  # a Value: null is one of its values already


def test_messages_are_proto3_json(document: Schema) -> None:
    run = _plain_properties(_component(document, "stepline.v1.WorkflowRun"))
    assert run["runId"]["type"] == "string"
    assert run["status"]["$ref"] == "#/components/schemas/stepline.v1.WorkflowRunStatus"
    assert run["createdAt"]["format"] == "date-time"
    assert run["context"]["type"] == "object"
    assert "type" not in run["input"]  # any JSON value
    policy = _plain_properties(_component(document, "stepline.v1.RetryPolicy"))
    assert policy["initialInterval"]["type"] == "string"
    assert policy["maximumInterval"]["pattern"] == policy["initialInterval"]["pattern"]
    run_schema = run
    assert run_schema["deadlineAt"]["format"] == "date-time"
    status = _component(document, "stepline.v1.WorkflowRunStatus")
    assert status["enum"][1] == "WORKFLOW_RUN_STATUS_PENDING"


def test_proto_comments_become_descriptions(document: Schema) -> None:
    operation = _operations(document)["CancelWorkflowRun"]
    assert operation["summary"] == (
        "Cancels a run that has not finished; canceling a canceled run returns it."
    )
    run = _component(document, "stepline.v1.WorkflowRun")
    assert run["description"] == (
        "WorkflowRun is one execution of a workflow, from start to a terminal status."
    )
    assert run["properties"]["workerId"]["description"] == (
        "The worker that holds or last held the run; read-only."
    )
    status = _component(document, "stepline.v1.WorkflowRunStatus")
    assert (
        "- `WORKFLOW_RUN_STATUS_SLEEPING`: Parked by a sleep step until wake_up_at."
        in (status["description"])
    )
    assert document["tags"][0]["description"].startswith("WorkflowService is the client API")
    params = _params(_operations(document)["ListWorkflowRuns"], "query")
    assert params["page_size"]["description"] == "Runs per page, 1 to 1000; default 50."


def test_each_rpc_documents_its_error_statuses(document: Schema) -> None:
    expected = {
        "StartWorkflow": ["400", "408", "409", "413", "414", "415", "431", "500", "503", "504"],
        "GetWorkflowRun": ["400", "404", "408", "413", "414", "431", "500", "503", "504"],
        "ListWorkflowRuns": ["400", "408", "413", "414", "431", "500", "503", "504"],
        "CancelWorkflowRun": [
            *("400", "404", "408", "413", "414", "415", "431", "500", "503", "504"),
        ],
        "ListStepAttempts": ["400", "404", "408", "413", "414", "431", "500", "503", "504"],
        "GetStepAttempt": ["400", "404", "408", "413", "414", "431", "500", "503", "504"],
        "ReplayWorkflowRun": [
            *("400", "404", "408", "409", "413", "414", "415", "431", "500", "503", "504"),
        ],
        "BatchCancelWorkflowRuns": [
            *("400", "408", "413", "414", "415", "431", "500", "503", "504"),
        ],
        "BatchReplayWorkflowRuns": [
            *("400", "408", "413", "414", "415", "431", "500", "503", "504"),
        ],
    }
    status_ref = {"$ref": "#/components/schemas/google.rpc.Status"}
    for operation_id, statuses in expected.items():
        responses = _operations(document)[operation_id]["responses"]
        assert list(responses) == ["200", *statuses, "default"], operation_id
        for status in [*statuses, "default"]:
            assert responses[status]["content"]["application/json"]["schema"] == status_ref


def test_error_schema_accepts_the_error_body_and_nothing_else(document: Schema) -> None:
    validator = _validator(document, {"$ref": "#/components/schemas/google.rpc.Status"})
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RUN_NOT_FOUND",
        "domain": "stepline",
        "metadata": {"run_id": "x"},
    }
    bad_request = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "run_id", "description": "is required"}],
    }
    assert validator.is_valid({"code": 5, "message": "m", "details": [info, bad_request]})
    assert not validator.is_valid({"code": 5, "message": "m"})
    assert not validator.is_valid({"code": 5, "message": "m", "details": [{"reason": "X"}]})
    wrong = {**info, "metadata": {"n": 1}}
    assert not validator.is_valid({"code": 5, "message": "m", "details": [wrong]})


# --- bindings of the http.proto examples (tests/gateway/protos/gatewaytest.proto) ---------


@pytest.fixture(scope="module")
def examples() -> Schema:
    bindings = [b for name in ("Messaging", "Testing") for b in bindings_for(protos.service(name))]
    return _document(bindings)


def test_additional_bindings_get_numbered_operation_ids(examples: Schema) -> None:
    ops = examples["paths"]
    assert ops["/v1/messages/{message_id}"]["get"]["operationId"] == "GetMessage"
    second = ops["/v1/users/{user_id}/messages/{message_id}"]["get"]
    assert second["operationId"] == "GetMessage_2"
    assert "user_id" not in _params(second, "query")
    assert ops["/v1/messages"]["search"]["operationId"] == "GetLatest_2"


def test_nested_fields_are_dotted_query_parameters(examples: Schema) -> None:
    query = _params(examples["paths"]["/v1/messages/{message_id}"]["get"], "query")
    assert "sub.subfield" in query and "sub.depth" in query
    assert query["revision"]["schema"]["type"] == "string"  # int64
    assert query["colors"]["schema"]["type"] == "array"
    # Maps and repeated messages cannot be written as query parameters.
    assert "labels" not in query and "subs" not in query and "subs.subfield" not in query


def test_nested_path_variable_is_not_also_a_query_parameter(examples: Schema) -> None:
    operation = examples["paths"]["/v1/messages/{message_id}/{sub.subfield}"]["get"]
    assert list(_params(operation, "path")) == ["message_id", "sub.subfield"]
    assert "sub.subfield" not in _params(operation, "query")
    assert "sub.depth" in _params(operation, "query")


def test_body_field_is_that_fields_schema(examples: Schema) -> None:
    operation = examples["paths"]["/v1/messages/{message_id}"]["patch"]
    body = operation["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("gatewaytest.v1.Message")
    assert body["required"] is False
    assert _params(operation, "query") == {}


def test_response_body_is_that_fields_schema(examples: Schema) -> None:
    response = examples["paths"]["/v1/wait"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["type"] == "string"


# --- proto3 JSON of every kind of field --------------------------------------------------


_F = descriptor_pb2.FieldDescriptorProto
_WELL_KNOWN_MODULES = (
    timestamp_pb2,
    duration_pb2,
    struct_pb2,
    wrappers_pb2,
    field_mask_pb2,
    empty_pb2,
)
_SINK_SCALARS = [
    ("an_int64", _F.TYPE_INT64),
    ("a_uint64", _F.TYPE_UINT64),
    ("an_int32", _F.TYPE_INT32),
    ("a_uint32", _F.TYPE_UINT32),
    ("a_double", _F.TYPE_DOUBLE),
    ("a_bool", _F.TYPE_BOOL),
    ("some_bytes", _F.TYPE_BYTES),
]
_SINK_MESSAGES = [
    ("a_timestamp", ".google.protobuf.Timestamp"),
    ("a_duration", ".google.protobuf.Duration"),
    ("a_value", ".google.protobuf.Value"),
    ("a_struct", ".google.protobuf.Struct"),
    ("a_list", ".google.protobuf.ListValue"),
    ("an_int64_wrapper", ".google.protobuf.Int64Value"),
    ("a_bool_wrapper", ".google.protobuf.BoolValue"),
    ("a_mask", ".google.protobuf.FieldMask"),
    ("nothing", ".google.protobuf.Empty"),
    ("child", ".kitchen.Sink"),
]


def _kitchen_sink() -> Descriptor:
    """kitchen.Sink: a field of every kind, in a descriptor pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    for module in _WELL_KNOWN_MODULES:
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="kitchen.proto",
        package="kitchen",
        syntax="proto3",
        dependency=[module.DESCRIPTOR.name for module in _WELL_KNOWN_MODULES],
    )
    file.enum_type.add(name="Shade").value.add(name="SHADE_UNSPECIFIED", number=0)
    sink = file.message_type.add(name="Sink")
    entry = sink.nested_type.add(name="CountsEntry", options={"map_entry": True})
    entry.field.add(name="key", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=_F.TYPE_INT64, label=_F.LABEL_OPTIONAL)
    for name, kind in _SINK_SCALARS:
        sink.field.add(name=name, number=len(sink.field) + 1, type=kind, label=_F.LABEL_OPTIONAL)
    for name, type_name in [*_SINK_MESSAGES, ("counts", ".kitchen.Sink.CountsEntry")]:
        label = _F.LABEL_REPEATED if name == "counts" else _F.LABEL_OPTIONAL
        sink.field.add(
            name=name,
            number=len(sink.field) + 1,
            type=_F.TYPE_MESSAGE,
            type_name=type_name,
            label=label,
        )
    sink.field.add(
        name="shades",
        number=len(sink.field) + 1,
        type=_F.TYPE_ENUM,
        type_name=".kitchen.Shade",
        label=_F.LABEL_REPEATED,
    )
    pool.Add(file)
    descriptor: Descriptor = pool.FindMessageTypeByName("kitchen.Sink")
    return descriptor


def test_every_field_kind_has_its_proto3_json_schema() -> None:
    registry = SchemaRegistry()
    assert registry.message(_kitchen_sink()) == {"$ref": "#/components/schemas/kitchen.Sink"}
    props = _plain_properties(registry.components["kitchen.Sink"])
    assert props["anInt64"] == {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
    assert props["aUint64"]["pattern"] == "^[0-9]+$"
    number, text = props["anInt32"]["oneOf"]  # a JSON number, or a string of one
    assert number["type"] == "integer" and number["maximum"] == 2**31 - 1
    assert text["type"] == "string" and text["pattern"].startswith("^(-(")
    assert props["aUint32"]["oneOf"][0]["minimum"] == 0
    assert {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]} in props["aDouble"]["oneOf"]
    assert props["aBool"] == {"type": "boolean"}
    assert props["someBytes"]["contentEncoding"] == "base64"
    assert props["aTimestamp"]["format"] == "date-time"
    assert props["aDuration"]["type"] == "string"
    assert "type" not in props["aValue"]
    assert props["aStruct"] == {"type": "object", "additionalProperties": True}
    assert props["aList"] == {"type": "array", "items": {}}
    assert props["anInt64Wrapper"]["format"] == "int64"
    assert props["aBoolWrapper"] == {"type": "boolean"}
    assert props["aMask"]["type"] == "string"
    assert props["nothing"] == {"type": "object", "additionalProperties": False}
    assert props["child"] == {"$ref": "#/components/schemas/kitchen.Sink"}  # recursion
    assert props["counts"]["additionalProperties"]["format"] == "int64"  # a map
    assert props["shades"]["items"] == {"$ref": "#/components/schemas/kitchen.Shade"}
    assert registry.components["kitchen.Shade"] == {"type": "string", "enum": ["SHADE_UNSPECIFIED"]}
    assert "kitchen.Sink.CountsEntry" not in registry.components


# --- the comments' source: the committed descriptor set ----------------------------------


def test_descriptor_set_matches_the_generated_stubs() -> None:
    """stepline.binpb is stale when a proto changed without `make generate`."""
    for file in comments.load_descriptor_set().file:
        runtime = descriptor_pb2.FileDescriptorProto()
        descriptor_pool.Default().FindFileByName(file.name).CopyToProto(runtime)
        file.ClearField("source_code_info")
        assert _shape(file) == _shape(runtime), file.name


def _shape(file: descriptor_pb2.FileDescriptorProto) -> Any:
    def message(m: descriptor_pb2.DescriptorProto) -> Any:
        fields = [(f.name, f.number, f.type, f.label, f.type_name) for f in m.field]
        return (m.name, fields, [message(n) for n in m.nested_type])

    return (
        [message(m) for m in file.message_type],
        [(e.name, [(v.name, v.number) for v in e.value]) for e in file.enum_type],
        [(s.name, [(m.name, m.input_type, m.output_type) for m in s.method]) for s in file.service],
    )


def test_every_documented_rpc_and_message_has_a_comment() -> None:
    known = comments.comments()
    for service in REST_SERVICES:
        assert service.full_name in known
        for method in service.methods:
            assert method.full_name in known
            for message in (method.input_type, method.output_type):
                assert message.full_name in known
                assert all(f.full_name in known for f in message.fields), message.full_name


# --- served ----------------------------------------------------------------------------


async def test_gateway_serves_the_document(rest_api_sqlite: RestApi) -> None:
    response = await rest_api_sqlite.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["paths"] == _document()["paths"]
    assert served["info"]["title"] == "stepline"


# --- the document's input rules are the server's ------------------------------------------

UUID = "0190a8a0-0000-7000-8000-000000000000"
# field name -> (values the server accepts, values it rejects with 400 naming the field)
BOUNDARIES: dict[str, tuple[list[Any], list[Any]]] = {
    "namespace_id": (["a" * 63, "a.b_c-D9"], ["a" * 64, "a!b"]),
    "run_id": ([UUID, UUID.upper()], ["not-a-uuid", UUID + "0"]),
    "step_attempt_id": ([UUID], ["not-a-uuid"]),
    "page_size": ([0, 1, 1000], [-1, 1001]),
    "statuses": ([["WORKFLOW_RUN_STATUS_COMPLETED"]], [["WORKFLOW_RUN_STATUS_UNSPECIFIED"]]),
    "workflow_name": (
        ["w" * 255, "caf\u00e9", "\U0001f600", "a\u0600b"],
        ["w" * 256, "a b", "a\x00b", "a\x07", "a\u00adb", "a\u200bb", "a\u202eb", "a\u3000b"],
    ),
    "task_queue": (["q" * 255], ["q" * 256, "a\tb", "q\x00"]),
    "version": (["v" * 255], ["v" * 256]),
    "idempotency_key": (["k" * 255], ["k" * 256]),
    "reason": (["r" * 1024], ["r" * 1025]),
    "replay_of_run_id": ([UUID, ""], ["not-a-uuid"]),
    "from_step_id": (["s" * 255, ""], ["s" * 256, "a b"]),
    "batch_id": (["b" * 255], ["b" * 256, "a\tb"]),
    # Only tokens the server made are valid; these are refused by form.
    "page_token": ([""], ["a b", "x" * 1025, "a+b/c="]),
    "key_id": (["0123456789abcdef"], ["a b"]),
    "name": (["n" * 255], ["n" * 256, "a b", ""]),
    "role": (["ROLE_WORKER"], ["ROLE_UNSPECIFIED"]),
    "description": (["d" * 1024], ["d" * 1025]),
    "retention": (["0s", "86400s", "1.5s"], ["-1s"]),
    "parent_run_id": ([UUID, ""], ["not-a-uuid"]),
    "event_id": ([UUID], ["not-a-uuid"]),
    "signal_name": (["s" * 255], ["s" * 256, "a b", ""]),
    "event_name": (["e" * 255], ["e" * 256, "a b"]),
    "schedule_id": (["s" * 255, "nightly.1"], ["s" * 256, "a b", "a\x00b"]),
    "priority": ([0, 1, 5], [-1, 6]),
    "concurrency_key": (["k" * 255], ["k" * 256]),
    # The case's body holds an interval, so any cron is refused (exactly one of the two).
    "cron": ([], ["c" * 256, "a\x00b"]),
    "interval": (["3600s", "1.5s"], ["-1s"]),
    "timezone": (["Europe/Berlin", ""], ["t" * 256, "a\x00b"]),
    "catchup_window": (["0s", "31536000s", "0031535999.5s"], ["-1s", "31536001s", "31536000.5s"]),
}
PATH_DEFAULTS = {
    "namespace_id": "rules",
    "run_id": UUID,
    "step_attempt_id": UUID,
    "schedule_id": "rules",
    "key_id": "0123456789abcdef",
    "event_id": UUID,
    "workflow_name": "rules",
}
# Required body fields the case does not test, by method.
BODY_DEFAULTS = {
    "StartWorkflow": {"workflowName": "rules"},
    "SignalWorkflowRun": {"signalName": "rules"},
    "SendEvent": {"eventName": "rules"},
    "CreateSchedule": {"workflowName": "rules", "interval": "3600s"},
    "CreateApiKey": {"name": "rules", "role": "ROLE_READER"},
}


def _rule_cases() -> list[Any]:
    cases = []
    for binding in (b for service in REST_SERVICES for b in bindings_for(service)):
        for field in binding.method.input_type.fields:
            if field.full_name in openapi_rules.FIELD_RULES:
                cases.append(pytest.param(binding, field.name, id=field.full_name))
    return cases


def _field_schema(doc: Schema, binding: HttpBinding, field: str) -> Schema:
    operation = _operations(doc)[binding.method.name]
    for param in operation.get("parameters", []):
        if param["name"] == field:
            return {**param["schema"], "type": param["schema"].get("type", "string")}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:  # the whole request is the body (no path variables)
        body = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    json_name = binding.method.input_type.fields_by_name[field].json_name
    return {
        "type": "object",
        "properties": {json_name: body["properties"][json_name]},
        "required": [json_name],
    }


def _as_instance(schema: Schema, value: Any) -> Any:
    if schema["type"] == "object":
        return {next(iter(schema["properties"])): value}
    return value


async def _send(rest: RestApi, binding: HttpBinding, field: str, value: Any) -> Any:
    path_values = {**PATH_DEFAULTS, field: value}
    path = binding.template.openapi_path()
    for variable in binding.template.variables:
        path = path.replace("{" + variable + "}", quote(str(path_values[variable]), safe=""))
    if field in binding.template.variables:
        body: Schema = {}
        query: Schema = {}
    elif binding.body == "*":
        json_name = binding.method.input_type.fields_by_name[field].json_name
        body, query = {json_name: value}, {}
    else:
        body, query = {}, {field: value}
    for name, default in BODY_DEFAULTS.get(binding.method.name, {}).items():
        body.setdefault(name, default)
    if binding.method.name == "CreateNamespace":
        body.setdefault("namespaceId", f"rules-{secrets.token_hex(4)}")
    if binding.method.name == "CreateSchedule":
        # A new ID each time (a taken one is a 409, not the 400 looked for).
        body.setdefault("scheduleId", f"rules-{uuid.uuid4()}")
    if not binding.body:  # GET, DELETE: no body at all
        return await rest.http.request(binding.http_method, path, params=query)
    return await rest.http.request(binding.http_method, path, params=query, json=body)


# Retry intervals (nested in retryPolicy): positive after truncation to microseconds,
# and at most 10 years.
RETRY_INTERVALS = (
    ["1s", "0.000001s", "1.5s", "315575999.999999999s", "315576000s", "315576000.000000999s"],
    ["0s", "-1s", "0.000000999s", "315576000.000001s", "315576001s", "3200000000s"],
)


@pytest.mark.parametrize(
    ("name", "field", "others"),
    [
        ("initialInterval", "retry_policy.initial_interval", {}),
        # The smallest initial interval, so that only the maximum's own bounds matter.
        ("maximumInterval", "retry_policy.maximum_interval", {"initialInterval": "0.000001s"}),
    ],
)
async def test_document_and_server_agree_on_retry_intervals(
    name: str, field: str, others: Schema, rest_api_sqlite: RestApi, document: Schema
) -> None:
    validator = _validator(document, {"$ref": "#/components/schemas/stepline.v1.RetryPolicy"})
    accepted, rejected = RETRY_INTERVALS
    for value in accepted + rejected:
        policy = {name: value, **others}
        body = {"workflowName": "rules", "retryPolicy": policy}
        response = await rest_api_sqlite.http.post("/v1/namespaces/rules/runs", json=body)
        ok = value in accepted
        assert validator.is_valid(policy) is ok, value
        assert (response.status_code == 200) is ok, (value, response.text)
        if not ok:
            fields = [d.get("metadata", {}).get("field") for d in response.json()["details"]]
            assert field in fields, response.text


@pytest.mark.parametrize(("binding", "field"), _rule_cases())
async def test_document_and_server_agree_on_field_rules(
    binding: HttpBinding, field: str, rest_api_sqlite: RestApi, document: Schema
) -> None:
    """Each value the document accepts, the server accepts; each it rejects, the server
    rejects with a 400 naming the field."""
    accepted, rejected = BOUNDARIES[field]
    schema = _field_schema(document, binding, field)
    validator = _validator(document, schema)
    for value in accepted:
        assert validator.is_valid(_as_instance(schema, value)), value
        response = await _send(rest_api_sqlite, binding, field, value)
        assert response.status_code != 400, (value, response.text)
    for value in rejected:
        assert not validator.is_valid(_as_instance(schema, value)), value
        response = await _send(rest_api_sqlite, binding, field, value)
        assert response.status_code == 400, (value, response.text)
        fields = [d.get("metadata", {}).get("field") for d in response.json()["details"]]
        assert field in fields, response.text


def _every_binding() -> list[HttpBinding]:
    services = [*REST_SERVICES, protos.service("Messaging"), protos.service("Testing")]
    return [binding for service in services for binding in bindings_for(service)]


@pytest.mark.parametrize(
    "binding",
    _every_binding(),
    ids=lambda b: f"{b.method.name}:{b.http_method}:{b.template.raw}",
)
def test_documented_query_parameters_are_exactly_those_the_gateway_binds(
    binding: HttpBinding,
) -> None:
    (path_item,) = _document([binding])["paths"].values()
    (operation,) = path_item.values()
    documented = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
    candidates = documented | set(_field_paths(binding.method.input_type, MAX_DEPTH + 1))
    assert {name for name in candidates if _read_from_query(binding, name)} == documented


def _field_paths(message: Descriptor, depth: int, prefix: str = "") -> Iterator[str]:
    """Every field's dotted proto path, nested messages included, `depth` levels down."""
    for field in message.fields:
        yield prefix + field.name
        if field.message_type is not None and depth > 1:
            yield from _field_paths(field.message_type, depth - 1, f"{prefix}{field.name}.")


def _read_from_query(binding: HttpBinding, name: str) -> bool:
    """Whether the gateway reads the parameter `name`: given twice, it either sets a field
    or is refused (a single field given twice, or "1" is no value of its type); a
    parameter the gateway does not read is ignored."""
    builder = RequestBuilder(binding)
    request = builder.message_class()
    if builder.query is None:
        return False
    try:
        builder.query.bind(f"{name}=1&{name}=1".encode(), request)
    except GatewayError:
        return True
    return request.ByteSize() > 0


def test_the_name_rule_is_the_servers_own_character_class() -> None:
    assert openapi_rules._NAME_CHARS == NAME_CHARACTERS
