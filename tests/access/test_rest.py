"""Over REST, through the gateway: no key or a bad key is 401 with `WWW-Authenticate:
Bearer`, a key without the role or the namespace 403, with the JSON error body; the
same header a gRPC client sends as metadata passes through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.access.conftest import Secured, rest_client


@pytest_asyncio.fixture
async def http(secured: Secured) -> AsyncIterator[httpx.AsyncClient]:
    async with rest_client(secured) as client:
        yield client


async def test_rest__no_key_is_401_asking_for_a_bearer_token(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"/v1/namespaces/{secured.a}/runs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["code"] == 16
    assert body["details"][0]["reason"] == "UNAUTHENTICATED"


async def test_rest__revoked_and_garbled_keys_are_401(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    for key in ("revoked", "garbled", "wrong_secret"):
        response = await http.get(f"/v1/namespaces/{secured.a}/runs", headers=secured.headers(key))
        assert response.status_code == 401, key
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_rest__wrong_role_or_namespace_is_403(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    reader = secured.headers("reader")
    start = await http.post(
        f"/v1/namespaces/{secured.a}/runs", json={"workflowName": "w"}, headers=reader
    )
    other = await http.get(f"/v1/namespaces/{secured.b}/runs", headers=reader)
    for response in (start, other):
        assert response.status_code == 403
        assert "www-authenticate" not in response.headers
        assert response.json()["details"][0]["reason"] == "PERMISSION_DENIED"


async def test_rest__a_key_with_the_role_is_served(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        f"/v1/namespaces/{secured.a}/runs/{secured.runs[secured.a]}",
        headers=secured.headers("reader"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["run"]["namespaceId"] == secured.a


async def test_rest__an_operator_creates_a_namespace_and_an_admin_key_for_it(
    secured: Secured, http: httpx.AsyncClient
) -> None:
    operator = secured.headers("operator")
    namespace = f"{secured.a}-rest"
    created = await http.post(
        "/v1/namespaces", json={"namespaceId": namespace, "retention": "86400s"}, headers=operator
    )
    assert created.status_code == 200, created.text
    assert created.json()["namespace"]["retention"] == "86400s"
    key = await http.post(
        f"/v1/namespaces/{namespace}/apiKeys",
        json={"name": "ops", "role": "ROLE_ADMIN"},
        headers=operator,
    )
    assert key.status_code == 200, key.text
    secret = key.json()["secret"]
    mine = await http.get(
        f"/v1/namespaces/{namespace}", headers={"authorization": f"Bearer {secret}"}
    )
    assert mine.status_code == 200, mine.text
    listed = await http.get("/v1/namespaces", headers={"authorization": f"Bearer {secret}"})
    assert listed.status_code == 403  # listing spans namespaces: operators only
