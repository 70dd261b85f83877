"""A server per backend with auth required, two namespaces (A and B, each with a run),
and a key of every kind: one per role in A, an operator key, and the keys that must
fail (revoked, unknown, garbled, a wrong secret). One server per backend serves every
access test, so the matrix stays fast."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc
import httpx
import pytest
import pytest_asyncio

from gateway.serve import HttpServer
from services import api_keys
from stepline.v1 import workflow_service_pb2
from storage.access import ANY_NAMESPACE, ApiKeyRevokeParams, NamespaceCreateParams, Role
from tests.gateway.conftest import start_gateway
from tests.services.conftest import BACKENDS, Api, database_url, start_api, stop_api

Metadata = tuple[tuple[str, str], ...]


def bearer(secret: str) -> Metadata:
    return (("authorization", f"Bearer {secret}"),)


@dataclass
class Secured:
    api: Api
    a: str  # the namespace the role keys belong to
    b: str  # another namespace
    runs: dict[str, str]  # namespace -> a run of it
    secrets: dict[str, str] = field(default_factory=dict)  # label -> secret

    def as_(self, label: str) -> Metadata:
        """The metadata of a call made with the key `label` ("none": no key at all)."""
        return () if label == "none" else bearer(self.secrets[label])

    def headers(self, label: str) -> dict[str, str]:
        """The HTTP headers of a REST call made with the key `label`."""
        return {"authorization": f"Bearer {self.secrets[label]}"}


@asynccontextmanager
async def rest_client(secured: Secured) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a REST gateway in front of the secured server."""
    gateway: HttpServer = await start_gateway(secured.api.server.address)
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=30) as client:
            yield client
    finally:
        await gateway.stop()


async def make_key(api: Api, namespace: str, role: Role, name: str = "test") -> str:
    """A key written to the database directly, as `stepline-server keys create` does."""
    _, secret = await api_keys.issue(api.server.store, namespace, name, role)
    return secret


async def secure(url: str) -> Secured:
    api = await start_api(url, auth="required", db_pool_size=3)
    store = api.server.store
    a, b = f"a-{secrets.token_hex(4)}", f"b-{secrets.token_hex(4)}"
    for namespace in (a, b):
        await store.namespace_create(NamespaceCreateParams(namespace))
    secured = Secured(api, a, b, {})
    keys = secured.secrets
    for role in Role:
        keys[role.value] = await make_key(api, a, role)
    keys["operator"] = await make_key(api, ANY_NAMESPACE, Role.ADMIN)
    revoked = await make_key(api, a, Role.ADMIN)
    key_id = api_keys.key_id_of(revoked)
    assert key_id is not None
    await store.api_key_revoke(ApiKeyRevokeParams(a, key_id))
    keys["revoked"] = revoked
    keys["unknown"] = api_keys.new_key().secret  # well-formed, never stored
    keys["garbled"] = "not-a-stepline-key"
    # The right key ID with another secret.
    keys["wrong_secret"] = keys["admin"][:-8] + (
        "A" * 8 if keys["admin"][-8:] != "A" * 8 else "B" * 8
    )
    for namespace in (a, b):
        started = await api.workflow.StartWorkflow(
            workflow_service_pb2.StartWorkflowRequest(
                namespace_id=namespace, workflow_name="seeded", task_queue="seeded"
            ),
            metadata=bearer(keys["operator"]),
        )
        secured.runs[namespace] = started.run.run_id
    return secured


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def secured(request: pytest.FixtureRequest) -> AsyncIterator[Secured]:
    started = await secure(database_url(request, request.param, "secured"))
    try:
        yield started
    finally:
        await stop_api(started.api)


def code_of(error: BaseException) -> grpc.StatusCode:
    assert isinstance(error, grpc.aio.AioRpcError), error
    return error.code()
