"""GET /openapi.json?namespace=NS: the document with NS's registered input schemas as
components, read through the real gateway and server; pydantic's `$defs` moved beside
them with their references rewritten (checked by validating inputs against the
document); the document without `namespace` carries none; bad namespaces are the RPC's
own 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pydantic

from gateway.openapi_workflows import with_workflow_inputs
from stepline._convert import fill_struct
from stepline.v1 import registry_pb2 as rg
from tests.gateway.conftest import RestApi
from tests.gateway.test_openapi import _document

Schema = dict[str, Any]
REF = "#/components/schemas/"


@dataclass
class Address:
    street: str
    city: str


@dataclass
class Order:
    order_id: str
    quantity: int
    ship_to: Address
    gift_to: Address | None = None


ORDER_SCHEMA = pydantic.TypeAdapter(Order).json_schema()


def definition(name: str, version: str, schema: Schema | None) -> rg.WorkflowDefinition:
    out = rg.WorkflowDefinition(workflow_name=name, version=version)
    if schema is not None:
        fill_struct(out.input_schema, schema, "schema")
    return out


async def register(rest: RestApi, ns: str, worker_id: str, *defs: rg.WorkflowDefinition) -> None:
    request = rg.RegisterWorkerRequest(namespace_id=ns, worker_id=worker_id, workflows=defs)
    await rest.api.worker.RegisterWorker(request)


def validator(document: Schema, component: str) -> Any:
    """A validator of the component, its references resolved in the document."""
    return jsonschema_rs.validator_for(
        {"$ref": REF + component, "components": document["components"]}
    )


def refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(refs(value) for value in node.values()))


def test_inputs__defs_move_beside_the_schema_and_references_resolve() -> None:
    workflow = rg.Workflow(
        workflow_name="order.fulfil",
        versions=[
            rg.WorkflowVersion(version="2"),
            rg.WorkflowVersion(version="1"),
        ],
    )
    fill_struct(workflow.versions[0].input_schema, ORDER_SCHEMA, "schema")
    fill_struct(workflow.versions[1].input_schema, {"type": "string", "minLength": 1}, "schema")
    document = with_workflow_inputs(_document(), "ns", [workflow])
    schemas = document["components"]["schemas"]
    assert "WorkflowInput.order_fulfil.2.Address" in schemas
    assert schemas["WorkflowInput.order_fulfil.2"]["x-stepline-workflow"] == {
        "workflowName": "order.fulfil",
        "version": "2",
    }
    assert "$defs" not in schemas["WorkflowInput.order_fulfil.2"]
    assert schemas["WorkflowInput.order_fulfil.1"]["minLength"] == 1
    assert isinstance(schemas["WorkflowInput.order_fulfil.1"]["minLength"], int)
    for ref in refs(document):
        assert ref.startswith(REF) and ref.removeprefix(REF) in schemas, ref
    newest = validator(document, "WorkflowInput.order_fulfil")
    good = {"order_id": "o1", "quantity": 2, "ship_to": {"street": "Main", "city": "X"}}
    assert newest.is_valid(good)
    assert not newest.is_valid({**good, "ship_to": {"street": "Main"}})  # through the $def
    assert validator(document, "WorkflowInput.order_fulfil.1").is_valid("text")
    start = document["paths"]["/v1/namespaces/{namespace_id}/runs"]["post"]
    assert start["x-stepline-workflow-inputs"] == {
        "order.fulfil": {"$ref": REF + "WorkflowInput.order_fulfil"}
    }


def test_inputs__names_a_component_cannot_hold_are_replaced_and_kept_apart() -> None:
    workflows = [
        rg.Workflow(workflow_name=name, versions=[rg.WorkflowVersion()]) for name in ("a/b", "a:b")
    ]
    for workflow in workflows:
        fill_struct(workflow.versions[0].input_schema, {"type": "integer"}, "schema")
    document = with_workflow_inputs(_document(), "ns", workflows)
    start = document["paths"]["/v1/namespaces/{namespace_id}/runs"]["post"]
    assert start["x-stepline-workflow-inputs"] == {
        "a/b": {"$ref": REF + "WorkflowInput.a_b"},
        "a:b": {"$ref": REF + "WorkflowInput.a_b_2"},
    }


async def test_openapi__a_namespace_adds_its_registered_input_schemas(
    rest_api: RestApi, ns: str
) -> None:
    await register(
        rest_api,
        ns,
        "w1",
        definition("order.fulfil", "1", ORDER_SCHEMA),
        definition("untyped", "1", None),
    )
    response = await rest_api.http.get("/openapi.json", params={"namespace": ns})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    document = response.json()
    assert document["info"]["x-stepline-namespace"] == ns
    start = document["paths"]["/v1/namespaces/{namespace_id}/runs"]["post"]
    assert list(start["x-stepline-workflow-inputs"]) == ["order.fulfil"]
    order = validator(document, "WorkflowInput.order_fulfil")
    assert order.is_valid({"order_id": "o", "quantity": 1, "ship_to": {"street": "s", "city": "c"}})
    assert not order.is_valid({"order_id": "o"})
    public = (await rest_api.http.get("/openapi.json")).json()
    assert not [
        name for name in public["components"]["schemas"] if name.startswith("WorkflowInput")
    ]
    assert (
        "x-stepline-workflow-inputs"
        not in public["paths"]["/v1/namespaces/{namespace_id}/runs"]["post"]
    )


async def test_openapi__a_bad_namespace_is_the_rpcs_400(rest_api: RestApi) -> None:
    response = await rest_api.http.get("/openapi.json", params={"namespace": "no spaces"})
    assert response.status_code == 400
    assert response.json()["details"][0]["reason"] == "INVALID_ARGUMENT"
