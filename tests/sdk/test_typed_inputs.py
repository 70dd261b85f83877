"""Typed inputs: a workflow whose input is a pydantic model, a dataclass or a TypedDict
registers its JSON Schema; the server refuses a start whose input does not match (naming
the JSON path), and the function receives a validated value of its type."""

from __future__ import annotations

import dataclasses
from typing import Any

import pydantic
import pytest
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from stepline import Client, InvalidArgument, WorkflowContext, workflow
from stepline._inputs import input_type
from tests.sdk.conftest import eventually, running


@dataclasses.dataclass
class Line:
    sku: str
    quantity: int


@dataclasses.dataclass
class Order:
    order_id: str
    lines: list[Line]


class Refund(pydantic.BaseModel):
    order_id: str
    cents: int


class Ping(TypedDict):
    text: str


async def test_typed_inputs__the_server_checks_and_the_workflow_gets_its_type(
    client: Client, address: str, ns: str
) -> None:
    seen: list[Any] = []

    @workflow(name="typed.order", version="1")
    async def take_order(ctx: WorkflowContext, order: Order) -> int:
        seen.append(order)
        return sum(line.quantity for line in order.lines)

    @workflow(name="typed.refund", version="1")
    async def refund(ctx: WorkflowContext, request: Refund) -> int:
        seen.append(request)
        return request.cents

    async with running(address, ns, [take_order, refund]):
        await eventually(lambda: _registered(client, "typed.refund"))
        with pytest.raises(InvalidArgument) as caught:
            await client.start("typed.order", {"order_id": "o1", "lines": [{"sku": "a"}]})
        assert caught.value.metadata["field"] == "input.lines[0]"
        run = await client.start(
            "typed.order", {"order_id": "o1", "lines": [{"sku": "a", "quantity": 2}]}
        )
        assert await client.result(run.run_id, timeout=20) == 2
        run = await client.start("typed.refund", {"order_id": "o1", "cents": 150})
        assert await client.result(run.run_id, timeout=20) == 150
    assert seen == [Order("o1", [Line("a", 2)]), Refund(order_id="o1", cents=150)]


def test_typed_inputs__only_structured_annotations_are_typed() -> None:
    async def typed_dict(ctx: WorkflowContext, ping: Ping) -> None: ...
    async def plain(ctx: WorkflowContext, data: dict[str, Any]) -> None: ...
    async def bare(ctx, data):  # type: ignore[no-untyped-def]
        ...

    typed = input_type(typed_dict)
    assert typed is not None and typed.json_schema()["required"] == ["text"]
    assert input_type(plain) is None and input_type(bare) is None


async def _registered(client: Client, name: str) -> bool:
    try:
        return bool((await client.get_workflow(name))["versions"])
    except Exception:
        return False
