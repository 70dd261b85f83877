"""The OpenAPI document of one namespace: `GET /openapi.json?namespace=NS` is the document
plus the input JSON Schema of each workflow registered in NS.

Schemas are the namespace's data, so the gateway reads them as any client would: with
ListWorkflows over its gRPC channel, forwarding the caller's Authorization header. With
auth on, no key is 401 and a key that cannot read NS is 403 (the RPC's own answers, in
the JSON error body); the document without `namespace` stays public and has no schemas.

Each schema becomes a component, `WorkflowInput.<name>.<version>` (`WorkflowInput.<name>`
for a workflow registered without versions), its `$defs` moved beside it as
`<component>.<def>` with their `$ref`s rewritten, since a `#/...` pointer inside the
document points at the document's root. `WorkflowInput.<name>` refers to the newest
version's, the one a start without a version is pinned to. Names are the workflow's and
version's with every character a component name cannot hold replaced by `_` (a second
name mapping to a taken one gets `_2`, ...); each component carries the real ones in
`x-stepline-workflow`. StartWorkflow's operation lists them by workflow name in
`x-stepline-workflow-inputs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import WWW_AUTHENTICATE, GatewayError, from_rpc_error
from gateway.metadata import outgoing
from gateway.proxy import Gateway
from stepline.v1 import registry_pb2 as rg
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

Schema = dict[str, Any]
PREFIX = "WorkflowInput"
_REF = "#/components/schemas/"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_LOCAL_DEFS = ("#/$defs/", "#/definitions/")
_START_PATH = "/v1/namespaces/{namespace_id}/runs"
# The document holds one namespace's data: never kept by a shared cache, and a private
# cache keys it by the key that read it.
_HEADERS = {"cache-control": "private, no-store", "vary": "Authorization"}
_JSON = "application/json"


async def namespaced_openapi(gateway: Gateway, base: bytes, request: Request) -> Response:
    """The response to GET /openapi.json?namespace=NS: `base` (the public document,
    serialized) with NS's workflow input schemas, or the RPC's error."""
    namespace = request.query_params["namespace"] or "default"  # as every request's
    try:
        workflows = await _list_workflows(gateway, namespace, request)
    except GatewayError as error:
        return Response(error.body(), error.http_status, media_type=_JSON)
    except grpc.aio.AioRpcError as error:
        status, body = from_rpc_error(error, gateway.backend)
        headers = {"www-authenticate": WWW_AUTHENTICATE} if status == 401 else {}
        return Response(body, status, headers=headers, media_type=_JSON)
    document = with_workflow_inputs(json.loads(base), namespace, workflows)
    body = json.dumps(document, ensure_ascii=False).encode()
    return Response(body, headers=_HEADERS, media_type=_JSON)


async def _list_workflows(gateway: Gateway, namespace: str, request: Request) -> list[rg.Workflow]:
    metadata, timeout = outgoing(
        request.headers.raw, gateway.default_timeout, gateway.forward_trace
    )
    stub = wf_grpc.WorkflowServiceStub(gateway.channel)  # type: ignore[no-untyped-call]
    response = await stub.ListWorkflows(
        rg.ListWorkflowsRequest(namespace_id=namespace), metadata=metadata, timeout=timeout
    )
    return list(response.workflows)


def with_workflow_inputs(document: Schema, namespace: str, workflows: list[rg.Workflow]) -> Schema:
    """`document` with the workflows' input schemas as components (see the module)."""
    components: Schema = document["components"]["schemas"]
    names = _Names(components)
    inputs: Schema = {}
    for workflow in workflows:
        newest = _add_versions(workflow, components, names)
        if newest is not None:
            inputs[workflow.workflow_name] = {"$ref": _REF + newest}
    document["info"]["x-stepline-namespace"] = namespace
    start = document["paths"][_START_PATH]["post"]
    start["x-stepline-workflow-inputs"] = inputs
    return document


def _add_versions(workflow: rg.Workflow, components: Schema, names: _Names) -> str | None:
    """Add the workflow's versions' schemas; the name of the one a start without a
    version uses (the newest's, through an alias), None when that one has none."""
    newest = workflow.versions[0] if workflow.versions else None
    alias = None
    if newest is not None and newest.version and newest.HasField("input_schema"):
        alias = names.unique(_base(workflow.workflow_name, ""))
    added: dict[str, str] = {}
    for version in workflow.versions:
        if version.HasField("input_schema"):
            name = names.unique(_base(workflow.workflow_name, version.version))
            schema = _whole_numbers(json_format.MessageToDict(version.input_schema))
            components.update(_components(name, schema, workflow, version.version, names))
            added[version.version] = name
    if newest is None or newest.version not in added:
        return None
    if alias is None:
        return added[newest.version]
    components[alias] = {
        "$ref": _REF + added[newest.version],
        "description": f"The input of a run of {workflow.workflow_name} started without a "
        f"version: its newest version's ({newest.version}).",
    }
    return alias


def _whole_numbers(node: Any) -> Any:
    """A Struct holds every number as a double: `"minLength": 1.0` back to 1, as the
    schema was written (a schema keyword such as minLength wants an integer)."""
    if isinstance(node, dict):
        return {key: _whole_numbers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_whole_numbers(item) for item in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 2**53:
        return int(node)
    return node


def _base(workflow_name: str, version: str) -> str:
    parts = [PREFIX, _UNSAFE.sub("_", workflow_name)]
    if version:
        parts.append(_UNSAFE.sub("_", version))
    return ".".join(parts)


def _components(
    name: str, schema: Schema, workflow: rg.Workflow, version: str, names: _Names
) -> Iterator[tuple[str, Schema]]:
    """The schema as the component `name`, and its local definitions beside it."""
    schema = dict(schema)
    for keyword in ("$schema", "$id"):  # the document's dialect and base URI apply
        schema.pop(keyword, None)
    defs: Schema = {**schema.pop("definitions", {}), **schema.pop("$defs", {})}
    renamed = {key: names.unique(f"{name}.{_UNSAFE.sub('_', key)}") for key in defs}
    where = {"workflowName": workflow.workflow_name, "version": version}
    yield name, {**_rewrite(schema, renamed), "x-stepline-workflow": where}
    for key, definition in defs.items():
        yield renamed[key], _rewrite(definition, renamed)


def _rewrite(node: Any, renamed: dict[str, str]) -> Any:
    """`node` with its local `$ref`s pointing at the renamed components."""
    if isinstance(node, list):
        return [_rewrite(item, renamed) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value, renamed) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str):
        for prefix in _LOCAL_DEFS:
            key = ref.removeprefix(prefix)
            if ref.startswith(prefix) and key in renamed:
                out["$ref"] = _REF + renamed[key]
    return out


class _Names:
    """Component names, each given once: a taken one gets `_2`, `_3`, ..."""

    def __init__(self, taken: Schema) -> None:
        self._taken = set(taken)

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._taken.add(name)
        return name
