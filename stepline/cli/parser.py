"""The `stepline` command line: global flags, `runs …`, `workflows …`, `workers …`,
`schedules …` and `worker`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from stepline import RunStatus, logs
from stepline.cli import schedules, values

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_NAMESPACE = "default"


def run_status(text: str) -> RunStatus:
    try:
        return RunStatus[text.strip().upper()]
    except KeyError:
        names = ", ".join(status.name.lower() for status in RunStatus)
        raise argparse.ArgumentTypeError(f"not a run status ({names}): {text!r}") from None


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepline",
        description="Start, inspect, cancel and replay workflow runs; run workers.",
    )
    _add_global_flags(parser, with_defaults=True)
    # The global flags work after the command too (`stepline runs list --output json`).
    anywhere = argparse.ArgumentParser(add_help=False)
    _add_global_flags(anywhere, with_defaults=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_runs(commands.add_parser("runs", help="start, inspect, cancel and replay runs"), anywhere)
    _add_events(commands.add_parser("events", help="send events and read them"), anywhere)
    _add_workflows(
        commands.add_parser("workflows", help="list, inspect, pause and resume workflows"),
        anywhere,
    )
    _add_workers(commands.add_parser("workers", help="list the workers that registered"), anywhere)
    schedules.add_parser(
        commands.add_parser("schedules", help="create and manage schedules that start runs"),
        anywhere,
    )
    worker = commands.add_parser("worker", parents=[anywhere], help="run a worker from your module")
    _add_worker(worker)
    _add_namespaces(
        commands.add_parser("namespaces", help="create, show and change namespaces"), anywhere
    )
    _add_keys(commands.add_parser("keys", help="create, list and revoke API keys"), anywhere)
    return parser


def _add_namespaces(command: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("create", "create a namespace (an operator key)"),
        ("update", "change a namespace's description or retention"),
    ):
        action = actions.add_parser(name, parents=[anywhere], help=text)
        action.add_argument("name", metavar="NAMESPACE")
        action.add_argument("--description", default=None, help="free text for people")
        action.add_argument(
            "--retention",
            metavar="DURATION",
            type=values.duration,
            default=None,
            help="how long finished runs are kept (30d, 12h); 0 keeps them forever",
        )
    actions.add_parser("get", parents=[anywhere], help="show a namespace").add_argument(
        "name", metavar="NAMESPACE"
    )
    actions.add_parser("list", parents=[anywhere], help="list every namespace (an operator key)")


def _add_keys(command: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[anywhere], help="create a key in --namespace ('*': an operator key)"
    )
    create.add_argument("--role", required=True, choices=("reader", "client", "worker", "admin"))
    create.add_argument("--name", required=True, help="a name for people, e.g. billing-workers")
    actions.add_parser("list", parents=[anywhere], help="list the keys of --namespace")
    revoke = actions.add_parser("revoke", parents=[anywhere], help="revoke a key of --namespace")
    revoke.add_argument("key_id", metavar="KEY_ID")


def _add_global_flags(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    def default(value: str) -> str:
        return value if with_defaults else argparse.SUPPRESS

    parser.add_argument(
        "--address",
        default=default(os.environ.get("STEPLINE_ADDRESS", DEFAULT_ADDRESS)),
        help=f"the server's gRPC host:port (env STEPLINE_ADDRESS; default {DEFAULT_ADDRESS})",
    )
    parser.add_argument(
        "--namespace",
        default=default(os.environ.get("STEPLINE_NAMESPACE", DEFAULT_NAMESPACE)),
        help=f"the runs' namespace (env STEPLINE_NAMESPACE; default {DEFAULT_NAMESPACE})",
    )
    _add_credential_flags(parser, default)
    parser.add_argument(
        "--output",
        choices=("table", "json"),
        default=default("table"),
        help="tables for people, proto3 JSON for scripts (default table)",
    )


def _add_workflows(workflows: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = workflows.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[anywhere], help="the workflows the server knows")
    for name, text in (
        ("get", "versions, workers online and run counts of one workflow"),
        ("pause", "claim no run of the workflow until it is resumed (starts still work)"),
        ("resume", "claim the workflow's runs again"),
    ):
        command = actions.add_parser(name, parents=[anywhere], help=text)
        command.add_argument("workflow", metavar="WORKFLOW")
        if name == "pause":
            command.add_argument("--reason", default="", help="shown by `workflows get`")


def _add_workers(workers: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = workers.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[anywhere], help="workers, online and gone")
    listing.add_argument("--task-queue", default="", help="only workers of this queue")


def _add_credential_flags(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(os.environ.get("STEPLINE_API_KEY", "")),
        help="sent as `authorization: Bearer KEY` (env STEPLINE_API_KEY, which keeps the key "
        "out of the process list)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=default(False),
        help="TLS to the server, trusting the system's CAs (implied by the --tls-* flags)",
    )
    for flag, env, text in (
        ("--tls-ca", "STEPLINE_TLS_CA", "PEM file of the CAs that sign the server's certificate"),
        ("--tls-cert", "STEPLINE_TLS_CERT", "PEM file of this client's certificate (mTLS)"),
        ("--tls-key", "STEPLINE_TLS_KEY", "PEM file of the client certificate's key"),
        (
            "--tls-server-name",
            "STEPLINE_TLS_SERVER_NAME",
            "the name to check the server's certificate for, if not the address's host",
        ),
    ):
        parser.add_argument(
            flag,
            metavar="NAME" if flag == "--tls-server-name" else "PEM",
            default=default(os.environ.get(env, "")),
            help=f"{text} (env {env})",
        )


def _add_runs(runs: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=[anywhere], help=text)

    _add_start(action("start", "start a run of a workflow"))
    action("get", "show one run").add_argument("run_id", metavar="RUN_ID")
    _add_list(action("list", "list runs, oldest first"))
    cancel = action("cancel", "cancel a pending, running or sleeping run")
    cancel.add_argument("run_id", metavar="RUN_ID")
    cancel.add_argument("--reason", default="", help="recorded with the cancellation")
    action("steps", "list a run's step attempts").add_argument("run_id", metavar="RUN_ID")
    _add_signal(action("signal", "send a signal to a run (a wait_for_signal takes it)"))
    _add_replay(action("replay", "replay an ended run as a new run, from a step or the start"))
    cancels = action("batch-cancel", "cancel every run matching filters, a page at a time")
    _add_batch(cancels, "cancel")
    cancels.add_argument("--reason", default="", help="recorded with each cancellation")
    replays = action("batch-replay", "replay every ended run matching filters, a page at a time")
    _add_batch(replays, "replay")
    replays.add_argument(
        "--from-step",
        metavar="STEP",
        default="",
        help="replay each run from this step (runs that never reached it are skipped); "
        "default: from the start",
    )
    replays.add_argument(
        "--batch-id",
        metavar="ID",
        default="",
        help="name the batch, to resume it (with --page-token) without replaying a run twice",
    )


def _add_signal(signal: argparse.ArgumentParser) -> None:
    signal.add_argument("run_id", metavar="RUN_ID")
    signal.add_argument("signal_name", metavar="NAME")
    signal.add_argument(
        "--payload",
        metavar="JSON",
        type=values.json_value,
        default=None,
        help="what the signal carries (JSON, @file or -); default null",
    )
    signal.add_argument(
        "--idempotency-key", metavar="KEY", default="", help="a second signal returns the first"
    )


def _add_events(events: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = events.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=[anywhere], help=text)

    send = action("send", "send an event: the runs waiting for it resume")
    send.add_argument("event_name", metavar="NAME")
    send.add_argument(
        "--data",
        metavar="JSON",
        type=values.json_object,
        default=None,
        help="the event's data, a JSON object (JSON, @file or -); default {}",
    )
    send.add_argument(
        "--idempotency-key", metavar="KEY", default="", help="a second event returns the first"
    )
    action("get", "show one event").add_argument("event_id", metavar="EVENT_ID")
    listing = action("list", "list events, oldest first")
    listing.add_argument("--name", default="", help="only events of this name")
    listing.add_argument(
        "--limit", type=values.positive_int, default=50, help="at most this many (default 50)"
    )
    action("runs", "list the runs an event resumed or started").add_argument(
        "event_id", metavar="EVENT_ID"
    )


def _add_replay(replay: argparse.ArgumentParser) -> None:
    replay.add_argument("run_id", metavar="RUN_ID", help="a COMPLETED, FAILED or CANCELED run")
    replay.add_argument(
        "--from-step",
        metavar="STEP",
        default="",
        help="the first step to run again; the steps completed before it are copied "
        "(default: start over)",
    )
    replay.add_argument(
        "--input",
        metavar="JSON",
        type=values.json_value,
        default=argparse.SUPPRESS,
        help="a new input (JSON, @file or -); default: the original's",
    )
    replay.add_argument(
        "--idempotency-key", metavar="KEY", default="", help="a second replay returns the first"
    )
    replay.add_argument(
        "--wait",
        action="store_true",
        help="wait for the new run to end and print it (exit 1 if it failed or was canceled)",
    )


def _add_batch(batch: argparse.ArgumentParser, verb: str) -> None:
    """The list filters, and how the batch goes."""
    batch.add_argument(
        "--status",
        dest="statuses",
        metavar="STATUS",
        type=run_status,
        nargs="+",
        action="extend",
        default=[],
        help="only runs in these statuses (repeatable)",
    )
    batch.add_argument("--workflow", metavar="NAME", default="", help="only runs of this workflow")
    batch.add_argument("--task-queue", metavar="QUEUE", default="", help="only runs on this queue")
    for edge, meaning in (("after", "at or after"), ("before", "before")):
        batch.add_argument(
            f"--created-{edge}",
            metavar="TIME",
            type=values.point_in_past,
            default=None,
            help=f"only runs created {meaning}: RFC 3339 time or a duration ago (1h)",
        )
    batch.add_argument(
        "--replay-of", metavar="RUN_ID", default="", help="only the replays of this run"
    )
    batch.add_argument(
        "--dry-run", action="store_true", help=f"count the runs it would {verb}; change nothing"
    )
    batch.add_argument(
        "--yes", "-y", action="store_true", help=f"{verb} without asking for confirmation"
    )
    batch.add_argument(
        "--page-size",
        metavar="N",
        type=values.positive_int,
        default=500,
        help="runs per request, each one transaction (at most 1000; default %(default)s)",
    )
    batch.add_argument(
        "--page-token",
        metavar="TOKEN",
        default="",
        help="resume a batch that was cut short, from the token it printed",
    )


def _add_start(start: argparse.ArgumentParser) -> None:
    start.add_argument("workflow", metavar="WORKFLOW", help="the workflow's name")
    start.add_argument(
        "--input",
        metavar="JSON",
        type=values.json_value,
        default=None,
        help="JSON, @file with JSON, or - to read stdin",
    )
    start.add_argument("--version", default="", help="the workflow version to run")
    start.add_argument(
        "--task-queue", metavar="QUEUE", default="default", help="default %(default)s"
    )
    start.add_argument(
        "--idempotency-key", metavar="KEY", default="", help="a second start returns the first run"
    )
    start.add_argument(
        "--context", metavar="JSON", type=values.json_object, default=None, help="a JSON object"
    )
    start.add_argument(
        "--priority",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        default=0,
        help="1 is claimed first, 5 last; default 3",
    )
    start.add_argument(
        "--concurrency-key", metavar="KEY", default="", help="groups runs (a customer ID)"
    )
    start.add_argument(
        "--deadline",
        metavar="TIME",
        type=values.point_in_time,
        default=None,
        help="RFC 3339 time or a duration from now (10m); the run fails after it",
    )
    start.add_argument(
        "--start-at",
        metavar="TIME",
        type=values.point_in_time,
        default=None,
        help="RFC 3339 time or a duration from now; the run waits until then",
    )
    start.add_argument(
        "--wait",
        action="store_true",
        help="wait for the run to end and print its result (exit 1 if it failed or was canceled)",
    )


def _add_list(listing: argparse.ArgumentParser) -> None:
    listing.add_argument(
        "--status",
        dest="statuses",
        metavar="STATUS",
        type=run_status,
        nargs="+",
        action="extend",
        default=[],
        help="only runs in these statuses (repeatable)",
    )
    listing.add_argument(
        "--workflow", metavar="NAME", default="", help="only runs of this workflow"
    )
    listing.add_argument(
        "--task-queue", metavar="QUEUE", default="", help="only runs on this queue"
    )
    listing.add_argument(
        "--since",
        metavar="TIME",
        type=values.point_in_past,
        default=None,
        help="only runs created since: RFC 3339 time or a duration ago (1h)",
    )
    listing.add_argument(
        "--limit",
        metavar="N",
        type=values.non_negative_int,
        default=50,
        help="at most this many runs, 0 for all (default %(default)s)",
    )
    listing.add_argument(
        "--page-size", metavar="N", type=values.positive_int, default=100, help="runs per request"
    )


def _add_worker(worker: argparse.ArgumentParser) -> None:
    worker.add_argument(
        "--app",
        required=True,
        metavar="MODULE:ATTR",
        help="a Worker, a workflow, or a list of workflows, e.g. myapp.flows:workflows",
    )
    worker.add_argument(
        "--task-queue", metavar="QUEUE", default=None, help="the queue to poll (default 'default')"
    )
    worker.add_argument(
        "--concurrency",
        metavar="N",
        type=values.positive_int,
        default=None,
        help="run slots (default 100)",
    )
    worker.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default="INFO",
        help="the worker's log level (default %(default)s)",
    )
    worker.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default="text",
        help="text lines, or JSON lines for a log collector; both carry the run and step ids",
    )
