"""Runs that wait, end to end through a real server and SDK workers, on both backends and
both worker transports: child runs (fan-out, fan-in, a failure caught), signals sent
before and after the wait, events with a match and a timeout, and the no-lost-event rule."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import grpc
import pytest

from stepline import ChildRunFailed, Client, Event, RunStatus, WorkflowContext, workflow
from stepline.v1 import workflow_service_pb2 as wf
from tests.sdk.conftest import eventually, running
from tests.services.conftest import Api


@pytest.fixture(params=[True, False], ids=["stream", "unary"])
def stream(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# --- child runs ---------------------------------------------------------------------------


@workflow(name="charge")
async def charge(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
    if order["amount"] < 0:
        raise ValueError(f"cannot charge {order['amount']}")
    return {"charged": order["amount"]}


@workflow(name="charge-all")
async def charge_all(ctx: WorkflowContext, amounts: list[int]) -> dict[str, Any]:
    async def one(n: int, amount: int) -> Any:
        try:
            return await ctx.step.invoke(
                f"charge-{n}",
                charge,
                {"amount": amount},
                retry_policy=_NO_RETRY,
            )
        except ChildRunFailed as failed:
            return {"failed": failed.failure.message}

    results = await asyncio.gather(*(one(n, a) for n, a in enumerate(amounts)))
    return {"results": results}


from stepline import RetryPolicy  # noqa: E402 - next to its only use

_NO_RETRY = RetryPolicy(maximum_attempts=1)


async def test_invoke__five_children_in_parallel_park_the_parent_once(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    async with running(address, ns, [charge_all, charge], stream=stream, concurrency=4):
        run = await client.start("charge-all", [1, 2, -3, 4, 5])
        result = await client.result(run.run_id, timeout=60)
    assert result["results"][:2] == [{"charged": 1}, {"charged": 2}]
    assert result["results"][2] == {"failed": "cannot charge -3"}
    assert result["results"][3:] == [{"charged": 4}, {"charged": 5}]
    steps = [s for s in await client.steps(run.run_id) if s.kind == "CHILD"]
    assert sorted(s.step_id for s in steps) == [f"charge-{n}" for n in range(5)]
    # One RegisterWaits recorded all five (one transaction, one clock reading).
    assert len({s.proto.created_at.ToJsonString() for s in steps}) == 1
    assert all(s.attempt == 1 for s in steps)
    children = await client.children(run.run_id)
    assert sorted(c.run_id for c in children) == sorted(s.child_workflow_run_id for s in steps)
    assert all(c.parent_run_id == run.run_id for c in children)


@workflow(name="stuck-parent")
async def stuck_parent(ctx: WorkflowContext, _: Any) -> Any:
    return await ctx.step.invoke("forever", "never-served")


async def test_invoke__canceling_the_parent_cancels_the_waiting_child(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    async with running(address, ns, [stuck_parent], stream=stream):
        run = await client.start("stuck-parent")
        await eventually(lambda: _status_is(client, run.run_id, RunStatus.WAITING))
    (child,) = await client.children(run.run_id)
    assert child.status is RunStatus.PENDING
    await client.cancel(run.run_id, "no longer needed")
    assert (await client.get(child.run_id)).status is RunStatus.CANCELED


async def _status_is(client: Client, run_id: str, status: RunStatus) -> bool:
    return (await client.get(run_id)).status is status


# --- signals ------------------------------------------------------------------------------


@workflow(name="approval")
async def approval(ctx: WorkflowContext, _: Any) -> Any:
    decision = await ctx.step.wait_for_signal("approval", "approved", timeout=timedelta(days=3))
    second = await ctx.step.wait_for_signal("second", "approved", timeout=timedelta(seconds=0.3))
    return {"decision": decision, "second": second}


async def test_wait_for_signal__signals_sent_after_and_before_the_wait(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    early = await client.start("approval")
    await client.signal(early.run_id, "approved", {"by": "early"})
    async with running(address, ns, [approval], stream=stream):
        late = await client.start("approval")
        await eventually(lambda: _status_is(client, late.run_id, RunStatus.WAITING))
        sent = await client.signal(late.run_id, "approved", {"by": "late"})
        assert sent.consumed_at is not None
        early_result = await client.result(early.run_id, timeout=30)
        late_result = await client.result(late.run_id, timeout=30)
    # The second wait of each run timed out: each signal is consumed once.
    assert early_result == {"decision": {"by": "early"}, "second": None}
    assert late_result == {"decision": {"by": "late"}, "second": None}


# --- events -------------------------------------------------------------------------------


@workflow(name="order")
async def order(ctx: WorkflowContext, order: dict[str, Any]) -> Any:
    await ctx.step.run("reserve", _noop, order)
    paid = await ctx.step.wait_for_event(
        "payment",
        "payment.received",
        match={"order_id": order["id"]},
        timeout=timedelta(seconds=order.get("wait", 3600)),
    )
    if paid is None:
        return {"status": "expired"}
    assert isinstance(paid, Event)
    return {"status": "paid", "amount": paid.data["amount"], "event_id": paid.event_id}


async def _noop(order: dict[str, Any]) -> None:
    return None


async def test_wait_for_event__an_order_waits_for_its_payment_or_expires(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    async with running(address, ns, [order], stream=stream):
        paid = await client.start("order", {"id": "o-1"})
        expiring = await client.start("order", {"id": "o-2", "wait": 0.3})
        await eventually(lambda: _status_is(client, paid.run_id, RunStatus.WAITING))
        await client.send_event("payment.received", {"order_id": "o-9", "amount": 1})
        assert (await client.get(paid.run_id)).status is RunStatus.WAITING
        sent = await client.send_event("payment.received", {"order_id": "o-1", "amount": 42})
        assert sent.resumed_run_ids == [paid.run_id]
        assert await client.result(paid.run_id, timeout=30) == {
            "status": "paid",
            "amount": 42,
            "event_id": sent.event.event_id,
        }
        assert await client.result(expiring.run_id, timeout=30) == {"status": "expired"}
    runs = await client.event_runs(sent.event.event_id)
    assert [r.run_id for r in runs.runs] == [paid.run_id]


async def test_event_runs__listed_in_pages(
    client: Client, address: str, ns: str, sdk_api: Api
) -> None:
    """ListEventRuns pages (page_size, page_token, next_page_token); the SDK follows
    them all."""
    async with running(address, ns, [order]):
        started = [await client.start("order", {"id": "o-many"}) for _ in range(5)]
        for run in started:
            await eventually(lambda run=run: _status_is(client, run.run_id, RunStatus.WAITING))
        sent = await client.send_event("payment.received", {"order_id": "o-many", "amount": 1})
        other = await client.send_event("payment.received", {"order_id": "nobody"})
    assert sorted(sent.resumed_run_ids) == sorted(run.run_id for run in started)
    pages: list[list[str]] = []
    token = ""
    while True:
        request = wf.ListEventRunsRequest(
            namespace_id=ns, event_id=sent.event.event_id, page_size=2, page_token=token
        )
        response = await sdk_api.workflow.ListEventRuns(request)
        pages.append([run.run_id for run in response.workflow_runs])
        token = response.next_page_token
        if not token:
            break
        # A token belongs to its event: reused for another one it is refused.
        elsewhere = wf.ListEventRunsRequest(
            namespace_id=ns, event_id=other.event.event_id, page_token=token
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await sdk_api.workflow.ListEventRuns(elsewhere)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [run_id for page in pages for run_id in page]
    assert sorted(listed) == sorted(sent.resumed_run_ids)
    found = await client.event_runs(sent.event.event_id)
    assert [run.run_id for run in found.runs] == listed == list(found.resumed_run_ids)


@workflow(name="caused")
async def caused(ctx: WorkflowContext, key: str) -> Any:
    async def cause() -> str:
        # The event this step causes arrives before the step's result is recorded.
        async with Client(ctx.context["address"], namespace=ctx.namespace_id) as inner:
            await inner.send_event("caused", {"key": key})
        return "sent"

    await ctx.step.run("cause", cause)
    seen = await ctx.step.wait_for_event("effect", "caused", match={"key": key})
    return None if seen is None else seen.data


async def test_wait_for_event__an_event_the_previous_step_caused_is_not_lost(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    async with running(address, ns, [caused], stream=stream):
        run = await client.start("caused", "k-1", context={"address": address})
        assert await client.result(run.run_id, timeout=30) == {"key": "k-1"}


# --- tracing ------------------------------------------------------------------------------

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@workflow(name="traced-parent")
async def traced_parent(ctx: WorkflowContext, _: Any) -> Any:
    return await ctx.step.invoke("kid", charge, {"amount": 1})


async def test_invoke__the_child_continues_the_parents_trace(
    client: Client, address: str, ns: str
) -> None:
    parent_trace = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    async with running(address, ns, [traced_parent, charge]):
        run = await client.start("traced-parent", context={"trace": parent_trace})
        assert await client.result(run.run_id, timeout=30) == {"charged": 1}
    (child,) = await client.children(run.run_id)
    traceparent = child.context["trace"]["traceparent"]
    assert traceparent.split("-")[1] == TRACE_ID
