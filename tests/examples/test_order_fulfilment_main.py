"""`python -m examples.order_fulfilment`: a worker and one order in a single process."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.cli import processes


@pytest.mark.parametrize("backend_address", ["sqlite"], indirect=True)
def test_example__runs_worker_and_order_in_one_process(backend_address: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.order_fulfilment"],
        cwd=processes.ROOT,
        env=processes.environment(STEPLINE_ADDRESS=backend_address),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = ast.literal_eval(result.stdout)
    assert printed == {"order": 42, "charge": "ch_42", "tracking": "TRACK-42-bin-0"}
