"""The namespaced OpenAPI document with auth required, through the real gateway: a
namespace's input schemas go only to a key that can read it (no key 401, another
namespace's key 403, in the JSON error body); the public document needs no key and
holds no namespace's schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from stepline._convert import fill_struct
from stepline.v1 import registry_pb2 as rg
from tests.access.conftest import Secured, rest_client

SECRET_FIELD = "account_number"


@pytest_asyncio.fixture
async def http(secured: Secured) -> AsyncIterator[httpx.AsyncClient]:
    definition = rg.WorkflowDefinition(workflow_name="payout", version="1")
    fill_struct(definition.input_schema, {"properties": {SECRET_FIELD: {"type": "string"}}}, "s")
    await secured.api.worker.RegisterWorker(
        rg.RegisterWorkerRequest(namespace_id=secured.a, worker_id="w", workflows=[definition]),
        metadata=secured.as_("worker"),
    )
    async with rest_client(secured) as client:
        yield client


async def test_openapi_scope__a_reader_of_the_namespace_gets_its_schemas(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        "/openapi.json", params={"namespace": secured.a}, headers=secured.headers("reader")
    )
    assert response.status_code == 200
    assert SECRET_FIELD in response.text
    assert response.headers["vary"] == "Authorization"


async def test_openapi_scope__no_key_is_401_and_leaks_nothing(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get("/openapi.json", params={"namespace": secured.a})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["details"][0]["reason"] == "UNAUTHENTICATED"
    assert SECRET_FIELD not in response.text


async def test_openapi_scope__another_namespaces_key_is_403(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        "/openapi.json", params={"namespace": secured.b}, headers=secured.headers("admin")
    )
    assert response.status_code == 403
    assert response.json()["details"][0]["reason"] == "PERMISSION_DENIED"


async def test_openapi_scope__the_public_document_needs_no_key_and_holds_no_schemas(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    assert SECRET_FIELD not in response.text
