"""`mypy --strict` accepts user code that uses the SDK correctly (typing_example.py) and
reports misuse: a step argument of the wrong type, a missing one, a wrong result type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

MISUSE = """
from typing import Any

from stepline import WorkflowContext, workflow


def charge_card(order: dict[str, Any], *, amount: int) -> str:
    return "charged"


@workflow(name="bad")
async def bad(ctx: WorkflowContext, order: dict[str, Any]) -> int:
    await ctx.step.run("wrong-type", charge_card, order, amount="ten")
    await ctx.step.run("missing-argument", charge_card)
    charge: int = await ctx.step.run("wrong-result", charge_card, order, amount=1)
    return charge
"""


def test_mypy_strict__accepts_correct_use_and_reports_misuse(tmp_path: Path) -> None:
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache")]
    checked = subprocess.run(
        [*command, str(HERE / "typing_example.py"), str(misuse)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert all(line.startswith(str(misuse)) for line in errors), checked.stdout
    lines = {int(line.split(":")[1]) for line in errors}
    assert lines == {13, 14, 15}, checked.stdout
    assert (
        'Argument "amount" to "run" of "StepContext" has incompatible type "str"' in checked.stdout
    )
    assert 'No overload variant of "run" of "StepContext"' in checked.stdout
