"""A refused call costs no database write (brute force cannot fill the database or even
touch it beyond one indexed read a second per guessed key ID), and an accepted one
records the key's last use."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import grpc

from services import api_keys
from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf
from storage import sqlite_path_from_url
from storage.access import ANY_NAMESPACE, ApiKeyRevokeParams, Role
from tests.access.conftest import bearer, make_key
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import eventually
from tests.services.conftest import start_api, stop_api
from tests.services.helpers import expect_error


async def test_costs__refused_calls_write_nothing(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "stepline.db")
    api = await start_api(url, auth="required", sweep_interval=timedelta(hours=1))
    try:
        store = api.server.store
        good = await make_key(api, "default", Role.ADMIN)
        revoked = await make_key(api, "default", Role.ADMIN)
        revoked_id = api_keys.key_id_of(revoked)
        assert revoked_id is not None
        await store.api_key_revoke(ApiKeyRevokeParams("default", revoked_id))
        attempts = [
            (),
            bearer(good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")),
            bearer(api_keys.new_key().secret),
            bearer(revoked),
            bearer("garbage"),
        ]
        path = sqlite_path_from_url(url)
        connection = sqlite3.connect(path)
        before = connection.execute("PRAGMA data_version").fetchone()[0]
        start = wf.StartWorkflowRequest(workflow_name="w")
        lease = wk.RunLease(namespace_id="default", run_id=str(uuid.uuid4()), lease_id="x")
        complete = wk.CompleteStepRequest(lease=lease, step_id="s")
        for _ in range(10):
            for metadata in attempts:
                for call in (
                    api.workflow.StartWorkflow(start, metadata=metadata),
                    api.worker.CompleteStep(complete, metadata=metadata),
                ):
                    await expect_error(call, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
        await asyncio.sleep(0.2)  # anything scheduled in the background would be done
        assert connection.execute("PRAGMA data_version").fetchone()[0] == before
        connection.close()
        good_id = api_keys.key_id_of(good)
        record = await store.api_key_get(good_id or "")
        assert record is not None and record.last_used_at is None
    finally:
        await stop_api(api)


async def test_costs__an_accepted_call_records_the_key_s_last_use(tmp_path: Path) -> None:
    api = await start_api(sqlite_url_for(tmp_path / "stepline.db"), auth="required")
    try:
        operator = bearer(await make_key(api, ANY_NAMESPACE, Role.ADMIN))
        reader = await make_key(api, "default", Role.READER, name="dashboards")
        await api.workflow.ListWorkflowRuns(wf.ListWorkflowRunsRequest(), metadata=bearer(reader))

        async def last_used() -> bool:
            listed = await api.admin.ListApiKeys(
                ad.ListApiKeysRequest(namespace_id="default"), metadata=operator
            )
            return all(key.HasField("last_used_at") for key in listed.api_keys)

        await eventually(last_used)
    finally:
        await stop_api(api)
