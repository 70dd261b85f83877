"""`stepline worker --app module:attr`: run a worker from the user's own module.

The attribute may be a `Worker` (run as it is), one workflow, or a list of workflows
(run by a worker built from `--address`, `--task-queue`, `--concurrency` and the
connection flags `--api-key` and `--tls*`). The
current directory goes first on `sys.path`, as uvicorn does, so `--app myapp:flows`
finds `./myapp.py`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from stepline import Worker, Workflow, logs
from stepline.cli.connect import connection_options
from stepline.cli.errors import UsageError

DEFAULT_TASK_QUEUE = "default"
DEFAULT_CONCURRENCY = 100


def load_app(spec: str) -> Any:
    """The object named by `module:attr` (attr may be dotted)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--app must look like module:attr, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise UsageError(f"--app: no module named {module_name!r}") from None
        raise
    for part in attr.split("."):
        if not hasattr(value, part):
            raise UsageError(f"--app: module {module_name!r} has no attribute {attr!r}")
        value = getattr(value, part)
    return value


def build_worker(app: Any, args: argparse.Namespace) -> Worker:
    if isinstance(app, Worker):
        if args.task_queue is not None or args.concurrency is not None:
            raise UsageError("--app names a Worker: set its task queue and concurrency there")
        return app
    workflows = _items(app)
    if not workflows or not all(isinstance(item, Workflow) for item in workflows):
        raise UsageError(f"--app {args.app} must be a Worker, a workflow, or a list of workflows")
    return Worker(
        args.address,
        namespace=args.namespace,
        task_queue=args.task_queue or DEFAULT_TASK_QUEUE,
        workflows=workflows,
        concurrency=args.concurrency or DEFAULT_CONCURRENCY,
        **connection_options(args),
    )


async def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT; the Worker drains in-flight runs on the way out."""
    app = load_app(args.app)
    worker = build_worker(app, args)
    logs.configure(args.log_level.upper(), args.log_format)
    names = ", ".join(str(item.name) for item in _items(app) if isinstance(item, Workflow))
    print(f"stepline worker: running {names or args.app}; Ctrl-C to stop", file=sys.stderr)
    await worker.run()
    print("stepline worker: stopped", file=sys.stderr)
    return 0


def _items(app: Any) -> list[Any]:
    return list(app) if isinstance(app, list | tuple) else [app]
