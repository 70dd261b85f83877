"""`stepline-server` processes (SQLite file, PostgreSQL) and the CLI run in-process against one.

Tests use `address` (the SQLite server); `test_runs.py` narrows it to each backend in turn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import processes
from tests.cli.runner import Cli
from tests.conftest import sqlite_url_for


@pytest.fixture(scope="session")
def sqlite_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a SQLite file, shared by the CLI tests (each uses its own queue)."""
    workdir = tmp_path_factory.mktemp("cli-server")
    with processes.server(sqlite_url_for(workdir / "stepline.db"), workdir) as started:
        yield started


@pytest.fixture(scope="session")
def postgres_address(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on this session's PostgreSQL database (each test uses its own queue)."""
    with processes.server(postgres_url, tmp_path_factory.mktemp("cli-pg-server")) as started:
        yield started


@pytest.fixture(scope="session")
def address(sqlite_address: str) -> str:
    return sqlite_address


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], address: str) -> Cli:
    return Cli(capsys, address)
