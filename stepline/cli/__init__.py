"""The `stepline` command: `stepline runs start|get|list|cancel|steps|replay|signal|
batch-cancel|batch-replay`, `stepline events send|get|list|runs`, `stepline schedules
create|get|list|delete|pause|resume|trigger`, `stepline worker`,
`stepline namespaces create|get|list|update` and `stepline keys create|list|revoke`.

Exit codes: 0 success; 1 an error (one line on stderr, never a traceback), a run waited
for with `runs start|replay --wait` that FAILED or was CANCELED, or a batch the user did
not confirm; 2 a usage error (an OTEL_* variable asking for what stepline cannot do
included).

Tracing is set up from the OTEL_* variables (`stepline.tracing`), as service
"stepline-worker" for `stepline worker` and "stepline-cli" otherwise; spans are flushed
before the command exits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from stepline import (
    Client,
    EventNotFound,
    IdempotencyConflict,
    NotSerializableError,
    RunAlreadyTerminal,
    RunNotFound,
    RunNotTerminal,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    ServerUnavailable,
    SteplineError,
    StepNotFound,
    WorkflowNotFound,
    tracing,
)
from stepline.cli import admin, events, registry, runs, schedules, worker
from stepline.cli import parser as cli_parser
from stepline.cli.connect import connection_options
from stepline.cli.errors import UsageError


def main(argv: Sequence[str] | None = None) -> None:
    parser = cli_parser.build()
    execute(parser, parser.parse_args(argv))


def execute(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Carry out the parsed command and exit; every error is one line on stderr."""
    traced = _configure_tracing(parser, args)
    try:
        code = asyncio.run(_dispatch(args))
    except UsageError as exc:
        parser.exit(2, f"stepline: {exc}\n")
    except NotSerializableError as exc:
        # The values parse to JSON the payloads can carry; this is a second line of defence.
        parser.exit(2, f"stepline: {' '.join(str(exc).split())}\n")
    except SteplineError as exc:
        parser.exit(1, f"stepline: {_describe(exc, args)}\n")
    except admin.AdminError as exc:
        parser.exit(1, f"stepline: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, "stepline: interrupted\n")
    finally:
        if traced:
            tracing.shutdown()  # flush the spans before the process ends
    sys.exit(code)


def _configure_tracing(parser: argparse.ArgumentParser, args: argparse.Namespace) -> bool:
    """Whether this command set up tracing (so must flush it at the end)."""
    service = "stepline-worker" if args.command == "worker" else "stepline-cli"
    try:
        return tracing.configure_from_env(service)
    except tracing.TracingConfigError as exc:
        parser.exit(2, f"stepline: {exc}\n")


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "worker":
        return await worker.run(args)
    if args.command in ("namespaces", "keys"):
        return await admin.run(args)
    # One span for the command, so that the calls of `runs start --wait` make one trace
    # (the run's own spans join it too), not a root trace each.
    actions = {
        "runs": runs.ACTIONS,
        "events": events.ACTIONS,
        "workflows": registry.WORKFLOW_ACTIONS,
        "workers": registry.WORKER_ACTIONS,
        "schedules": schedules.ACTIONS,
    }[args.command]
    with tracing.tracer().start_as_current_span(f"stepline {args.command} {args.action}"):
        options = connection_options(args)
        async with Client(args.address, namespace=args.namespace, **options) as client:
            return await actions[args.action](client, args)


def _unreachable_hint(error: SteplineError) -> str:
    """What to check: TLS failures look like a server that is down, but say so in detail."""
    detail = error.message.lower()
    if "handshake" in detail or "certificate" in detail:
        return "the TLS handshake failed: check --tls-ca, --tls-cert and --tls-key"
    if "socket closed" in detail:
        return "is it running? it may want TLS (--tls-ca) or a client certificate (--tls-cert)"
    return "is it running?"


def _describe(error: SteplineError, args: argparse.Namespace) -> str:
    """One line a person can act on."""
    if isinstance(error, ServerUnavailable) and error.reason == "STORAGE_UNAVAILABLE":
        return f"the server at {args.address} cannot reach its database: {error.message}"
    if isinstance(error, ServerUnavailable):
        return f"cannot reach the stepline server at {args.address} ({_unreachable_hint(error)})"
    run_id = getattr(args, "run_id", "")
    if isinstance(error, WorkflowNotFound):
        return f"workflow not found: {getattr(args, 'workflow', '')} (no worker registered it)"
    if isinstance(error, RunNotFound):
        return f"run not found: {run_id}" if run_id else "run not found"
    if isinstance(error, RunAlreadyTerminal) and args.action == "signal":
        return f"run {run_id} has already ended; it takes no more signals"
    if isinstance(error, EventNotFound):
        return f"event not found: {args.event_id}"
    if isinstance(error, RunAlreadyTerminal):
        return f"run {run_id} has already ended; only a running run can be canceled"
    if isinstance(error, RunNotTerminal):
        return f"run {run_id} has not ended; only a COMPLETED, FAILED or CANCELED run replays"
    if isinstance(error, StepNotFound):
        return f"run {run_id} has no step {args.from_step!r}"
    if isinstance(error, IdempotencyConflict) and args.action == "replay":
        return f"idempotency key {args.idempotency_key!r} belongs to another run"
    if isinstance(error, ScheduleNotFound):
        return f"schedule not found: {args.schedule_id}"
    if isinstance(error, ScheduleAlreadyExists):
        return f"a schedule {args.schedule_id!r} exists already in namespace {args.namespace}"
    if isinstance(error, IdempotencyConflict):
        return f"idempotency key {args.idempotency_key!r} belongs to a run of another workflow"
    return " ".join(str(error).split()) or type(error).__name__
