"""The console scripts with TLS: `stepline-server serve` takes its certificate from the
STEPLINE_SERVER_TLS_* variables, `stepline` and `stepline worker` theirs from flags or
STEPLINE_TLS_*, `stepline-server gateway` dials a core that requires client
certificates; bad TLS files stop the server at start with a message naming the file."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli import processes
from tests.conftest import sqlite_url_for
from tests.support.certs import Certs

pytestmark = [pytest.mark.slow]
APP = "tests.cli.apps:workflows"
_REST = re.compile(r"REST listening on (https?://\S+?)[;\s]")


def server_tls(certs: Certs) -> dict[str, str]:
    return {
        "STEPLINE_SERVER_TLS_CERT": certs.server_cert,
        "STEPLINE_SERVER_TLS_KEY": certs.server_key,
        "STEPLINE_SERVER_TLS_CLIENT_CA": certs.ca,
    }


def client_flags(certs: Certs) -> list[str]:
    return ["--tls-ca", certs.ca, "--tls-cert", certs.client_cert, "--tls-key", certs.client_key]


@pytest.fixture(scope="module")
def mtls_address(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("mtls-cli")
    with processes.server(sqlite_url_for(workdir / "s.db"), workdir, **server_tls(certs)) as at:
        yield at


def test_cli_and_worker__run_a_workflow_over_mtls(mtls_address: str, certs: Certs) -> None:
    worker_env = {
        "STEPLINE_TLS_CA": certs.ca,
        "STEPLINE_TLS_CERT": certs.client_cert,
        "STEPLINE_TLS_KEY": certs.client_key,
    }
    with processes.worker(mtls_address, APP, "--task-queue", "tls-cli", env=worker_env):
        started = processes.run_cli(
            "--address",
            mtls_address,
            *client_flags(certs),
            "--output",
            "json",
            "runs",
            "start",
            "cli.echo",
            "--input",
            '{"over": "mtls"}',
            "--task-queue",
            "tls-cli",
            "--wait",
        )
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["output"] == {"over": "mtls"}


def test_cli_without_a_client_certificate__cannot_reach_the_server(
    mtls_address: str, certs: Certs
) -> None:
    refused = processes.run_cli("--address", mtls_address, "--tls-ca", certs.ca, "runs", "list")
    assert refused.returncode == 1
    assert "cannot reach the stepline server" in refused.stderr
    # The hint points at TLS (how the refusal reads depends on when the server closes).
    assert "--tls-cert" in refused.stderr


def test_cli__names_an_unreadable_tls_file(mtls_address: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing-ca.pem")
    refused = processes.run_cli("--address", mtls_address, "--tls-ca", missing, "runs", "list")
    assert refused.returncode == 2
    assert f"cannot read the CA certificate file {missing}" in refused.stderr


@contextmanager
def spawned(*args: str, env: dict[str, str], lines: int) -> Iterator[list[str]]:
    """A `stepline-server` process; yields its first `lines` stdout lines."""
    process = subprocess.Popen(
        [processes.BIN / "stepline-server", *args],
        env=processes.environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield [process.stdout.readline() for _ in range(lines)]
    finally:
        processes.stop(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_and_gateway__https_in_front_of_an_mtls_core(certs: Certs, tmp_path: Path) -> None:
    serve = ("serve", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0")
    env = {"STEPLINE_DATABASE_URL": sqlite_url_for(tmp_path / "s.db"), **server_tls(certs)}
    trust = ssl.create_default_context(cafile=certs.ca)
    with spawned(*serve, env=env, lines=3) as banner:
        assert "TLS with client certificates (mTLS)" in banner[0], banner
        address = banner[0].split("gRPC listening on ")[1].split(";")[0]
        rest = _REST.search(banner[2])
        assert rest and rest[1].startswith("https://"), banner
        assert httpx.get(f"{rest[1]}/readyz", verify=trust).status_code == 200
        gateway = (
            "gateway",
            "--grpc-backend",
            address,
            "--http-address",
            "127.0.0.1:0",
            "--tls-cert",
            certs.server_cert,
            "--tls-key",
            certs.server_key,
            "--grpc-backend-tls-ca",
            certs.ca,
            "--grpc-backend-tls-cert",
            certs.client_cert,
            "--grpc-backend-tls-key",
            certs.client_key,
        )
        with spawned(*gateway, env={}, lines=1) as lines:
            found = _REST.search(lines[0])
            assert found and found[1].startswith("https://"), lines
            assert f"gRPC backend {address} (TLS)" in lines[0]
            ready = httpx.get(f"{found[1]}/readyz", verify=trust)
    assert ready.status_code == 200, ready.text


@pytest.mark.parametrize("problem", ["missing", "mismatched", "half"])
def test_serve__refuses_to_start_with_bad_tls_files(
    certs: Certs, tmp_path: Path, problem: str
) -> None:
    env = {"STEPLINE_DATABASE_URL": sqlite_url_for(tmp_path / "s.db")}
    flags = {
        "missing": ["--tls-cert", certs.server_cert, "--tls-key", str(tmp_path / "gone.key")],
        "mismatched": ["--tls-cert", certs.server_cert, "--tls-key", certs.client_key],
        "half": ["--tls-cert", certs.server_cert],
    }[problem]
    result = subprocess.run(
        [processes.BIN / "stepline-server", "serve", "--grpc-address", "127.0.0.1:0", *flags],
        env=processes.environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    expected = {
        "missing": f"cannot read the private key file {tmp_path / 'gone.key'}",
        "mismatched": f"the certificate {certs.server_cert} and key {certs.client_key} do not",
        "half": "TLS needs both a certificate (--tls-cert) and its key (--tls-key)",
    }[problem]
    assert expected in result.stderr
    assert "BEGIN" not in result.stderr  # no PEM content in the message


@pytest.mark.postgres
def test_serve_processes__serve_tls_on_both_ports(
    certs: Certs, postgres_url: str, tmp_path: Path
) -> None:
    serve = (
        "serve",
        "--processes",
        "2",
        "--database-url",
        postgres_url,
        "--grpc-address",
        "127.0.0.1:0",
        "--http-address",
        "127.0.0.1:0",
        "--tls-cert",
        certs.server_cert,
        "--tls-key",
        certs.server_key,
    )
    trust = ssl.create_default_context(cafile=certs.ca)
    with spawned(*serve, env={}, lines=2) as banner:
        assert "; TLS; 2 processes" in banner[0], banner
        address = banner[0].split("gRPC listening on ")[1].split(";")[0]
        rest = _REST.search(banner[1])
        assert rest and rest[1].startswith("https://"), banner
        # Several connections, so that both processes answer some (the kernel spreads them).
        for _ in range(4):
            with httpx.Client(verify=trust) as http:
                assert http.get(f"{rest[1]}/v1/namespaces/default/runs").status_code == 200
        listed = processes.run_cli(
            "--address", address, "--tls-ca", certs.ca, "--namespace", "default", "runs", "list"
        )
    assert listed.returncode == 0, listed.stderr
