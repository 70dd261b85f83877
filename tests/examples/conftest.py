"""A `stepline-server` process per backend (SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import processes
from tests.conftest import sqlite_url_for


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def backend_address(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A server on `request.param`; tests narrow the backends with indirect parametrize."""
    workdir = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = sqlite_url_for(workdir / "stepline.db")
    with processes.server(url, workdir) as address:
        yield address
