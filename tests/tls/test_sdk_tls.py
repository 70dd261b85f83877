"""The SDK over TLS against a real server: a Client and a Worker complete a run (both
backends), SyncClient too, the STEPLINE_TLS_* variables switch TLS on, and what must fail
does: plaintext to a TLS port, a client that does not trust the server's CA."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepline import Client, ServerUnavailable, SyncClient, TLSConfig, WorkflowContext, workflow
from tests.sdk.conftest import running
from tests.tls.conftest import TlsServer


async def double(value: int) -> int:
    return value * 2


@workflow(name="tls.double")
async def doubling(ctx: WorkflowContext, value: int) -> dict[str, Any]:
    return {"doubled": await ctx.step.run("double", double, value)}


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
async def test_client_and_worker__complete_a_run_over_tls(
    tls_server: TlsServer, ns: str, stream: bool
) -> None:
    tls = tls_server.trusting()
    async with (
        Client(tls_server.address, namespace=ns, tls=tls) as client,
        running(tls_server.address, ns, [doubling], tls=tls, stream=stream),
    ):
        run = await client.start("tls.double", 21)
        assert await client.result(run.run_id, timeout=20) == {"doubled": 42}


async def test_sync_client__works_over_tls(tls_server: TlsServer, ns: str) -> None:
    def start_and_get() -> str:
        with SyncClient(tls_server.address, namespace=ns, tls=tls_server.trusting()) as client:
            run = client.start("tls.double", 1)
            return client.get(run.run_id).status.name

    assert await asyncio.to_thread(start_and_get) == "PENDING"


async def test_environment__turns_tls_on_for_a_client(
    tls_server: TlsServer, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPLINE_TLS_CA", tls_server.certs.ca)
    async with Client(tls_server.address, namespace=ns) as client:
        run = await client.start("tls.double", 2)
        assert (await client.get(run.run_id)).run_id == run.run_id


async def test_plaintext_client__cannot_talk_to_a_tls_port(tls_server: TlsServer, ns: str) -> None:
    async with Client(tls_server.address, namespace=ns, tls=False) as client:
        with pytest.raises(ServerUnavailable):
            await client.list_page()


async def test_client_trusting_only_system_cas__refuses_the_test_servers_certificate(
    tls_server: TlsServer, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("STEPLINE_TLS_CA", "STEPLINE_TLS_CERT", "STEPLINE_TLS_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with Client(tls_server.address, namespace=ns, tls=True) as client:
        with pytest.raises(ServerUnavailable):
            await client.list_page()


async def test_server_name__is_checked_against_the_certificate(
    tls_server: TlsServer, ns: str
) -> None:
    """The certificate names 127.0.0.1 and localhost: another expected name fails, and
    `server_name` picks the name to check (here one the certificate holds)."""
    wrong = tls_server.trusting(server_name="stepline.example.test")
    async with Client(tls_server.address, namespace=ns, tls=wrong) as client:
        with pytest.raises(ServerUnavailable):
            await client.list_page()
    right = tls_server.trusting(server_name="localhost")
    async with Client(tls_server.address, namespace=ns, tls=right) as client:
        assert (await client.list_page()).items == []


def test_config__needs_a_key_with_a_certificate() -> None:
    with pytest.raises(ValueError, match="both cert and key"):
        TLSConfig(cert="client.pem")


def test_unreadable_ca_file__fails_when_the_client_is_built(tmp_path: Any) -> None:
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(ValueError, match=r"cannot read the CA certificate file .*nowhere\.pem"):
        Client("127.0.0.1:1", tls=TLSConfig(ca=missing))
