"""`stepline worker` log lines carry the run's and the step's ids, as text or JSON lines."""

from __future__ import annotations

import json
from typing import Any

from tests.cli import processes
from tests.cli.runner import Cli
from tests.cli.test_runs import fresh_queue

APP = "tests.cli.apps:workflows"
STEP_FAILED = "step failed with NonRetryableError: step boom: x"


def _failed_step_log(cli: Cli, *flags: str) -> tuple[str, list[str]]:
    """Run cli.step_boom on a worker of its own logging at INFO; (run id, the log lines)."""
    queue = fresh_queue()
    with processes.worker(
        cli.address, APP, "--task-queue", queue, "--log-level", "INFO", *flags
    ) as worker:
        result = cli(
            *("--output", "json", "runs", "start", "cli.step_boom"),
            *("--task-queue", queue, "--input", '"x"', "--wait"),
        )
        processes.stop(worker)
        assert worker.stderr is not None
        log = worker.stderr.read()
    assert result.code == 1, result
    return result.json()["runId"], log.splitlines()


def test_text_log__lines_of_a_run_end_with_its_ids(cli: Cli) -> None:
    run_id, lines = _failed_step_log(cli)
    ids = f"run_id={run_id} workflow=cli.step_boom attempt=1"
    [failed] = [line for line in lines if STEP_FAILED in line]
    assert failed.endswith(f"{STEP_FAILED} {ids} step_id=explode"), failed
    [user] = [line for line in lines if "about to explode" in line]
    assert user.endswith(f"INFO stepline.workflow: about to explode {ids}"), user
    serving = [line for line in lines if " serving " in line]  # the worker's start line
    assert serving and "run_id=" not in serving[0]


def test_json_log__records_carry_the_ids_as_keys(cli: Cli) -> None:
    run_id, lines = _failed_step_log(cli, "--log-format", "json")
    # Besides the records, only the worker's own start and stop notices (plain text).
    records: list[dict[str, Any]] = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len(lines) - 1, lines  # the "stopped" notice
    [failed] = [record for record in records if record["message"] == STEP_FAILED]
    assert failed["level"] == "WARNING" and failed["logger"].startswith("stepline")
    assert (failed["run_id"], failed["workflow"], failed["attempt"]) == (
        run_id,
        "cli.step_boom",
        1,
    )
    assert failed["step_id"] == "explode"
    assert all("T" in record["time"] for record in records)
    [user] = [record for record in records if record["message"] == "about to explode"]
    assert user["run_id"] == run_id and "step_id" not in user
