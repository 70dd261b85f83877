"""The SDK's gRPC channels: options shared by the Client and the Worker, and the wait
between two attempts to reach a server that is down."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc

# gRPC's own reconnect backoff (1 s growing to 120 s) would leave a worker or a waiting
# client disconnected up to two minutes after a long outage. These match the SDK's retry
# delays (0.1 s growing to 10 s, _retry.Backoff): a connection is tried again at least
# every 10 s (± gRPC's 20 % jitter) while the server is down.
RECONNECT_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 10_000),
]


async def pause_before_retry(
    channel: grpc.aio.Channel | None, delay: float, interrupt: asyncio.Event
) -> None:
    """Wait `delay` seconds before trying a call again, or until `interrupt` is set.

    While the channel's connection attempts fail (the server is down), the wait also ends
    as soon as it is connected again: the server is back, and a retry then is not blind.
    Otherwise (the server answered with an error, or closed the connection) the whole
    delay is waited, so a server that keeps refusing is never called in a loop.
    """
    waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(interrupt.wait())}
    failing = grpc.ChannelConnectivity.TRANSIENT_FAILURE
    if channel is not None and channel.get_state() is failing:
        waits.add(asyncio.ensure_future(channel.channel_ready()))
    try:
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        for waiting in waits:
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
