"""/healthz (the process is alive) and /readyz (the core answers and its storage too)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from tests.conftest import sqlite_url_for
from tests.gateway.conftest import RestApi, start_rest, stop_rest
from tests.gateway.rest_helpers import expect_error
from tests.support import postgres


async def test_healthz_and_readyz__serving(rest_api: RestApi) -> None:
    for path in ("/healthz", "/readyz"):
        response = await rest_api.http.get(path)
        assert (response.status_code, response.json()) == (200, {"status": "SERVING"})


async def _readyz_until(http: httpx.AsyncClient, status: int) -> httpx.Response:
    """Poll /readyz until it answers `status` (the maintenance loop pings every 200 ms)."""
    for _ in range(150):
        response = await http.get("/readyz")
        if response.status_code == status:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}: {response.text}")


def _allow_connections(admin_url: str, database: str, allow: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(database), sql.SQL("true" if allow else "false")
            )
        )
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


@pytest.mark.postgres
async def test_readyz__503_while_the_database_is_unreachable_then_200_again(
    postgres_admin_url: str,
) -> None:
    url = postgres.create_database(postgres_admin_url)
    rest = await start_rest(url, db_pool_timeout=timedelta(milliseconds=500))
    name = postgres.database_name(url)
    try:
        _allow_connections(postgres_admin_url, name, allow=False)
        response = await _readyz_until(rest.http, 503)
        body = expect_error(response, 503, 14, "NOT_SERVING")
        assert "storage" in body["message"]
        health = health_pb2_grpc.HealthStub(rest.api.channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        alive = await rest.http.get("/healthz")
        assert alive.status_code == 200
        _allow_connections(postgres_admin_url, name, allow=True)
        await _readyz_until(rest.http, 200)
    finally:
        await stop_rest(rest)
        postgres.drop_database(postgres_admin_url, url)


async def test_readyz__503_when_the_core_is_gone(tmp_path_factory: pytest.TempPathFactory) -> None:
    rest = await start_rest(sqlite_url_for(tmp_path_factory.mktemp("gone") / "s.db"))
    try:
        assert (await rest.http.get("/readyz")).status_code == 200
        await rest.api.server.stop(grace=0)
        response = await _readyz_until(rest.http, 503)
        assert response.json()["code"] == 14
        assert (await rest.http.get("/healthz")).status_code == 200
    finally:
        await stop_rest(rest)
