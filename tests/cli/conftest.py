"""A `stepline-server` process on a SQLite file, and the CLI run in-process against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import processes
from tests.cli.runner import Cli
from tests.conftest import sqlite_url_for


@pytest.fixture(scope="session")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a SQLite file, shared by the CLI tests (each uses its own queue)."""
    workdir = tmp_path_factory.mktemp("cli-server")
    with processes.server(sqlite_url_for(workdir / "stepline.db"), workdir) as started:
        yield started


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], address: str) -> Cli:
    return Cli(capsys, address)
