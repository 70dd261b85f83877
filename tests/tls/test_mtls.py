"""mTLS on the gRPC port (`--tls-client-ca`): a worker with a certificate the CA signed
completes a run; a worker without one, or with one of another CA, cannot claim anything
(the handshake fails before any call); REST callers need no client certificate."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from stepline import Client, RunStatus, ServerUnavailable, TLSConfig
from stepline.tls import channel
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc
from tests.sdk.conftest import running
from tests.tls.conftest import TlsServer
from tests.tls.test_sdk_tls import doubling


async def test_worker_with_a_client_certificate__completes_a_run(
    mtls_server: TlsServer, ns: str
) -> None:
    tls = mtls_server.with_client_cert()
    async with (
        Client(mtls_server.address, namespace=ns, tls=tls) as client,
        running(mtls_server.address, ns, [doubling], tls=tls),
    ):
        run = await client.start("tls.double", 5)
        assert await client.result(run.run_id, timeout=20) == {"doubled": 10}


@pytest.mark.parametrize("identity", ["none", "stranger"])
async def test_worker_without_a_trusted_certificate__claims_nothing(
    mtls_server: TlsServer, ns: str, identity: str
) -> None:
    certs = mtls_server.certs
    refused = (
        mtls_server.trusting()
        if identity == "none"
        else mtls_server.trusting(cert=certs.stranger_cert, key=certs.stranger_key)
    )
    async with Client(mtls_server.address, namespace=ns, tls=mtls_server.with_client_cert()) as c:
        run = await c.start("tls.double", 1)
        async with running(mtls_server.address, ns, [doubling], tls=refused) as worker:
            await asyncio.sleep(1.5)  # the worker keeps trying to connect
            assert worker.stats.ended.total() == 0
        assert (await c.get(run.run_id)).status is RunStatus.PENDING
    # The same refusal, seen on one call: the handshake fails, nothing is served.
    async with channel(mtls_server.address, refused) as opened:
        stub = worker_service_pb2_grpc.WorkerServiceStub(opened)  # type: ignore[no-untyped-call]
        request = wk.PollActivityRequest(namespace_id=ns, task_queue="default", worker_id="w")
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.PollActivity(request, timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_client_without_a_certificate__is_refused_on_grpc(
    mtls_server: TlsServer, ns: str
) -> None:
    async with Client(mtls_server.address, namespace=ns, tls=mtls_server.trusting()) as client:
        with pytest.raises(ServerUnavailable):
            await client.list_page()


async def test_rest__needs_no_client_certificate(mtls_server: TlsServer, ns: str) -> None:
    async with mtls_server.https() as http:
        started = await http.post(
            f"/v1/namespaces/{ns}/runs", json={"workflowName": "tls.double", "input": 3}
        )
        assert started.status_code == 200, started.text
        run_id = started.json()["run"]["runId"]
        got = await http.get(f"/v1/namespaces/{ns}/runs/{run_id}")
    assert got.status_code == 200
    assert got.json()["run"]["status"] == "WORKFLOW_RUN_STATUS_PENDING"


def test_client_config__loads_a_client_certificate(mtls_server: TlsServer) -> None:
    tls = TLSConfig(ca=mtls_server.certs.ca, cert=mtls_server.certs.client_cert, key="missing.key")
    with pytest.raises(ValueError, match=r"cannot read the private key file missing\.key"):
        tls.channel_credentials()
