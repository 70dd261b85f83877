"""--auth and its default: off only when every listener is on loopback; beyond loopback
keys are required unless `--auth off` is said explicitly, which is then warned about at
every start."""

from __future__ import annotations

import subprocess

import grpc
import pytest

from services.auth_mode import is_loopback, resolve
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from tests.cli.processes import BIN, environment, stop


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.9.10:1", True),
        ("localhost:8080", True),
        ("[::1]:50051", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("stepline.example.com:443", False),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_resolve__default_is_off_on_loopback_and_required_beyond() -> None:
    assert resolve(None, ("127.0.0.1:50051", "127.0.0.1:8080")) == ("off", None)
    assert resolve(None, ("127.0.0.1:50051", "")) == ("off", None)
    assert resolve(None, ("127.0.0.1:50051", "0.0.0.0:8080")) == ("required", None)


def test_resolve__explicit_off_beyond_loopback_warns() -> None:
    mode, warning = resolve("off", ("0.0.0.0:50051", "127.0.0.1:8080"))
    assert mode == "off"
    assert warning is not None and "0.0.0.0:50051" in warning
    assert resolve("required", ("127.0.0.1:1",)) == ("required", None)
    with pytest.raises(ValueError, match="--auth"):
        resolve("maybe", ())


def _serve_on_any_address(tmp_path: object, *flags: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [BIN / "stepline-server", "serve", "--grpc-address", "0.0.0.0:0", *flags],
        cwd=str(tmp_path),
        env=environment(STEPLINE_HTTP_ADDRESS="", STEPLINE_DATABASE_URL="sqlite:///auth.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "gRPC listening on" in line, line
    port = line.split("gRPC listening on ", 1)[1].split(";", 1)[0].rsplit(":", 1)[1]
    return process, f"127.0.0.1:{port}"


def _start_code(address: str) -> grpc.StatusCode:
    with grpc.insecure_channel(address) as channel:
        stub = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            stub.StartWorkflow(wf.StartWorkflowRequest(workflow_name="w"), timeout=10)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.slow
def test_serve__beyond_loopback_requires_keys_by_default(tmp_path: object) -> None:
    process, address = _serve_on_any_address(tmp_path)
    try:
        assert _start_code(address) == grpc.StatusCode.UNAUTHENTICATED
    finally:
        stop(process)
        _, stderr = process.communicate()
    assert "auth is off" not in stderr


@pytest.mark.slow
def test_serve__explicit_auth_off_beyond_loopback_warns_at_start(tmp_path: object) -> None:
    process, address = _serve_on_any_address(tmp_path, "--auth", "off")
    try:
        assert _start_code(address) == grpc.StatusCode.OK
    finally:
        stop(process)
        _, stderr = process.communicate()
    assert "WARNING: auth is off while listening on 0.0.0.0:0" in stderr
