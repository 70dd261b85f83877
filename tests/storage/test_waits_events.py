"""run_wait with EVENT waits, and event_send: matching by containment, the no-lost-event
rule, idempotency, a burst resolving many waits exactly once, reading events."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from storage import RunDeadlineExceeded, Store
from storage.errors import EventNotFound
from storage.records import (
    EventGetParams,
    EventListParams,
    EventRunsParams,
    EventSendParams,
    RunCreateParams,
    RunStatus,
    RunWaitParams,
    StepBeginParams,
    StepCompleteParams,
    StepStatus,
)
from tests.storage.helpers import (
    DEFAULT_POLICY,
    all_steps,
    claim,
    claim_eventually,
    create_run,
    get_run,
    lease_of,
    start_run,
    utcnow,
)
from tests.storage.waits_helpers import event, expire_eventually, send_event, wait_for


async def test_event_wait__an_event_with_matching_data_resumes_the_run(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    match = {"order_id": "o-1", "shop": {"id": 7}}
    result = await wait_for(store, claimed, event("paid", "payment.received", match))
    assert result.run.status is RunStatus.WAITING
    assert json.loads(result.steps[0].wait_match or "{}") == match
    other = await send_event(store, ns, "payment.received", {"order_id": "o-2", "shop": {"id": 7}})
    assert other.resumed_run_ids == []
    wrong_name = await send_event(store, ns, "payment.failed", {"order_id": "o-1"})
    assert wrong_name.resumed_run_ids == []
    data = {"order_id": "o-1", "amount": 5, "shop": {"id": 7.0, "name": "x"}}
    sent = await send_event(store, ns, "payment.received", data)
    assert sent.resumed_run_ids == [claimed.run.run_id]
    again = await claim_eventually(store, ns, queue)
    [step] = again.steps
    output = json.loads(step.output or "null")
    assert (output["event_id"], output["event_name"], output["data"]) == (
        sent.event.event_id,
        "payment.received",
        data,
    )
    runs = await store.event_runs(EventRunsParams(ns, sent.event.event_id, limit=50))
    assert [r.run_id for r in runs.runs] == runs.resumed_run_ids == [claimed.run.run_id]


async def test_event_wait__an_event_received_since_the_previous_step_began_resolves_it_at_once(
    store: Store, ns: str, queue: str
) -> None:
    """The no-lost-event rule: the previous step caused the event before its result was
    recorded; the wait registered afterwards still sees it."""
    old = await send_event(store, ns, "done", {"k": "a"})  # before the run: never matched
    claimed = await start_run(store, ns, queue)
    lease = lease_of(claimed)
    await send_event(store, ns, "done", {"k": "a", "n": 1})  # caused by step "cause"
    await store.step_complete(StepCompleteParams(lease, '"ok"', step_id="cause"))
    result = await wait_for(store, claimed, event("effect", "done", {"k": "a"}))
    assert result.run.status is RunStatus.RUNNING
    output = json.loads(result.steps[0].output or "null")
    assert output["data"] == {"k": "a", "n": 1} and output["event_id"] != old.event.event_id


async def test_event_wait__an_event_before_the_previous_step_began_is_not_matched(
    store: Store, ns: str, queue: str
) -> None:
    """Received after the run was created, but before this execution and its previous
    step began: older than what the wait looks at."""
    await create_run(store, ns, queue)
    before = await send_event(store, ns, "done", {"k": "b"})
    await asyncio.sleep(0.002)
    (claimed,) = (await claim(store, ns, queue)).claimed
    lease = lease_of(claimed)
    await store.step_begin(StepBeginParams(lease, "one"))
    await store.step_complete(StepCompleteParams(lease, '"ok"', step_id="one"))
    result = await wait_for(store, claimed, event("effect", "done", {"k": "b"}))
    assert result.run.status is RunStatus.WAITING, before


async def test_event_wait__times_out_without_output(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, event("e", "never", timeout=timedelta(0)))
    assert await expire_eventually(store) >= 1
    again = await claim_eventually(store, ns, queue)
    assert [(s.status, s.output) for s in again.steps] == [(StepStatus.COMPLETED, None)]


async def test_event__idempotency_key_returns_the_first_event_and_resumes_nothing(
    store: Store, ns: str, queue: str
) -> None:
    first = await send_event(store, ns, "e", {"n": 1}, key="k")
    claimed = await start_run(store, ns, queue)
    await wait_for(store, claimed, event("w", "e"))
    second = await send_event(store, ns, "e", {"n": 2}, key="k")
    assert second.existing and second.event == first.event and second.resumed_run_ids == []
    assert (await get_run(store, ns, claimed.run.run_id)).status is RunStatus.WAITING


async def test_event__a_burst_resumes_every_waiting_run_exactly_once(
    store: Store, ns: str, queue: str
) -> None:
    count = 1000
    runs = await asyncio.gather(*(create_run(store, ns, queue) for _ in range(count)))
    claimed = (await claim(store, ns, queue, max_runs=count)).claimed
    assert len(claimed) == count
    await asyncio.gather(
        *(wait_for(store, one, event("paid", "burst", {"id": one.run.run_id})) for one in claimed)
    )
    sends = [send_event(store, ns, "burst", {"id": run.run_id}) for run in runs]
    # Duplicates of the first ten: a second event finds their waits already resolved.
    sends += [send_event(store, ns, "burst", {"id": run.run_id}) for run in runs[:10]]
    results = await asyncio.gather(*sends)
    resumed = [run_id for r in results for run_id in r.resumed_run_ids]
    assert sorted(resumed) == sorted(run.run_id for run in runs)
    woken = (await claim(store, ns, queue, max_runs=count + 1)).claimed
    assert len(woken) == count
    for one in woken:
        [step] = one.steps
        assert step.status is StepStatus.COMPLETED


async def test_event__get_list_and_not_found(store: Store, ns: str) -> None:
    sent = [await send_event(store, ns, f"e{n % 2}", {"n": n}) for n in range(5)]
    got = await store.event_get(EventGetParams(ns, sent[0].event.event_id))
    assert got == sent[0].event
    with pytest.raises(EventNotFound):
        await store.event_get(EventGetParams(ns, "0190a000-0000-7000-8000-000000000000"))
    page = await store.event_list(EventListParams(ns, limit=2, event_name="e0"))
    assert [e.event_id for e in page.items] == [s.event.event_id for s in sent[0:4:2]]
    assert page.has_next and not page.has_prev
    everything = await store.event_list(EventListParams(ns, limit=10))
    assert [e.event_id for e in everything.items] == [s.event.event_id for s in sent]
    window = await store.event_list(
        EventListParams(ns, limit=10, received_after=sent[1].event.received_at)
    )
    assert [e.event_id for e in window.items] == [s.event.event_id for s in sent[1:]]


async def test_event_wait__deadline_while_waiting_fails_the_run(
    store: Store, ns: str, queue: str
) -> None:
    await create_run(store, ns, queue, deadline_at=utcnow() + timedelta(milliseconds=300))
    (claimed,) = (await claim(store, ns, queue)).claimed
    await wait_for(store, claimed, event("w", "never"))
    await asyncio.sleep(0.35)
    await store.run_fail_overdue(1000)
    run = await get_run(store, ns, claimed.run.run_id)
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.type == "DEADLINE_EXCEEDED"
    assert [s.status for s in await all_steps(store, ns, run.run_id)] == [StepStatus.FAILED]
    assert (await send_event(store, ns, "never", {})).resumed_run_ids == []
    with pytest.raises(RunDeadlineExceeded):
        await store.run_wait(RunWaitParams(lease_of(claimed), (event("x", "y"),)))


async def test_event__runs_come_in_pages_each_run_once(store: Store, ns: str, queue: str) -> None:
    runs = await asyncio.gather(*(create_run(store, ns, queue) for _ in range(7)))
    claimed = (await claim(store, ns, queue, max_runs=7)).claimed
    await asyncio.gather(*(wait_for(store, one, event("paid", "many")) for one in claimed))
    sent = await send_event(store, ns, "many", {})
    assert sorted(sent.resumed_run_ids) == sorted(run.run_id for run in runs)
    pages = []
    after = None
    while True:
        page = await store.event_runs(EventRunsParams(ns, sent.event.event_id, 3, after))
        pages.append([run.run_id for run in page.runs])
        assert [run.run_id for run in page.runs] == page.resumed_run_ids
        if page.next is None:
            break
        after = page.next
    assert [len(p) for p in pages] == [3, 3, 1]
    listed = [run_id for p in pages for run_id in p]
    # One SendEvent reaches its runs at one time: the run ID orders them.
    assert listed == sorted(sent.resumed_run_ids)
    whole = await store.event_runs(EventRunsParams(ns, sent.event.event_id, 7))
    assert [run.run_id for run in whole.runs] == listed and whole.next is None


async def test_event_send__starts_its_trigger_runs_once_in_the_event_transaction(
    store: Store, ns: str, queue: str
) -> None:
    start = RunCreateParams(
        ns, "on-paid", "2", queue, '{"order_id":"o-9"}', None, None, None, None, DEFAULT_POLICY
    )
    params = EventSendParams(ns, "payment.received", '{"order_id":"o-9"}', "k-9", (start,))
    sent = await store.event_send(params)
    assert sent.existing is False and len(sent.started_run_ids) == 1
    again = await store.event_send(params)
    assert again.existing is True and again.started_run_ids == []
    claimed = await claim_eventually(store, ns, queue)
    assert claimed.run.run_id == sent.started_run_ids[0]
    assert (claimed.run.workflow_name, claimed.run.version) == ("on-paid", "2")
    assert json.loads(claimed.run.input or "null") == {"order_id": "o-9"}
    runs = await store.event_runs(EventRunsParams(ns, sent.event.event_id, 100))
    assert runs.started_run_ids == sent.started_run_ids and runs.resumed_run_ids == []
