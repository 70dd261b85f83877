"""The README's `buf curl` tour, run exactly as written against a fresh server, must
print exactly what the README says it prints."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"<!-- tour:grpc -->\s*```sh\n(?P<script>.*?)```\s*<!-- /tour:grpc -->"
    r".*?```\n(?P<output>.*?)```",
    re.DOTALL,
)


def tour() -> tuple[str, str]:
    match = _BLOCK.search(README.read_text())
    assert match, "README has no <!-- tour:grpc --> block followed by its output"
    return match["script"], match["output"]


@pytest.mark.slow
async def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    script, expected = tour()
    assert "127.0.0.1:50051" in script
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("stepline-server")),
        "serve",
        "--grpc-address",
        "127.0.0.1:0",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        line = (await asyncio.wait_for(server.stdout.readline(), timeout=30)).decode()
        address = re.search(r"listening on (\S+);", line)
        assert address, line
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script.replace("127.0.0.1:50051", address[1]),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        )
        stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=120)
        assert shell.returncode == 0, stderr.decode()
        assert stdout.decode() == expected
    finally:
        server.terminate()
        await server.wait()
