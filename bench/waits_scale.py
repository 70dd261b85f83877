"""`python -m bench.waits_scale` (`make bench-waits-scale`): what SendEvent costs when many
waits are open, on PostgreSQL. Open EVENT waits of one event name, each matching one
order ID, are written in bulk by SQL (through the API, 100,000 parked runs would take
longer than the benchmark); then a server takes SendEvent calls, one at a time, each
matching one open wait (it resumes one run). Measured with `--small` open waits, then
again after the population grew to `--large`, in the same run: the ratio of the two p50s
is the figure (issue 14: matching stays cheap with 100,000 open waits, by the
(namespace_id, name, match_key) index, storage/matching.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import psycopg

from bench import pg
from bench.options import positive_int, progress
from bench.pickup import Percentiles
from bench.schema import migrate_with_namespace
from bench.server import running_server
from bench.targets import open_target
from stepline import Client

NAMESPACE = "bench"
EVENT_NAME = "order.paid"
QUEUE = "bench-waits-scale"

# Runs parked WAITING on one EVENT step each, waiting for EVENT_NAME with
# {"order_id": "o-<i>"}, for i in [first, last]: the rows RegisterWaits writes.
_PG_WAITS = """
WITH runs AS (
    INSERT INTO stepline_workflow_runs (id, namespace_id, workflow_name, status, task_queue,
        input, retry_initial_interval, retry_backoff_coefficient, retry_maximum_interval,
        retry_maximum_attempts, created_at, updated_at, available_at)
    SELECT gen_random_uuid(), %(ns)s, 'bench.order', 'WAITING', %(queue)s,
        json_build_object('id', 'o-' || i), '1s', 2.0, '100s', 5, now(), now(), NULL
    FROM generate_series(%(first)s::int, %(last)s::int) AS i
    RETURNING id, namespace_id, input
), steps AS (
    INSERT INTO stepline_step_attempts (id, namespace_id, workflow_run_id, step_id, kind,
        status, attempt, worker_id, started_at, wait_name, wait_match)
    SELECT gen_random_uuid(), namespace_id, id, 'payment', 'EVENT', 'RUNNING', 1, 'w',
        now(), %(event)s, json_build_object('order_id', input->>'id')
    FROM runs
    RETURNING id, namespace_id, workflow_run_id, wait_match
)
INSERT INTO stepline_waits (step_attempt_id, namespace_id, workflow_run_id, kind, name,
    match, match_key, since)
SELECT id, namespace_id, workflow_run_id, 'EVENT', %(event)s, wait_match,
    -- storage.matching.match_key's text: compact JSON of the path and the value.
    '["order_id",' || to_json(wait_match->>'order_id')::text || ']',
    now() - interval '1 hour'
FROM steps
"""


@dataclass(frozen=True, slots=True)
class Cost(Percentiles):
    open_waits: int
    samples_ms: tuple[float, ...]


async def _add_waits(url: str, first: int, last: int) -> None:
    """Open waits for orders first..last; the planner's statistics refreshed after."""
    values = {"ns": NAMESPACE, "queue": QUEUE, "event": EVENT_NAME}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(_PG_WAITS, {**values, "first": first, "last": last})
        await conn.commit()
        await conn.execute("ANALYZE stepline_waits")
        await conn.commit()


async def _measure(client: Client, open_waits: int, orders: Sequence[int]) -> Cost:
    """SendEvent, one at a time, for each order (each resumes exactly one run)."""
    samples = []
    for n in orders:
        started = time.perf_counter()
        sent = await client.send_event(EVENT_NAME, {"order_id": f"o-{n}", "amount": n})
        samples.append((time.perf_counter() - started) * 1000)
        if len(sent.resumed_run_ids) != 1:
            raise RuntimeError(f"order o-{n} resumed {len(sent.resumed_run_ids)} runs, not 1")
    return Cost(open_waits, tuple(samples))


async def measure(url: str, small: int, large: int, events: int) -> list[Cost]:
    """Costs with `small`, then `large` open waits (each measure resolves `events` of them:
    the population goes from its figure down to `events` less)."""
    await migrate_with_namespace(url, NAMESPACE)
    await _add_waits(url, 1, small)
    results = []
    async with running_server(url) as server, Client(server.address, namespace=NAMESPACE) as c:
        await _measure(c, small, range(small - events + 1, small + 1))  # warm-up
        await _add_waits(url, small + 1, small + events)
        progress(f"{small} open waits: measuring", "waits-scale")
        results.append(await _measure(c, small, range(small + 1, small + events + 1)))
        progress(f"writing {large - small} more open waits", "waits-scale")
        await _add_waits(url, small + events + 1, large + 2 * events)
        progress(f"{large} open waits: measuring", "waits-scale")
        results.append(await _measure(c, large, range(large + 1, large + events + 1)))
    return results


async def run(argv: Sequence[str], out: TextIO = sys.stdout) -> list[list[Cost]]:
    """Each round in a fresh database: its two costs, and the ratio; then the median
    ratio (the box is shared: one round can meet another job's burst)."""
    parser = argparse.ArgumentParser(prog="python -m bench.waits_scale", description=__doc__)
    parser.add_argument("--small", type=positive_int, default=1_000)
    parser.add_argument("--large", type=positive_int, default=100_000)
    parser.add_argument("--events", type=positive_int, default=200)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    args = parser.parse_args(argv)
    if not args.events <= args.small < args.large:
        parser.error("need --events <= --small < --large")
    rounds = []
    for number in range(1, args.rounds + 1):
        async with open_target("postgres", args.postgres_admin_url) as target:
            costs = await measure(target.database_url, args.small, args.large, args.events)
        rounds.append(costs)
        for cost in costs:
            print(
                f"round {number}: SendEvent with {cost.open_waits:>7,} open waits: "
                f"p50 {cost.p50:6.2f} ms  p99 {cost.p99:6.2f} ms  "
                f"({len(cost.samples_ms)} events)",
                file=out,
            )
    ratios = [large.p50 / small.p50 for small, large in rounds]
    print(
        f"ratio p50 {args.large:,} / {args.small:,} open waits: "
        f"{' '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f})",
        file=out,
    )
    return rounds


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1:]))
