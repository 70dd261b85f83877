"""`stepline namespaces …` and `stepline keys …` against live servers: one with auth off
(the shared SQLite server), one that requires keys, bootstrapped by
`stepline-server keys create` with no server running."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import processes
from tests.cli.runner import Cli


def _fresh() -> str:
    return f"cli-ns-{secrets.token_hex(4)}"


def test_namespaces__create_get_update_list(cli: Cli) -> None:
    name = _fresh()
    created = cli.ok("--output", "json", "namespaces", "create", name, "--retention", "30d")
    assert created.json()["namespace"]["retention"] == "2592000s"
    cli.ok("namespaces", "update", name, "--description", "billing team")
    shown = cli.ok("namespaces", "get", name).out
    assert name in shown and "billing team" in shown and "30 days" in shown
    listed = cli.ok("--output", "json", "namespaces", "list").json()
    assert name in [n["namespaceId"] for n in listed["namespaces"]]
    cli.ok("--namespace", name, "runs", "start", "greet", "--task-queue", "nobody")


def test_namespaces__errors_are_one_line(cli: Cli) -> None:
    name = _fresh()
    cli.ok("namespaces", "create", name)
    again = cli("namespaces", "create", name)
    assert again.code == 1 and again.err == f"stepline: namespace {name} already exists\n"
    missing = cli("--namespace", f"{name}-typo", "runs", "list")
    assert missing.code == 1 and "not found" in missing.err


def test_keys__create_list_revoke(cli: Cli) -> None:
    name = _fresh()
    cli.ok("namespaces", "create", name)
    created = cli.ok("--namespace", name, "keys", "create", "--role", "worker", "--name", "w1")
    secret = created.out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert secret.startswith("stepline_")
    listed = cli.ok("--namespace", name, "--output", "json", "keys", "list").json()
    (key,) = listed["apiKeys"]
    assert key["role"] == "ROLE_WORKER" and secret not in str(listed)
    revoked = cli.ok("--namespace", name, "--output", "json", "keys", "revoke", key["keyId"])
    assert "revokedAt" in revoked.json()["apiKey"]


@pytest.fixture
def secured_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server requiring keys, and the operator key made before it started."""
    database = f"sqlite:///{tmp_path / 'keys.db'}"
    made = subprocess.run(
        [
            *(processes.BIN / "stepline-server", "keys", "create", "--database-url", database),
            *("--namespace", "*", "--role", "admin", "--name", "ops"),
        ],
        env=processes.environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    with processes.server(database, tmp_path, STEPLINE_AUTH="required") as address:
        yield address, made.stdout.strip()


def test_keys__an_operator_key_from_the_bootstrap_command_creates_a_namespace(
    secured_server: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address, operator = secured_server
    cli = Cli(capsys, address)
    refused = cli("namespaces", "create", "team-a")
    assert refused.code == 1 and "STEPLINE_API_KEY" in refused.err
    monkeypatch.setenv("STEPLINE_API_KEY", operator)
    cli.ok("namespaces", "create", "team-a")
    assert "team-a" in cli.ok("namespaces", "list").out
