"""schemathesis as a user runs it, with every check and every phase: the OpenAPI document
says what the server enforces, no less and no more (issue 18).

`schemathesis run --checks all` drives a real server and gateway (SQLite, loopback) from
its /openapi.json, through the coverage, fuzzing and stateful phases: positive and
negative cases, undeclared methods and their Allow headers, response schemas and
headers, runs created and then read, cancelled and replayed through inferred links. The
seed is fixed, so every run sends the same requests.

One check is refined (tests/gateway/schemathesis_hooks.py): valid data refused for the
state it found, with a 400 the operation documents (a cancel of an ended run, a forged
page token), is not a mismatch. It runs with one worker: CPython 3.11's ast.parse, which
Hypothesis calls to describe its filters, is not safe across threads.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.gateway.conftest import RestApi

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES_PER_OPERATION = "30"


async def test_schemathesis_with_every_check_and_phase_finds_no_mismatch(
    rest_api_sqlite: RestApi,
) -> None:
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{rest_api_sqlite.base_url}/openapi.json",
        *("--checks", "all", "--exclude-checks", "positive_data_acceptance"),
        *("--phases", "examples,coverage,fuzzing,stateful"),
        *("--max-examples", EXAMPLES_PER_OPERATION, "--seed", "18", "--workers", "1"),
        *("--generation-database", "none", "--request-timeout", "30"),
        "--continue-on-failure",
        "--no-color",
        cwd=ROOT,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.gateway.schemathesis_hooks",
            "PYTHONPATH": str(ROOT),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-20000:]
    assert "Stateful" in report and " passed" in report, report[-5000:]
