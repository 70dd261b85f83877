"""The CLI's errors: one line on stderr, exit 1 (2 for usage), never a traceback."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from stepline.cli import execute
from stepline.cli import parser as cli_parser
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
        (["--input", "1e400"], "argument --input: 1e400 is out of range for a JSON number"),
        (["--input", "NaN"], "argument --input: NaN is not a JSON number"),
        (["--input", "[Infinity]"], "argument --input: Infinity is not a JSON number"),
        (["--context", '{"n": -1e999}'], "argument --context: -1e999 is out of range"),
        (["--input", "9" * 400], "argument --input: 999999999999… (400 characters) is too large"),
        (["--input", "12345678901234567891"], "is too large for a payload number (a double)"),
        (["--input", "1" * 5000], "argument --input: too big or too deeply nested JSON"),
        (["--input", "[" * 5000], "argument --input: too big or too deeply nested JSON"),
        (["--input", "[" * 33 + "]" * 33], "argument --input: JSON nested over 32 levels deep"),
        (["--start-at", "0001-01-01T00:00:00+14:00"], "argument --start-at: out of the range"),
        (["--deadline", "9999-12-31T23:59:59-14:00"], "argument --deadline: out of the range"),
    ],
)
def test_bad_start_flag__is_a_usage_error(cli: Cli, flags: list[str], message: str) -> None:
    result = cli("runs", "start", "greet", *flags)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err


def test_numbers_a_payload_carries_exactly__are_accepted(cli: Cli) -> None:
    deep = "[" * 31 + "]" * 31  # 32 levels with the object around it
    document = f'{{"big": 9007199254740992, "tiny": 1e-400, "deep": {deep}}}'
    run = cli.start("greet", "--task-queue", "cli-numbers", "--input", document)
    assert run["input"]["big"] == 2**53 and run["input"]["tiny"] == 0
    assert json.dumps(run["input"]["deep"], separators=(",", ":")) == deep


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--since", "0001-01-01T00:00:00+14:00"], "argument --since: out of the range"),
        (["--page-size", "2147483648"], "argument --page-size: must be at most 2147483647"),
        (["--limit", "9" * 30], "argument --limit: must be at most 2147483647"),
    ],
)
def test_bad_list_flag__is_a_usage_error(cli: Cli, flags: list[str], message: str) -> None:
    result = cli("runs", "list", *flags)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err


def test_value_the_sdk_cannot_serialise__is_a_usage_error(
    address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second line of defence behind the flag parsers: NotSerializableError is one line."""
    parser = cli_parser.build()
    args = parser.parse_args(["--address", address, "runs", "start", "greet", "--input", "1"])
    args.input = {"when": math.nan}  # what no flag parser lets through
    with pytest.raises(SystemExit) as exited:
        execute(parser, args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("stepline: ") and err.count("\n") == 1


def test_bad_status__is_a_usage_error_listing_the_statuses(cli: Cli) -> None:
    result = cli("runs", "list", "--status", "done")
    assert result.code == 2
    assert (
        "not a run status (pending, running, sleeping, waiting, completed, failed, canceled)"
        in (result.err)
    )
