"""The session's `stepline-server` process for a backend (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def backend_address(request: pytest.FixtureRequest) -> str:
    """The server on `request.param`; tests narrow the backends with indirect parametrize."""
    address: str = request.getfixturevalue(f"{request.param}_address")
    return address
