"""The CLI run in-process against a `stepline-server` process (tests/conftest.py starts one
per backend). Tests use `address` (the SQLite server); `test_runs.py` narrows it to each
backend in turn."""

from __future__ import annotations

import pytest

from tests.cli.runner import Cli


@pytest.fixture(scope="session")
def address(sqlite_address: str) -> str:
    return sqlite_address


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], address: str) -> Cli:
    return Cli(capsys, address)
