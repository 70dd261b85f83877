"""The CLI's errors: one line on stderr, exit 1 (2 for usage), never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.cli import processes
from tests.cli.runner import Cli
from tests.support import postgres

MISSING_RUN = "01234567-89ab-7def-8123-456789abcdef"


@pytest.mark.parametrize("action", ["get", "steps", "cancel"])
def test_unknown_run__is_run_not_found(cli: Cli, action: str) -> None:
    result = cli("runs", action, MISSING_RUN)
    assert (result.code, result.out) == (1, "")
    assert result.err == f"stepline: run not found: {MISSING_RUN}\n"


def test_malformed_run_id__is_the_servers_message_on_one_line(cli: Cli) -> None:
    result = cli("runs", "get", "nope")
    assert result.code == 1
    assert result.err.startswith("stepline: ") and result.err.count("\n") == 1
    assert "run_id" in result.err


def test_server_down__says_which_address_it_could_not_reach() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    result = processes.run_cli("--address", address, "runs", "list")
    assert result.returncode == 1
    assert result.stderr == (
        f"stepline: cannot reach the stepline server at {address} (is it running?)\n"
    )


@pytest.mark.postgres
def test_database_down__says_the_server_cannot_reach_it(
    postgres_admin_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.create_database(postgres_admin_url)
    try:
        with processes.server(url, tmp_path, STEPLINE_DB_POOL_TIMEOUT="500ms") as address:
            with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
                name = sql.Identifier(postgres.database_name(url))
                admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (postgres.database_name(url),),
                )
            result = Cli(capsys, address)("runs", "get", MISSING_RUN)
    finally:
        postgres.drop_database(postgres_admin_url, url)
    assert result.code == 1
    assert result.err.startswith(f"stepline: the server at {address} cannot reach its database")
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--input", "{oops"], "argument --input: not valid JSON: "),
        (["--input", "@/no/such/file.json"], "argument --input: cannot read /no/such/file.json"),
        (["--context", "[1]"], "argument --context: must be a JSON object"),
        (["--deadline", "tomorrow"], "argument --deadline: not an RFC 3339 time"),
        (["--start-at", "2030-01-01T09:00:00"], "argument --start-at: give the time zone"),
        (["--deadline", "99999999d"], "argument --deadline: too far from now: '99999999d'"),
    ],
)
def test_bad_start_flag__is_a_usage_error(cli: Cli, flags: list[str], message: str) -> None:
    result = cli("runs", "start", "greet", *flags)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err


def test_bad_status__is_a_usage_error_listing_the_statuses(cli: Cli) -> None:
    result = cli("runs", "list", "--status", "done")
    assert result.code == 2
    assert "not a run status (pending, running, sleeping, completed, failed, canceled)" in (
        result.err
    )
