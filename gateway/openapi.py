"""The OpenAPI 3.1 document, built from the same HttpBindings as the routes.

One operation per binding: operationId is the RPC name (suffixed `_2`, `_3`, ... for
additional bindings), the tag is the service name, path variables are path parameters,
every other request field not bound by the body is a query parameter (nested fields
dotted, repeated fields repeated), and the request and response bodies are the
messages' proto3 JSON schemas. Proto comments become descriptions. Every operation
documents the error body for the statuses its RPC can answer, and as its default.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

from gateway import comments, openapi_errors, openapi_rules, query
from gateway.http_rule import HttpBinding
from gateway.openapi_schemas import WELL_KNOWN, Schema, SchemaRegistry, read_messages

JSON = openapi_errors.JSON


def build_openapi(bindings: Sequence[HttpBinding], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `bindings`."""
    inputs = {
        binding.method.input_type.full_name: binding.method.input_type for binding in bindings
    }
    registry = SchemaRegistry(openapi_rules.field_rule, read=read_messages(inputs.values()))
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, dict[str, str]] = {}
    seen: dict[str, int] = {}
    for binding in bindings:
        method = binding.method
        seen[method.full_name] = seen.get(method.full_name, 0) + 1
        suffix = "" if seen[method.full_name] == 1 else f"_{seen[method.full_name]}"
        operation = _operation(binding, registry, method.name + suffix)
        paths.setdefault(binding.template.openapi_path(), {})[binding.http_method.lower()] = (
            operation
        )
        tags.setdefault(method.containing_service.name, _tag(method))
    registry.components.update(openapi_errors.components(registry))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": _API_DESCRIPTION,
        },
        "tags": list(tags.values()),
        "paths": paths,
        "components": {"schemas": dict(sorted(registry.components.items()))},
    }


_API_DESCRIPTION = (
    "REST/JSON transcoding of the gRPC API (google.api.http annotations). Bodies are "
    "proto3 JSON: lowerCamelCase names (the proto snake_case names are accepted too), "
    "64-bit integers as strings, enums by name, times as RFC 3339 strings and durations "
    'as seconds with an "s" suffix. Query parameters use the proto field names; nested '
    "fields are dotted and repeated fields repeat the parameter. Errors are "
    '`{"code", "message", "details"}` with a google.rpc.ErrorInfo in `details`.'
)


def _tag(method: MethodDescriptor) -> dict[str, str]:
    service = method.containing_service
    tag = {"name": service.name}
    if text := comments.comment(service.full_name):
        tag["description"] = text
    return tag


def _operation(binding: HttpBinding, registry: SchemaRegistry, operation_id: str) -> Schema:
    method = binding.method
    operation: Schema = {"operationId": operation_id, "tags": [method.containing_service.name]}
    if text := comments.comment(method.full_name):
        operation["summary"] = text.split("\n")[0]
        if text != operation["summary"]:
            operation["description"] = text
    parameters = [
        *_path_parameters(binding, registry),
        *_query_parameters(binding, registry),
    ]
    if parameters:
        operation["parameters"] = parameters
    if binding.body:
        schema = _request_body(binding, registry)
        # The gateway reads an empty body as an empty message: a body is required only
        # where that message lacks a required field (StartWorkflow's workflowName).
        target = _component(schema, registry)
        operation["requestBody"] = {
            "required": bool(target.get("required")),
            "content": {JSON: {"schema": schema}},
        }
    operation["responses"] = _responses(binding, registry)
    return operation


def _component(schema: Schema, registry: SchemaRegistry) -> Schema:
    """The schema itself, or the component it refers to."""
    name = schema.get("$ref", "").removeprefix("#/components/schemas/")
    return registry.components.get(name, schema) if name else schema


def _field_at(message: Descriptor, path: str) -> FieldDescriptor:
    field: FieldDescriptor | None = None
    for name in path.split("."):
        field = message.fields_by_name[name]
        if field.message_type is not None:
            message = field.message_type
    assert field is not None
    return field


def _path_parameters(binding: HttpBinding, registry: SchemaRegistry) -> Iterator[Schema]:
    for path in binding.template.variables:
        field = _field_at(binding.method.input_type, path)
        schema = registry.field(field)
        if schema.get("type") == "string":
            schema["minLength"] = 1  # a path segment is never empty
        yield _parameter(path, "path", schema, required=True)


def _parameter(name: str, where: str, schema: Schema, *, required: bool) -> Schema:
    description = schema.pop("description", None)
    parameter: Schema = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    if schema.get("type") == "array":
        parameter["style"] = "form"
        parameter["explode"] = True
    return parameter


def _query_parameters(binding: HttpBinding, registry: SchemaRegistry) -> Iterator[Schema]:
    """Every field neither bound by the path nor carried by the body."""
    if binding.body == "*":
        return
    bound = set(binding.template.variables) | ({binding.body} if binding.body else set())
    yield from _query_fields(binding.method.input_type, "", bound, registry, 0)


def _query_fields(
    message: Descriptor, prefix: str, bound: set[str], registry: SchemaRegistry, depth: int
) -> Iterator[Schema]:
    for field in message.fields:
        path = prefix + field.name
        nested = field.message_type
        if path in bound:
            continue
        if nested is None or nested.full_name in query.SCALAR_MESSAGES:
            yield _parameter(path, "query", registry.field(field), required=False)
        elif _is_plain_message(field) and depth < query.MAX_DEPTH:
            # A message field is set through its own fields' dotted names.
            yield from _query_fields(nested, path + ".", bound, registry, depth + 1)


def _is_plain_message(field: FieldDescriptor) -> bool:
    """A singular message field that is not a map or a JSON-valued well-known type."""
    nested = field.message_type
    return (
        nested is not None
        and not field.is_repeated
        and not nested.GetOptions().map_entry
        and nested.full_name not in WELL_KNOWN
    )


def _request_body(binding: HttpBinding, registry: SchemaRegistry) -> Schema:
    request = binding.method.input_type
    if binding.body != "*":
        return registry.field(request.fields_by_name[binding.body])
    bound = set(binding.template.variables)
    if not bound:
        return registry.message(request)
    return _without(request, bound, registry)


def _without(message: Descriptor, paths: set[str], registry: SchemaRegistry) -> Schema:
    """The message's schema inline, without the (possibly nested) fields in `paths`."""
    top = {p for p in paths if "." not in p}
    schema = registry.object_schema(message, top)
    for path in paths - top:
        head, _, rest = path.partition(".")
        field = message.fields_by_name[head]
        if field.message_type is not None and field.json_name in schema["properties"]:
            inner = _without(field.message_type, {rest}, registry)
            schema["properties"][field.json_name] = inner
    return schema


def _responses(binding: HttpBinding, registry: SchemaRegistry) -> Schema:
    output = binding.method.output_type
    if binding.response_body:
        schema = registry.field(output.fields_by_name[binding.response_body])
    else:
        schema = registry.message(output)
    responses: Schema = {
        "200": {
            "description": comments.comment(output.full_name) or "OK",
            "content": {JSON: {"schema": schema}},
        }
    }
    statuses = openapi_errors.error_statuses(binding.method.full_name, bool(binding.body))
    for status, text in statuses.items():
        responses[str(status)] = openapi_errors.response(text)
    responses["default"] = openapi_errors.response("Any other error, in the same form.")
    return responses
