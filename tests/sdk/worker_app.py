"""A worker process for the process-level tests:
`python -m tests.sdk.worker_app ADDRESS NAMESPACE GRACE_SECONDS`. Logs go to stderr."""

from __future__ import annotations

import asyncio
import logging
import sys

from stepline import Worker
from tests.sdk.apps import WORKFLOWS


def main() -> None:
    address, namespace, grace = sys.argv[1], sys.argv[2], float(sys.argv[3])
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(name)s %(levelname)s %(message)s"
    )
    worker = Worker(
        address,
        namespace=namespace,
        workflows=WORKFLOWS,
        concurrency=4,
        shutdown_grace=grace,
        poll_wait=5.0,
        step_begin_after=0.0,
    )
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
