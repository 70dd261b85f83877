"""HTTP headers <-> gRPC metadata, and the upstream deadline.

In: Authorization, traceparent, tracestate, baggage and x-request-id pass as they are;
`Grpc-Metadata-<key>: v` becomes `<key>: v` (base64-decoded for `-bin` keys).
Out: the call's initial and trailing metadata come back as `Grpc-Metadata-<key>`
headers (base64 for `-bin` values). `Grpc-Timeout` (gRPC's own format: "5S",
"100m", "250000u") sets the deadline; without it the gateway's default applies.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from gateway.errors import invalid

Metadata = list[tuple[str, str | bytes]]

_FORWARDED = frozenset(
    {b"authorization", b"traceparent", b"tracestate", b"baggage", b"x-request-id"}
)
_PREFIX = b"grpc-metadata-"
_TIMEOUT_HEADER = b"grpc-timeout"
_KEY = re.compile(r"[0-9a-z_.\-]+")
_TIMEOUT = re.compile(r"(\d{1,8})([HMSmun])")
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")
# gRPC's own limit is far above any sensible call; beyond this a deadline would overflow.
MAX_TIMEOUT = 100 * 24 * 3600.0
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def outgoing(
    headers: Iterable[tuple[bytes, bytes]], default_timeout: float | None
) -> tuple[Metadata, float | None]:
    """The gRPC metadata and timeout (seconds) for a request's ASGI headers."""
    metadata: Metadata = []
    timeout = default_timeout
    for name, value in headers:
        if name in _FORWARDED:
            metadata.append((name.decode(), _text(name.decode(), value)))
        elif name.startswith(_PREFIX):
            _add_custom(metadata, name[len(_PREFIX) :].decode("latin-1"), value)
        elif name == _TIMEOUT_HEADER:
            timeout = parse_grpc_timeout(value.decode("latin-1"))
    return metadata, timeout


def _add_custom(metadata: Metadata, key: str, value: bytes) -> None:
    # Keys gRPC reserves or cannot carry are dropped, as grpc-gateway does.
    if key.startswith("grpc-") or not _KEY.fullmatch(key):
        return
    if key.endswith("-bin"):
        try:
            metadata.append((key, base64.b64decode(value, validate=True)))
        except binascii.Error:
            raise invalid(
                f"header Grpc-Metadata-{key}: not base64", f"Grpc-Metadata-{key}"
            ) from None
    else:
        metadata.append((key, _text(f"Grpc-Metadata-{key}", value)))


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
