"""GET /metrics on the REST port of a server: Prometheus text, each metric moving as the
docs/operating/metrics.md says, driven through the real gRPC API on both backends.

The servers are shared by the session, so tests read the samples of a namespace of
their own, and the unlabelled long-poll metrics by their change over the test."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from google.protobuf import timestamp_pb2
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from services.metrics import Metrics
from services.rest import rest_server
from stepline.v1 import common_pb2
from stepline.v1 import registry_pb2 as rg
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from stepline.v1 import workflow_service_pb2 as wf
from storage import create_store
from tests.services.conftest import BACKENDS, Api, start_api, stop_api
from tests.services.helpers import claim, get_run, poll, seconds, start, value
from tests.storage.helpers import make_create_params as make_run_params
from tests.support import postgres

FAST_RETRY = common_pb2.RetryPolicy(initial_interval=seconds(0.001), maximum_attempts=3)
FATAL = common_pb2.Failure(type="Fatal", non_retryable=True)
CANCELED = wr.WORKFLOW_RUN_STATUS_CANCELED

DOCUMENTED = {
    "stepline_runs_started": "counter",
    "stepline_runs_completed": "counter",
    "stepline_runs_failed": "counter",
    "stepline_runs_canceled": "counter",
    "stepline_step_attempts": "counter",
    "stepline_claim_latency_seconds": "histogram",
    "stepline_long_poll_wait_seconds": "histogram",
    "stepline_queue_depth": "gauge",
    "stepline_concurrency_slots_in_use": "gauge",
    "stepline_concurrency_limit": "gauge",
    "stepline_lease_expiries": "counter",
    "stepline_open_long_polls": "gauge",
    "stepline_open_worker_streams": "gauge",
}


@dataclasses.dataclass
class Scrape:
    content_type: str
    families: dict[str, tuple[str, str]]
    """name → (type, help)"""
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples carrying `labels` (0 when there is none)."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )


@contextlib.asynccontextmanager
async def metrics_http(api: Api, *, with_metrics: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The REST gateway as `serve` builds it in front of `api`'s server."""
    config = dataclasses.replace(api.server.config, http_address="127.0.0.1:0")
    http = rest_server(config, api.server.address, api.server if with_metrics else None)
    await http.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{http.address}", timeout=30) as client:
            yield client
    finally:
        await http.stop()


async def scrape(http: httpx.AsyncClient) -> Scrape:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    families = list(text_string_to_metric_families(response.text))
    return Scrape(
        content_type=response.headers["content-type"],
        families={f.name: (f.type, f.documentation) for f in families},
        samples=[sample for family in families for sample in family.samples],
    )


async def scrape_of(api: Api) -> Scrape:
    async with metrics_http(api) as http:
        return await scrape(http)


def timestamp_in(delay: timedelta) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(datetime.now(UTC) + delay)
    return out


async def until_status(api: Api, ns: str, run_id: str, status: int) -> None:
    async with asyncio.timeout(10):
        while True:
            if (await get_run(api, ns, run_id)).status == status:
                return
            await asyncio.sleep(0.02)


async def until_open_polls(
    http: httpx.AsyncClient, count: float, gauge: str = "stepline_open_long_polls"
) -> None:
    async with asyncio.timeout(10):
        while True:
            if (await scrape(http)).value(gauge) == count:
                return
            await asyncio.sleep(0.01)


# --- the endpoint -----------------------------------------------------------------------


async def test_metrics__prometheus_text_with_help_for_every_metric(api: Api) -> None:
    async with metrics_http(api) as http:
        got = await scrape(http)
        openapi = (await http.get("/openapi.json")).json()
    assert got.content_type == "text/plain; version=0.0.4; charset=utf-8"
    for name, kind in DOCUMENTED.items():
        assert got.families[name][0] == kind, name
    assert all(name.startswith("stepline_") for name in got.families)
    assert all(help_text for _, help_text in got.families.values())
    assert "/metrics" not in openapi["paths"]


async def test_metrics__standalone_gateway_has_none(api: Api) -> None:
    async with metrics_http(api, with_metrics=False) as http:
        response = await http.get("/metrics")
    assert response.status_code == 404


# --- runs -------------------------------------------------------------------------------


async def test_runs_started__an_idempotent_repeat_is_not_a_start(api: Api, ns: str) -> None:
    first = await start(api, ns, name="orders", idempotency_key="k")
    again = await start(api, ns, name="orders", idempotency_key="k")
    assert again.existing and again.run.run_id == first.run.run_id
    await start(api, ns, name="orders")
    await start(api, ns, name="refunds")
    got = await scrape_of(api)
    assert got.value("stepline_runs_started_total", namespace=ns, workflow="orders") == 2
    assert got.value("stepline_runs_started_total", namespace=ns, workflow="refunds") == 1


