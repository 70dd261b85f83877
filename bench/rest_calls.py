"""The calls the REST benchmark times — StartWorkflow and GetWorkflowRun over gRPC
(grpc.aio); over REST to the gateway inside the server process, through a minimal
keep-alive HTTP/1.1 client ("REST") and through httpx ("REST/httpx"); and over REST to
a gateway in a process of its own ("REST, own process") — and the timing loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from google.protobuf import json_format, struct_pb2

from bench.api import Api
from bench.pickup import percentile
from bench.rest_http import CallFailed, RawHttp
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

NAMESPACE = "bench-rest"
WORKFLOW_NAME = "bench-rest"
RPCS = ("StartWorkflow", "GetWorkflowRun")
GRPC, REST, HTTPX, OWN_PROCESS = "gRPC", "REST", "REST/httpx", "REST, own process"
TRANSPORTS = (GRPC, REST, HTTPX, OWN_PROCESS)

Call = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timing:
    rpc: str
    transport: str
    concurrency: int
    latencies_ms: tuple[float, ...]
    seconds: float
    server_cpu_seconds: float | None
    """CPU time the server (and gateway) processes spent on these calls."""

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def calls_per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def server_cpu_ms(self) -> float | None:
        """Server CPU per call: unlike latency, barely moved by other load on the machine."""
        if self.server_cpu_seconds is None:
            return None
        return self.server_cpu_seconds * 1000 / len(self.latencies_ms)


async def time_calls(call: Call, calls: int, concurrency: int) -> tuple[list[float], float]:
    """Make `calls` calls from `concurrency` concurrent callers: latencies (ms), wall time."""
    latencies: list[float] = []
    next_index = iter(range(calls))

    async def caller() -> None:
        for index in next_index:
            started = time.perf_counter()
            await call(index)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def _input(index: int) -> dict[str, object]:
    # A small, realistic payload; the same JSON for both transports.
    return {"order": index, "items": ["a", "b"], "express": index % 2 == 0}


def _value(data: dict[str, object]) -> struct_pb2.Value:
    message = struct_pb2.Value()
    json_format.ParseDict(data, message)
    return message


class Clients:
    """One gRPC channel and HTTP connection pools (raw and httpx) to the server's own
    gateway, and raw ones to the gateway in its own process, if there is one."""

    def __init__(
        self, grpc_address: str, http_address: str, gateway_address: str | None, concurrency: int
    ) -> None:
        self.api = Api(grpc_address)
        self._stub = wf_grpc.WorkflowServiceStub(self.api.channel)  # type: ignore[no-untyped-call]
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.http = httpx.AsyncClient(
            base_url=f"http://{http_address}", limits=limits, timeout=30.0
        )
        self.raw = RawHttp(http_address)
        self.own_process = None if gateway_address is None else RawHttp(gateway_address)
        self.transports = TRANSPORTS if gateway_address is not None else TRANSPORTS[:3]
        self.run_id = ""

    async def open(self) -> None:
        await self.api.wait_ready()
        await self.api.create_namespace(NAMESPACE)
        response = await self._stub.StartWorkflow(
            wf.StartWorkflowRequest(namespace_id=NAMESPACE, workflow_name=WORKFLOW_NAME)
        )
        self.run_id = response.run.run_id

    async def close(self) -> None:
        if self.own_process is not None:
            await self.own_process.close()
        await self.raw.close()
        await self.http.aclose()
        await self.api.close()

    def call(self, rpc: str, transport: str) -> Call:
        calls: dict[tuple[str, str], Call] = {
            ("StartWorkflow", GRPC): self._grpc_start,
            ("StartWorkflow", REST): _raw_start(self.raw),
            ("StartWorkflow", HTTPX): self._httpx_start,
            ("GetWorkflowRun", GRPC): self._grpc_get,
            ("GetWorkflowRun", REST): _raw_get(self.raw, self),
            ("GetWorkflowRun", HTTPX): self._httpx_get,
        }
        if self.own_process is not None:
            calls[("StartWorkflow", OWN_PROCESS)] = _raw_start(self.own_process)
            calls[("GetWorkflowRun", OWN_PROCESS)] = _raw_get(self.own_process, self)
        return calls[(rpc, transport)]

    async def _grpc_start(self, index: int) -> None:
        await self._stub.StartWorkflow(
            wf.StartWorkflowRequest(
                namespace_id=NAMESPACE, workflow_name=WORKFLOW_NAME, input=_value(_input(index))
            )
        )

    async def _httpx_start(self, index: int) -> None:
        body = {"workflowName": WORKFLOW_NAME, "input": _input(index)}
        _check(await self.http.post(f"/v1/namespaces/{NAMESPACE}/runs", json=body))

    async def _grpc_get(self, _index: int) -> None:
        await self._stub.GetWorkflowRun(
            wf.GetWorkflowRunRequest(namespace_id=NAMESPACE, run_id=self.run_id)
        )

    async def _httpx_get(self, _index: int) -> None:
        _check(await self.http.get(f"/v1/namespaces/{NAMESPACE}/runs/{self.run_id}"))


def _raw_start(http: RawHttp) -> Call:
    async def call(index: int) -> None:
        body = {"workflowName": WORKFLOW_NAME, "input": _input(index)}
        await http.post(f"/v1/namespaces/{NAMESPACE}/runs", body)

    return call


def _raw_get(http: RawHttp, clients: Clients) -> Call:
    async def call(_index: int) -> None:
        await http.get(f"/v1/namespaces/{NAMESPACE}/runs/{clients.run_id}")

    return call


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise CallFailed(f"{response.request.method} {response.request.url}: {response.text}")
