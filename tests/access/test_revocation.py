"""A revoked key is refused by every server within 2 seconds: two server processes on one
database (the cache of each holds a key's record for at most 1 s), and a worker stream
open on the other server ends with UNAUTHENTICATED within the same bound."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1.access_pb2 import ROLE_WORKER
from storage.access import ANY_NAMESPACE, NamespaceCreateParams, Role
from tests.access.conftest import bearer, make_key
from tests.services.conftest import BACKENDS, database_url, start_api, stop_api
from tests.services.helpers import expect_error

BOUND = 2.0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_revocation__every_server_refuses_the_key_within_two_seconds(
    request: pytest.FixtureRequest, backend: str
) -> None:
    url = database_url(request, backend, "revocation")
    first = await start_api(url, auth="required", db_pool_size=3)
    second = await start_api(url, auth="required", db_pool_size=3)
    try:
        namespace = f"rv-{time.monotonic_ns()}"
        await first.server.store.namespace_create(NamespaceCreateParams(namespace))
        operator = bearer(await make_key(first, ANY_NAMESPACE, Role.ADMIN))
        created = await first.admin.CreateApiKey(
            ad.CreateApiKeyRequest(namespace_id=namespace, name="w", role=ROLE_WORKER),
            metadata=operator,
        )
        worker = bearer(created.secret)
        poll = wk.PollActivityRequest(namespace_id=namespace)
        poll.wait.FromMilliseconds(1)
        await second.worker.PollActivity(poll, metadata=worker)  # cached on the second
        stream = second.worker.WorkStream(metadata=worker)
        await stream.write(wk.WorkStreamRequest(open=wk.WorkStreamOpen(namespace_id=namespace)))

        await first.admin.RevokeApiKey(
            ad.RevokeApiKeyRequest(namespace_id=namespace, key_id=created.api_key.key_id),
            metadata=operator,
        )
        revoked_at = time.monotonic()
        ended = expect_error(
            asyncio.wait_for(stream.read(), BOUND + 0.5),
            grpc.StatusCode.UNAUTHENTICATED,
            "UNAUTHENTICATED",
        )
        await ended
        assert time.monotonic() - revoked_at <= BOUND + 0.5
        await asyncio.sleep(max(0.0, revoked_at + BOUND - time.monotonic()))
        refused = second.worker.PollActivity(poll, metadata=worker)
        await expect_error(refused, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
        list_runs = wf.ListWorkflowRunsRequest(namespace_id=namespace)
        listed = second.workflow.ListWorkflowRuns(list_runs, metadata=worker)
        await expect_error(listed, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
    finally:
        await stop_api(second)
        await stop_api(first)
