"""Retention through a real server, on each backend: a namespace's retention, set through
AdminService, makes the server's maintenance delete its runs once they ended that long
ago, counted in stepline_runs_deleted; a namespace kept forever (retention 0) keeps them,
and so does a run that has not ended."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio

from services import cli
from services.config import ServerConfig
from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import BACKENDS, Api, database_url, start_api, stop_api
from tests.services.helpers import claim, expect_error, get_run, seconds, start, until

RETENTION_SECONDS = 1.0


@pytest_asyncio.fixture(params=BACKENDS)
async def retaining_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A server whose retention passes run every 100 ms."""
    url = database_url(request, request.param, "retention")
    started = await start_api(url, retention_interval=timedelta(milliseconds=100))
    try:
        yield started
    finally:
        await stop_api(started)


async def _namespace(api: Api, retention: float) -> str:
    name = f"rtn-{secrets.token_hex(5)}"
    request = ad.CreateNamespaceRequest(namespace_id=name, retention=seconds(retention))
    await api.admin.CreateNamespace(request)
    return name


async def _completed_run(api: Api, ns: str) -> str:
    task = await claim(api, ns)
    await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))
    return task.run.run_id


async def _gone(api: Api, ns: str, run_id: str) -> bool:
    try:
        await get_run(api, ns, run_id)
    except grpc.aio.AioRpcError as error:
        return error.code() == grpc.StatusCode.NOT_FOUND
    return False


def _deleted(api: Api, ns: str) -> float | None:
    return api.server.metrics.registry.get_sample_value(
        "stepline_runs_deleted_total", {"namespace": ns}
    )


async def test_retention__a_run_that_ended_longer_ago_than_the_retention_is_deleted(
    retaining_api: Api,
) -> None:
    api = retaining_api
    kept, forever = await _namespace(api, RETENTION_SECONDS), await _namespace(api, 0)
    ended = await _completed_run(api, kept)
    ended_forever = await _completed_run(api, forever)
    pending = (await start(api, kept, task_queue="nobody-polls")).run.run_id

    await until(lambda: _gone(api, kept, ended), bool, within=15)

    assert _deleted(api, kept) == 1
    await expect_error(
        api.workflow.GetWorkflowRun(wf.GetWorkflowRunRequest(namespace_id=kept, run_id=ended)),
        grpc.StatusCode.NOT_FOUND,
        "RUN_NOT_FOUND",
    )
    assert (await get_run(api, kept, pending)).run_id == pending
    assert (await get_run(api, forever, ended_forever)).run_id == ended_forever
    assert _deleted(api, forever) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"retention_batch": 0},
        {"retention_interval": timedelta(0)},
        {"retention_pause": timedelta(seconds=-1)},
    ],
)
def test_retention_settings__out_of_range_values_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="retention"):
        ServerConfig(**bad)


def test_retention_flags__reach_the_server_config() -> None:
    args = cli._parser().parse_args(
        [
            "serve",
            "--retention-interval",
            "5m",
            "--retention-batch",
            "200",
            "--retention-pause",
            "250ms",
        ]
    )
    config = cli._config(args)
    assert (config.retention_interval, config.retention_batch, config.retention_pause) == (
        timedelta(minutes=5),
        200,
        timedelta(milliseconds=250),
    )
