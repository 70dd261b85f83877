"""The README's tours (`buf curl` over gRPC, curl over REST, the SDK with the CLI), each
run exactly as written (in a plain bash, as pasted) against a fresh server, must print
exactly what the README says they print."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GRPC_ADDRESS = "127.0.0.1:50051"
HTTP_ADDRESS = "127.0.0.1:8080"
TOURS = ("grpc", "rest", "sdk")


def tour(name: str) -> tuple[str, str]:
    block = re.compile(
        rf"<!-- tour:{name} -->\s*```sh\n(?P<script>.*?)```\s*<!-- /tour:{name} -->"
        r".*?```\n(?P<output>.*?)```",
        re.DOTALL,
    )
    match = block.search(README.read_text())
    assert match, f"README has no <!-- tour:{name} --> block followed by its output"
    return match["script"], match["output"]


async def _banner_addresses(stdout: asyncio.StreamReader) -> tuple[str, str]:
    """The gRPC and REST addresses the server printed (it binds ephemeral ports here)."""
    grpc_address = http_address = ""
    while not (grpc_address and http_address):
        line = (await asyncio.wait_for(stdout.readline(), timeout=30)).decode()
        assert line, "the server exited before printing its addresses"
        if found := re.search(r"gRPC listening on (\S+);", line):
            grpc_address = found[1]
        if found := re.search(r"REST listening on http://(\S+)", line):
            http_address = found[1]
    return grpc_address, http_address


@pytest.mark.slow
@pytest.mark.parametrize("name", TOURS)
async def test_readme_tour_runs_as_written(name: str, tmp_path: Path) -> None:
    script, expected = tour(name)
    # The addresses are rewritten to the test server's: a tour naming neither would talk
    # to whatever else listens on the default ports.
    assert GRPC_ADDRESS in script or HTTP_ADDRESS in script, name
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("stepline-server")),
        "serve",
        "--grpc-address",
        "127.0.0.1:0",
        "--http-address",
        "127.0.0.1:0",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        grpc_address, http_address = await _banner_addresses(server.stdout)
        # A plain bash, as a user pastes a block: no -e, no pipefail. A step that fails
        # shows in the output, which must match the README's to the byte.
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script.replace(GRPC_ADDRESS, grpc_address).replace(HTTP_ADDRESS, http_address),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        )
        stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=120)
        assert shell.returncode == 0, stderr.decode()
        assert "Traceback" not in stderr.decode() and "command not found" not in stderr.decode()
        assert stdout.decode() == expected, stderr.decode()
    finally:
        server.terminate()
        await server.wait()
