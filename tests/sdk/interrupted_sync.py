"""`python -m tests.sdk.interrupted_sync ADDRESS NAMESPACE RUN_ID`: a SyncClient's
`result()` interrupted by a signal handler's exception, then the number of tasks still
running on the client's private loop printed (0 when the wait was stopped too)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from types import FrameType

from stepline import SyncClient


class Interrupted(Exception):
    pass


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


async def _others() -> int:
    return len(asyncio.all_tasks()) - 1  # not counting this one


def main() -> None:
    address, namespace, run_id = sys.argv[1:4]
    signal.signal(signal.SIGALRM, _interrupt)
    with SyncClient(address, namespace=namespace) as client:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with contextlib.suppress(Interrupted):
            client.result(run_id)
        time.sleep(0.2)  # room for a cancelled wait to unwind
        loop = client._loop  # the private loop is what this check is about
        print(asyncio.run_coroutine_threadsafe(_others(), loop).result())


if __name__ == "__main__":
    main()
