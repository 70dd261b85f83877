"""Root fixtures: the PostgreSQL server (a fresh database per session) and a SQLite file.

PostgreSQL cases skip when the server is unreachable, with a loud notice at the end of
the run; with CI=true they fail instead, so CI can never pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import processes
from tests.support import namespaces, postgres
from tests.support.certs import Certs, make_certs
from tests.support.otlp import OtlpReceiver

_POSTGRES_SKIPPED = pytest.StashKey[str]()


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> str:
    """The admin URL of a reachable server; skips (or fails under CI) otherwise."""
    url = postgres.admin_url()
    reason = postgres.unavailable_reason(url)
    if reason is None:
        return url
    message = f"PostgreSQL unreachable at {url} ({reason})"
    if _in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    request.config.stash[_POSTGRES_SKIPPED] = message
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for this session; dropped at the end."""
    with postgres.fresh_database(postgres_admin_url) as url:
        yield url


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file (not yet created) in this test's tmp_path."""
    return sqlite_url_for(tmp_path / "stepline.db")


# `stepline-server` processes shared by the CLI and example tests (each test uses its own
# task queue or namespace).
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


@pytest.fixture(autouse=True)
def _namespaces_of_this_test() -> None:
    """The namespaces a test makes are created on the servers it starts (support.namespaces)."""
    namespaces.new_test()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    """A real OTLP/HTTP trace receiver on loopback, for the spans of processes under test."""
    started = OtlpReceiver().start()
    try:
        yield started
    finally:
        started.close()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    message = config.stash.get(_POSTGRES_SKIPPED, None)
    if message is None:
        return
    terminalreporter.write_sep("!", "POSTGRESQL TESTS WERE SKIPPED", red=True, bold=True)
    terminalreporter.write_line(message, red=True, bold=True)
    terminalreporter.write_line(
        f"Start PostgreSQL at 127.0.0.1:5432 (or set {postgres.ADMIN_URL_ENV}) to run them; "
        "with CI=true they fail instead of skipping.",
        red=True,
        bold=True,
    )
    terminalreporter.write_sep("!", red=True, bold=True)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A test CA with server and client certificates in a temporary directory."""
    return make_certs(tmp_path_factory.mktemp("tls"))
