"""Builders for the wait cases of the conformance suite."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from storage import Store
from storage.records import (
    ChildSpec,
    ClaimedRun,
    EventSendParams,
    EventSendResult,
    RunWaitParams,
    RunWaitResult,
    SignalSendParams,
    SignalSendResult,
    StepKind,
    WaitSpec,
)
from tests.storage.helpers import DEFAULT_POLICY, lease_of


def child(step_id: str, queue: str, *, workflow_name: str = "child", input: Any = None) -> WaitSpec:
    spec = ChildSpec(workflow_name, "v1", queue, json.dumps(input), None, DEFAULT_POLICY)
    return WaitSpec(step_id, StepKind.CHILD, child=spec)


def signal(step_id: str, name: str, timeout: timedelta | None = None) -> WaitSpec:
    return WaitSpec(step_id, StepKind.SIGNAL, name=name, duration=timeout)


def event(
    step_id: str, name: str, match: dict[str, Any] | None = None, timeout: timedelta | None = None
) -> WaitSpec:
    text = None if match is None else json.dumps(match)
    return WaitSpec(step_id, StepKind.EVENT, name=name, match=text, duration=timeout)


async def wait_for(store: Store, claimed: ClaimedRun, *waits: WaitSpec) -> RunWaitResult:
    return await store.run_wait(RunWaitParams(lease_of(claimed), waits))


async def send_signal(
    store: Store, ns: str, run_id: str, name: str, payload: Any, key: str | None = None
) -> SignalSendResult:
    return await store.signal_send(SignalSendParams(ns, run_id, name, json.dumps(payload), key))


async def send_event(
    store: Store, ns: str, name: str, data: dict[str, Any], key: str | None = None
) -> EventSendResult:
    return await store.event_send(EventSendParams(ns, name, json.dumps(data), key))


async def expire_eventually(store: Store, within: float = 5.0) -> int:
    """Run the timeout sweep until it resolves a wait: a wait due "now" may be stamped a
    moment after the sweep's clock reading (PostgreSQL's now() is the transaction's
    start), so one sweep right after registering can find nothing due yet."""
    async with asyncio.timeout(within):
        while True:
            if expired := await store.wait_expire(1000):
                return expired
            await asyncio.sleep(0.01)
