"""Real OTLP trace receivers on loopback (HTTP and gRPC), for tests that export spans.

Processes under test get `receiver.environ()` (OTEL_EXPORTER_OTLP_ENDPOINT, the
protocol and a short batch delay) and export as they would to a collector; the test
reads back what arrived as `Span`s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from bench.otlp_sink import OtlpSink

_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    attributes: dict[str, Any]
    status_code: int  # 0 unset, 1 ok, 2 error
    links: tuple[tuple[str, str], ...] = ()
    """(trace_id, span_id) of each span this one links to."""


class _Received:
    """The spans exported to a receiver so far."""

    protocol = ""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    def environ(self, service_name: str) -> dict[str, str]:
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": self.protocol,
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }

    def spans(self) -> list[Span]:
        with self._lock:
            return list(self._spans)

    def wait_for(self, found: Callable[[list[Span]], bool], timeout: float = 15.0) -> list[Span]:
        """The spans once `found(spans)` holds; AssertionError with what came otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.spans()
            if found(spans):
                return spans
            time.sleep(0.05)
        names = sorted({(s.service, s.name) for s in self.spans()})
        raise AssertionError(f"spans never arrived as expected; got {names}")

    def _receive(self, request: ExportTraceServiceRequest) -> None:
        spans = list(_spans_of(request))
        with self._lock:
            self._spans.extend(spans)


class OtlpReceiver(_Received):
    """OTLP over HTTP with protobuf: POST /v1/traces."""

    protocol = "http/protobuf"

    def __init__(self) -> None:
        super().__init__()
        self._sink = OtlpSink(self._receive)

    @property
    def endpoint(self) -> str:
        return self._sink.endpoint

    def start(self) -> OtlpReceiver:
        self._sink.__enter__()
        return self

    def close(self) -> None:
        self._sink.__exit__(None, None, None)


class OtlpGrpcReceiver(_Received):
    """OTLP over gRPC: the TraceService."""

    protocol = "grpc"

    def __init__(self) -> None:
        super().__init__()
        self._grpc = grpc.server(ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            _TraceService(self._receive), self._grpc
        )
        self._port = self._grpc.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> OtlpGrpcReceiver:
        self._grpc.start()
        return self

    def close(self) -> None:
        self._grpc.stop(grace=None)


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receive: Callable[[ExportTraceServiceRequest], None]) -> None:
        self._receive = receive

    def Export(  # noqa: N802 (the service's method name)
        self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> ExportTraceServiceResponse:
        self._receive(request)
        return ExportTraceServiceResponse()


def _spans_of(request: ExportTraceServiceRequest) -> Iterator[Span]:
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield Span(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    name=span.name,
                    kind=_KINDS.get(span.kind, "unspecified"),
                    service=service,
                    attributes={a.key: _value(a.value) for a in span.attributes},
                    status_code=span.status.code,
                    links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                )


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, which) if which else None