async def test_run_completed__with_its_steps_and_its_claim(api: Api, ns: str) -> None:
    task = await claim(api, ns, name="orders")
    lease = task.lease
    for step_id in ("reserve", "charge", "charge"):  # the repeat is memoized, not counted
        await api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=lease, step_id=step_id, output=value(1))
        )
    await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=lease, output=value("ok")))
    got = await scrape_of(api)
    assert got.value("stepline_runs_completed_total", namespace=ns, workflow="orders") == 1
    assert got.value("stepline_runs_failed_total", namespace=ns) == 0
    assert got.value("stepline_step_attempts_total", namespace=ns, outcome="completed") == 2
    assert got.value("stepline_step_attempts_total", namespace=ns, outcome="failed") == 0
    latency = {"namespace": ns, "task_queue": "default"}
    assert got.value("stepline_claim_latency_seconds_count", **latency) == 1
    # Claimed by a poll waiting for it, so within the top bucket (an hour).
    assert got.value("stepline_claim_latency_seconds_bucket", le="3600.0", **latency) == 1


async def test_run_failed__once_retries_end_not_at_each_failed_step(api: Api, ns: str) -> None:
    task = await claim(api, ns, name="flaky", retry_policy=FAST_RETRY)
    await api.worker.FailStep(
        wk.FailStepRequest(lease=task.lease, step_id="s", error=common_pb2.Failure(type="Boom"))
    )
    assert (await scrape_of(api)).value("stepline_runs_failed_total", namespace=ns) == 0
    (retry,) = await poll(api, ns)
    await api.worker.FailWorkflow(wk.FailWorkflowRequest(lease=retry.lease, error=FATAL))
    got = await scrape_of(api)
    assert got.value("stepline_runs_failed_total", namespace=ns, workflow="flaky") == 1
    assert got.value("stepline_step_attempts_total", namespace=ns, outcome="failed") == 1
    assert got.value("stepline_claim_latency_seconds_count", namespace=ns) == 2


async def test_run_canceled__counted_once(api: Api, ns: str) -> None:
    run = (await start(api, ns, name="report")).run
    cancel = wf.CancelWorkflowRunRequest(namespace_id=ns, run_id=run.run_id)
    await api.workflow.CancelWorkflowRun(cancel)
    await api.workflow.CancelWorkflowRun(cancel)  # returns the canceled run, changes nothing
    got = await scrape_of(api)
    assert got.value("stepline_runs_canceled_total", namespace=ns, workflow="report") == 1


async def test_replays__count_as_started_and_batch_cancels_as_canceled(api: Api, ns: str) -> None:
    runs = [(await start(api, ns, name="report")).run for _ in range(2)]
    await api.workflow.BatchCancelWorkflowRuns(wf.BatchCancelWorkflowRunsRequest(namespace_id=ns))
    await api.workflow.BatchCancelWorkflowRuns(wf.BatchCancelWorkflowRunsRequest(namespace_id=ns))
    replay = wf.ReplayWorkflowRunRequest(
        namespace_id=ns, run_id=runs[0].run_id, idempotency_key="r"
    )
    await api.workflow.ReplayWorkflowRun(replay)
    await api.workflow.ReplayWorkflowRun(replay)  # the same replay: not a start
    batch = wf.BatchReplayWorkflowRunsRequest(namespace_id=ns, statuses=[CANCELED], batch_id="b")
    await api.workflow.BatchReplayWorkflowRuns(batch)
    await api.workflow.BatchReplayWorkflowRuns(batch)  # a repeated chunk makes nothing
    got = await scrape_of(api)
    assert got.value("stepline_runs_canceled_total", namespace=ns, workflow="report") == 2
    assert got.value("stepline_runs_started_total", namespace=ns, workflow="report") == 2 + 1 + 2


