"""How `stepline-server serve` wires its REST gateway: the gRPC address it dials for a
wildcard listen address, and the default deadline, where 0 means none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.config import ServerConfig
from services.rest import default_timeout, loopback_backend


@pytest.mark.parametrize(
    ("listen", "dialled"),
    [
        ("0.0.0.0:50051", "127.0.0.1:7"),
        (":50051", "127.0.0.1:7"),
        ("[::]:50051", "[::1]:7"),
        ("127.0.0.2:50051", "127.0.0.2:7"),
        ("example.internal:50051", "example.internal:7"),
    ],
)
def test_loopback_backend__wildcards_dial_loopback(listen: str, dialled: str) -> None:
    assert loopback_backend(listen, 7) == dialled


def test_default_timeout__zero_means_no_deadline() -> None:
    assert default_timeout(ServerConfig(http_default_timeout=timedelta(0))) is None
    assert default_timeout(ServerConfig()) == 30.0
