"""Headers -> gRPC metadata and timeout, and response metadata -> headers."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError
from gateway.metadata import MAX_METADATA_BYTES, MAX_TIMEOUT, incoming, outgoing, parse_grpc_timeout


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5S", 5.0),
        ("100m", 0.1),
        ("250000u", 0.25),
        ("2M", 120.0),
        ("1H", 3600.0),
        ("1000000n", 0.001),
        ("99999999H", MAX_TIMEOUT),  # capped: a deadline that far would overflow
    ],
)
def test_grpc_timeout__parses_grpc_units(text: str, seconds: float) -> None:
    assert parse_grpc_timeout(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "5s", "1.5S", "123456789S", "-1S", ""])
def test_grpc_timeout__malformed_is_400(text: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_grpc_timeout(text)
    assert caught.value.http_status == 400


def test_outgoing__forwards_known_headers_and_grpc_metadata_prefix() -> None:
    metadata, timeout = outgoing(
        [
            (b"host", b"x"),
            (b"authorization", b"Bearer t"),
            (b"x-request-id", b"r1"),
            (b"grpc-metadata-tenant", b"acme"),
            (b"grpc-metadata-blob-bin", b"AAE="),
            (b"grpc-metadata-grpc-trace-bin", b"AAE="),  # reserved by gRPC: dropped
            (b"grpc-metadata-bad key", b"v"),  # not a metadata key: dropped
            (b"grpc-timeout", b"3S"),
        ],
        30.0,
    )
    assert metadata == [
        ("authorization", "Bearer t"),
        ("x-request-id", "r1"),
        ("tenant", "acme"),
        ("blob-bin", b"\x00\x01"),
    ]
    assert timeout == 3.0


def test_outgoing__default_timeout_without_header() -> None:
    assert outgoing([], 12.5) == ([], 12.5)
    assert outgoing([], None) == ([], None)


@pytest.mark.parametrize(
    "header",
    [(b"x-request-id", "\u00fc".encode("latin-1")), (b"authorization", b"a\tb")],
)
def test_outgoing__non_printable_value_is_400_not_500(header: tuple[bytes, bytes]) -> None:
    with pytest.raises(GatewayError) as caught:
        outgoing([header], None)
    assert caught.value.http_status == 400
    assert caught.value.metadata["field"] == header[0].decode()


def test_incoming__prefixes_keys_and_base64s_binary_values() -> None:
    headers = incoming(
        [("x-a", "1"), ("grpc-status", "0")], [("x-b-bin", b"\xff"), ("content-type", "x")]
    )
    assert headers == [(b"grpc-metadata-x-a", b"1"), (b"grpc-metadata-x-b-bin", b"/w==")]


@pytest.mark.parametrize(
    "key", ["authorization", "traceparent", "x-request-id", "host", "te", "content-type"]
)
def test_outgoing__grpc_metadata_cannot_set_a_forwarded_or_transport_key(key: str) -> None:
    metadata, _ = outgoing(
        [(b"grpc-metadata-" + key.encode(), b"v"), (b"x-request-id", b"r")], None
    )
    assert metadata == [("x-request-id", "r")]


def test_outgoing__metadata_over_the_limit_is_431_naming_the_largest_headers() -> None:
    pad = b"p" * (MAX_METADATA_BYTES - len("pad") - 32)
    at_limit = [(b"grpc-metadata-pad", pad)]
    assert outgoing(at_limit, None)[0] == [("pad", pad.decode())]
    with pytest.raises(GatewayError) as caught:
        outgoing([*at_limit, (b"authorization", b"")], None)
    assert caught.value.http_status == 431
    assert caught.value.reason == "METADATA_TOO_LARGE"
    assert caught.value.metadata["headers"] == "grpc-metadata-pad, authorization"