@pytest_asyncio.fixture(params=BACKENDS)
async def private_servers(request: pytest.FixtureRequest) -> AsyncIterator[list[Api]]:
    """Servers alone on a database of their own, whose deadline sweeps nothing else runs:
    two on PostgreSQL (their sweeps race for the same runs), one on a SQLite file."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        servers = [await start_api(url)]
    else:
        admin: str = request.getfixturevalue("postgres_admin_url")
        url = postgres.create_database(admin)
        servers = [await start_api(url), await start_api(url)]
    try:
        yield servers
    finally:
        for api in servers:
            await stop_api(api)
        if request.param == "postgres":
            postgres.drop_database(admin, url)


async def test_run_failed__by_the_deadline_sweep_once_across_servers(
    private_servers: list[Api], ns: str
) -> None:
    api = private_servers[0]
    runs = []
    for _ in range(5):
        # Delayed past its deadline, so no claim can see it: only a sweep fails it.
        started = await start(
            api,
            ns,
            name="late",
            deadline_at=timestamp_in(timedelta(milliseconds=100)),
            start_at=timestamp_in(timedelta(hours=1)),
        )
        runs.append(started.run.run_id)
    for run_id in runs:
        await until_status(api, ns, run_id, wr.WORKFLOW_RUN_STATUS_FAILED)
    scrapes = [await scrape_of(server) for server in private_servers]
    counted = [
        got.value("stepline_runs_failed_total", namespace=ns, workflow="late") for got in scrapes
    ]
    assert sum(counted) == 5, counted


async def test_lease_expiries__counted_when_a_claim_takes_the_run_back(
    short_lease_api: Api, ns: str
) -> None:
    api = short_lease_api
    task = await claim(api, ns, name="crashy")
    lease_expires_at = task.lease_expires_at.ToDatetime(tzinfo=UTC)
    # The worker "crashes": no heartbeat. Wait out its lease, then another poll takes it.
    await asyncio.sleep(max((lease_expires_at - datetime.now(UTC)).total_seconds(), 0) + 0.05)
    (reclaimed,) = await poll(api, ns)
    assert reclaimed.run.run_id == task.run.run_id
    got = await scrape_of(api)
    assert got.value("stepline_lease_expiries_total", namespace=ns, workflow="crashy") == 1
    assert got.value("stepline_claim_latency_seconds_count", namespace=ns) == 2
    assert got.value("stepline_runs_failed_total", namespace=ns) == 0


# --- long polls -------------------------------------------------------------------------


async def test_long_polls__open_gauge_and_wait_by_outcome(api: Api, ns: str) -> None:
    async with metrics_http(api) as http:
        before = await scrape(http)
        open_before = before.value("stepline_open_long_polls")
        waiting = asyncio.create_task(poll(api, ns, wait=30))
        await until_open_polls(http, open_before + 1)
        await start(api, ns)
        assert len(await waiting) == 1
        assert await poll(api, ns, wait=0) == []  # nothing left: an empty answer
        after = await scrape(http)
    assert after.value("stepline_open_long_polls") == open_before
    for outcome in ("task", "empty"):
        count = "stepline_long_poll_wait_seconds_count"
        assert after.value(count, outcome=outcome) == before.value(count, outcome=outcome) + 1


async def test_worker_streams__open_gauge(api: Api, ns: str) -> None:
    gauge = "stepline_open_worker_streams"
    async with metrics_http(api) as http:
        before = (await scrape(http)).value(gauge)
        stream: Any = api.worker.WorkStream()
        await stream.write(wk.WorkStreamRequest(open=wk.WorkStreamOpen(namespace_id=ns)))
        await until_open_polls(http, before + 1, gauge)
        await stream.done_writing()  # the worker closes its side: the stream ends
        await until_open_polls(http, before, gauge)


# --- queue depth ------------------------------------------------------------------------


async def test_queue_depth__read_from_the_database_at_each_scrape(api: Api, ns: str) -> None:
    async with metrics_http(api) as http:
        assert (await scrape(http)).value("stepline_queue_depth", namespace=ns) == 0
        for _ in range(3):
            await start(api, ns, task_queue="emails")
        await start(api, ns, task_queue="emails", start_at=timestamp_in(timedelta(hours=1)))
        (task,) = await poll(api, ns, task_queue="emails")
        await start(api, ns, task_queue="done")
        (done,) = await poll(api, ns, task_queue="done")
        await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=done.lease))
        await api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=task.lease, step_id="nap", duration=seconds(3600))
        )
        got = await scrape(http)

    def depth(queue: str, status: str) -> float:
        return got.value("stepline_queue_depth", namespace=ns, task_queue=queue, status=status)

    assert depth("emails", "PENDING") == 3
    assert depth("emails", "SLEEPING") == 1
    assert depth("emails", "RUNNING") == 0
    # Terminal runs are not queue depth.
    assert got.value("stepline_queue_depth", namespace=ns, task_queue="done") == 0


async def test_slots_in_use__the_running_runs_of_a_limited_workflow(api: Api, ns: str) -> None:
    definition = rg.WorkflowDefinition(workflow_name="limited", version="1", max_concurrency=2)
    await api.worker.RegisterWorker(
        rg.RegisterWorkerRequest(namespace_id=ns, worker_id="registrar", workflows=[definition])
    )
    for _ in range(3):
        await start(api, ns, "limited", task_queue="limits")
    await start(api, ns, "free", task_queue="limits")
    tasks = await poll(api, ns, task_queue="limits", max_runs=10)
    async with metrics_http(api) as http:
        got = await scrape(http)
    # Two runs hold the limit's two slots; the third waits; the unlimited one holds none.
    assert sorted(t.run.workflow_name for t in tasks) == ["free", "limited", "limited"]
    assert got.value("stepline_concurrency_slots_in_use", namespace=ns, workflow="limited") == 2
    assert got.value("stepline_concurrency_limit", namespace=ns, workflow="limited") == 2
    assert got.value("stepline_concurrency_slots_in_use", namespace=ns, workflow="free") == 0


async def test_queue_depth__absent_not_stale_while_the_database_does_not_answer(
    sqlite_url: str,
) -> None:
    store = create_store(sqlite_url)
    await store.start()
    await store.migrate()
    metrics = Metrics()
    try:
        await store.run_create(make_run_params("ns", "q"))
        assert "stepline_queue_depth{" in (await metrics.render(store)).decode()
    finally:
        await store.close()
    text = (await metrics.render(store)).decode()  # a closed store: StorageUnavailable
    assert "stepline_queue_depth{" not in text
    assert "# TYPE stepline_runs_started_total counter" in text
