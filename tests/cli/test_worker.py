"""`stepline worker --app …` and `stepline runs start --wait`, through real processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from stepline import Client, Run
from stepline.cli import parser
from stepline.cli import worker as worker_command
from tests.cli import processes
from tests.cli.runner import Cli
from tests.cli.test_runs import fresh_queue

APP = "tests.cli.apps:workflows"


@pytest.fixture(scope="module")
def queue(address: str) -> Iterator[str]:
    """A worker process serving tests.cli.apps on a queue of its own."""
    name = fresh_queue()
    with processes.worker(address, APP, "--task-queue", name):
        yield name


def test_start_wait__completed_run_prints_its_output_and_exits_0(cli: Cli, queue: str) -> None:
    result = cli(
        "--output",
        "json",
        "runs",
        "start",
        "cli.echo",
        "--task-queue",
        queue,
        "--input",
        '{"x": 1}',
        "--wait",
    )
    assert result.code == 0, result
    run = result.json()
    assert run["status"] == "WORKFLOW_RUN_STATUS_COMPLETED" and run["output"] == {"x": 1}


def test_start_wait__one_backing_off_wait_not_a_poll_a_second(
    cli: Cli, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    get = Client.get

    async def counted_get(client: Client, run_id: str) -> Run:  # passes every call through
        nonlocal calls
        calls += 1
        return await get(client, run_id)

    monkeypatch.setattr(Client, "get", counted_get)
    result = cli(
        *("--output", "json", "runs", "start", "cli.slow"),
        *("--task-queue", queue, "--input", "4", "--wait"),
    )
    assert result.code == 0 and result.json()["output"] == "rested", result
    # Restarting a 1 s wait every second polls some 8 times a second (30 or more over the
    # 4 s run); one wait backs off towards a call every 2 s, a dozen calls or so in all.
    assert 1 <= calls <= 20, calls


def test_start_wait__failed_run_shows_the_error_and_exits_1(cli: Cli, queue: str) -> None:
    result = cli("runs", "start", "cli.boom", "--task-queue", queue, "--input", '"bad"', "--wait")
    assert result.code == 1
    assert "FAILED" in result.out and "NonRetryableError: boom: bad" in result.out
    assert result.err == ""


def test_start_wait__unclaimed_run_is_noticed_on_stderr_then_canceled_exits_1(cli: Cli) -> None:
    queue = fresh_queue()  # no worker: the run stays PENDING until canceled
    waiting = processes.spawn_cli(
        *("--address", cli.address, "--output", "json", "runs", "start", "cli.echo"),
        *("--task-queue", queue, "--wait"),
    )
    try:
        run_id = _first_run_on(cli, queue)
        assert waiting.stderr is not None
        notice = waiting.stderr.readline()  # after a few seconds, and it keeps waiting
        assert waiting.poll() is None
        cli.ok("runs", "cancel", run_id)
        out, err = waiting.communicate(timeout=30)
    finally:
        processes.stop(waiting)
    assert notice == (
        f"stepline: no worker has claimed run {run_id} yet: it waits on task queue "
        f"'{queue}' of namespace 'default' for a worker serving 'cli.echo' (still waiting; "
        "Ctrl-C stops waiting, the run stays)\n"
    )
    assert waiting.returncode == 1, err
    assert json.loads(out)["status"] == "WORKFLOW_RUN_STATUS_CANCELED"


def test_worker__sigterm_lets_the_running_run_finish_then_exits_0(cli: Cli) -> None:
    queue = fresh_queue()
    with processes.worker(cli.address, APP, "--task-queue", queue) as worker:
        run_id = cli.start("cli.slow", "--task-queue", queue, "--input", "1")["runId"]
        _await_status(cli, run_id, "WORKFLOW_RUN_STATUS_RUNNING")
        code = processes.stop(worker)
        assert worker.stderr is not None
        log = worker.stderr.read()
    assert code == 0, log
    assert "stepline worker: stopped" in log and "Traceback" not in log
    run = cli.ok("--output", "json", "runs", "get", run_id).json()
    assert run["status"] == "WORKFLOW_RUN_STATUS_COMPLETED" and run["output"] == "rested"


def test_worker__runs_a_ready_made_worker_as_it_is(cli: Cli) -> None:
    queue = fresh_queue()
    settings = {"STEPLINE_ADDRESS": cli.address, "CLI_TEST_QUEUE": queue}
    with processes.worker(cli.address, "tests.cli.apps:worker", env=settings):
        result = cli(
            "--output",
            "json",
            "runs",
            "start",
            "cli.echo",
            "--task-queue",
            queue,
            "--input",
            "[1]",
            "--wait",
        )
    assert result.code == 0, result
    assert result.json()["output"] == [1]


def test_worker__queue_flag_with_a_ready_made_worker_is_a_usage_error(cli: Cli) -> None:
    result = cli("worker", "--app", "tests.cli.apps:worker", "--task-queue", "other")
    assert result.code == 2
    assert result.err == (
        "stepline: --app names a Worker: set its task queue and concurrency there\n"
    )


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ("tests.cli.apps", "--app must look like module:attr, not 'tests.cli.apps'"),
        ("no_such_module:flows", "--app: no module named 'no_such_module'"),
        ("tests.cli.apps:nothing", "--app: module 'tests.cli.apps' has no attribute 'nothing'"),
        (
            "tests.cli.apps:not_a_workflow",
            "--app tests.cli.apps:not_a_workflow must be a Worker, a workflow, "
            "or a list of workflows",
        ),
    ],
)
def test_worker__bad_app_is_a_usage_error(cli: Cli, app: str, message: str) -> None:
    result = cli("worker", "--app", app)
    assert (result.code, result.err) == (2, f"stepline: {message}\n")


def _first_run_on(cli: Cli, queue: str) -> str:
    for _ in range(100):
        runs = cli.ok("--output", "json", "runs", "list", "--task-queue", queue).json()
        if runs:
            return str(runs[0]["runId"])
        time.sleep(0.1)
    raise AssertionError(f"no run appeared on {queue}")


def _await_status(cli: Cli, run_id: str, status: str) -> None:
    for _ in range(100):
        if cli.ok("--output", "json", "runs", "get", run_id).json()["status"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never became {status}")


def test_worker__one_workflow_runs_under_the_flags() -> None:
    flags = ["--task-queue", "q", "--concurrency", "3", "--namespace", "ns"]
    args = parser.build().parse_args(
        ["--address", "127.0.0.1:7", "worker", "--app", "tests.cli.apps:echo", *flags]
    )
    built = worker_command.build_worker(worker_command.load_app(args.app), args)
    assert (built.target, built.task_queue, built.concurrency) == ("127.0.0.1:7", "q", 3)
    assert built.namespace == "ns"
