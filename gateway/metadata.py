"""HTTP headers <-> gRPC metadata, and the upstream deadline.

In: Authorization, traceparent, tracestate, baggage and x-request-id pass as they are
(the trace headers only while the gateway does not trace: when it does, the upstream
call carries the context of the gateway's own span instead, a child of theirs);
`Grpc-Metadata-<key>: v` becomes `<key>: v` (base64-decoded for `-bin` keys).
Out: the call's initial and trailing metadata come back as `Grpc-Metadata-<key>`
headers (base64 for `-bin` values). `Grpc-Timeout` (gRPC's own format: "5S",
"100m", "250000u") sets the deadline; without it the gateway's default applies.

Forwarded metadata is bounded: gRPC servers reject a request whose header block passes
8 KiB at random (always past 16 KiB), which a client would see as a flaky 429. The
gateway counts the forwarded entries as HTTP/2 does (name + value + 32 bytes each) and
answers 431 naming the largest headers when they pass MAX_METADATA_BYTES, which leaves
1 KiB of the 8 KiB for gRPC's own headers (:path, :authority, te, user-agent, ...).
`Grpc-Metadata-<key>` cannot stand in for a directly forwarded header (authorization,
traceparent, ...) nor for a connection or pseudo header (host, te, content-type, ...):
such keys are dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

import grpc

from gateway.errors import GatewayError, invalid

Metadata = list[tuple[str, str | bytes]]

_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_FORWARDED = frozenset({b"authorization", b"x-request-id"} | _TRACE_HEADERS)
# Keys a Grpc-Metadata- header must not set: the directly forwarded ones, and HTTP/2
# connection-specific or gRPC transport headers.
_NOT_CUSTOM = frozenset(
    {name.decode() for name in _FORWARDED}
    | {
        "host",
        "te",
        "content-type",
        "content-length",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "transfer-encoding",
        "trailer",
        "upgrade",
        "user-agent",
    }
)
MAX_METADATA_BYTES = 7 * 1024
_ENTRY_OVERHEAD = 32  # HTTP/2 (RFC 7541 section 4.1) counts each header as name + value + 32
_PREFIX = b"grpc-metadata-"
_TIMEOUT_HEADER = b"grpc-timeout"
_KEY = re.compile(r"[0-9a-z_.\-]+")
_TIMEOUT = re.compile(r"(\d{1,8})([HMSmun])")
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")
# gRPC's own limit is far above any sensible call; beyond this a deadline would overflow.
MAX_TIMEOUT = 100 * 24 * 3600.0
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def outgoing(
    headers: Iterable[tuple[bytes, bytes]],
    default_timeout: float | None,
    forward_trace: bool = True,
) -> tuple[Metadata, float | None]:
    """The gRPC metadata and timeout (seconds) for a request's ASGI headers."""
    metadata: Metadata = []
    sizes: list[tuple[int, str]] = []  # (wire size, header name) of each forwarded header
    timeout = default_timeout
    for name, value in headers:
        if name in _TRACE_HEADERS and not forward_trace:
            continue
        if name in _FORWARDED:
            metadata.append((name.decode(), _text(name.decode(), value)))
        elif name.startswith(_PREFIX):
            if not _add_custom(metadata, name[len(_PREFIX) :].decode("latin-1"), value):
                continue
        elif name == _TIMEOUT_HEADER:
            timeout = parse_grpc_timeout(value.decode("latin-1"))
            continue
        else:
            continue
        key = metadata[-1][0]
        sizes.append((len(key) + len(value) + _ENTRY_OVERHEAD, name.decode("latin-1")))
    _check_size(sizes)
    return metadata, timeout


def _check_size(sizes: list[tuple[int, str]]) -> None:
    total = sum(size for size, _ in sizes)
    if total <= MAX_METADATA_BYTES:
        return
    largest = [name for _, name in sorted(sizes, key=lambda item: -item[0])[:3]]
    raise GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "METADATA_TOO_LARGE",
        f"the forwarded headers take {total} bytes, over the {MAX_METADATA_BYTES}-byte "
        f"limit (counted as name + value + 32 each); largest: {', '.join(largest)}",
        http_status=431,
        metadata={
            "limit_bytes": str(MAX_METADATA_BYTES),
            "size_bytes": str(total),
            "headers": ", ".join(largest),
        },
    )


def _add_custom(metadata: Metadata, key: str, value: bytes) -> bool:
    """Append `key: value` and say True, or say False when the key is dropped."""
    # Keys gRPC reserves or cannot carry are dropped, as grpc-gateway does; so are keys
    # that would shadow a directly forwarded or a transport header.
    if key.startswith("grpc-") or key in _NOT_CUSTOM or not _KEY.fullmatch(key):
        return False
    if key.endswith("-bin"):
        try:
            metadata.append((key, base64.b64decode(value, validate=True)))
        except binascii.Error:
            raise invalid(
                f"header Grpc-Metadata-{key}: not base64", f"Grpc-Metadata-{key}"
            ) from None
    else:
        metadata.append((key, _text(f"Grpc-Metadata-{key}", value)))
    return True


def _text(header: str, value: bytes) -> str:
    # gRPC carries printable ASCII only in text metadata; anything else is the client's
    # mistake (a 400), not something to let the channel reject (a 500).
    if not _PRINTABLE.fullmatch(value):
        raise invalid(f"header {header}: only printable ASCII is allowed", header)
    return value.decode("ascii")


def parse_grpc_timeout(text: str) -> float:
    """Seconds for a gRPC timeout such as "5S", "100m" or "250000u"."""
    match = _TIMEOUT.fullmatch(text.strip())
    if match is None:
        raise invalid(
            f"header Grpc-Timeout: {text!r} is not a gRPC timeout (e.g. 5S, 100m)", "Grpc-Timeout"
        )
    return min(int(match[1]) * _UNIT_SECONDS[match[2]], MAX_TIMEOUT)


def incoming(*groups: Iterable[Any] | None) -> list[tuple[bytes, bytes]]:
    """Response headers for a call's initial and trailing metadata."""
    headers: list[tuple[bytes, bytes]] = []
    for group in groups:
        for key, value in group or ():
            if key.startswith("grpc-") or key in ("content-type", "user-agent"):
                continue
            raw = base64.b64encode(value) if isinstance(value, bytes) else value.encode("latin-1")
            headers.append((b"grpc-metadata-" + key.encode(), raw))
    return headers
