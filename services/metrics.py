"""Prometheus metrics of one server, in a registry of its own (tests run many servers in
one process). Run outcomes, claims, lease expiries and step attempts are reported by
the store once committed (storage.events), so each change is counted exactly once, by
the server whose call or sweep made it; starts and long polls are counted by the
servicers. Queue depth is read from the database when /metrics is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from storage import Store, StoreError
from storage.events import StoreEvents
from storage.records import QueueDepth, RunStatus, SlotsInUse, StepStatus

log = logging.getLogger(__name__)

# From a run due and claimed at once (milliseconds) to a backlog waiting an hour.
CLAIM_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip
# A long poll waits at most 60 s (PollActivity's `wait`).
POLL_WAIT_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
)  # fmt: skip

_FAILED_MEANING = "failed for good (a non-retryable error, retries used up, or the deadline passed)"

_OUTCOMES = {StepStatus.COMPLETED: "completed", StepStatus.FAILED: "failed"}

POLL_GOT_TASK = "task"
POLL_EMPTY = "empty"

M = TypeVar("M", bound=MetricWrapperBase)


class _Children(Generic[M]):
    """A labelled metric's children, cached by label values: `labels()` validates its
    arguments and takes a lock on every call, and these are counted on the hot path."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._cache: dict[tuple[str, ...], M] = {}

    def of(self, *values: str) -> M:
        child = self._cache.get(values)
        if child is None:
            child = self._cache[values] = self._metric.labels(*values)
        return child


class _QueueDepth(Collector):
    """stepline_queue_depth, from the last reading of the database (taken per scrape)."""

    def __init__(self) -> None:
        self.depths: list[QueueDepth] = []

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "stepline_queue_depth",
            "Runs per task queue in each non-terminal status (PENDING, RUNNING, SLEEPING), "
            "read from the database at scrape time.",
            labels=("namespace", "task_queue", "status"),
        )
        for depth in self.depths:
            family.add_metric(
                (depth.namespace_id, depth.task_queue, depth.status.value), depth.runs
            )
        yield family


class _SlotsInUse(Collector):
    """stepline_concurrency_slots_in_use and stepline_concurrency_limit, from the last
    reading of the database (taken per scrape): workflows with a slot held only."""

    def __init__(self) -> None:
        self.slots: list[SlotsInUse] = []

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "stepline_concurrency_slots_in_use",
            "Concurrency slots held by RUNNING runs of a workflow with limits, read from the "
            "database at scrape time (never above stepline_concurrency_limit).",
            labels=("namespace", "workflow"),
        )
        limit = GaugeMetricFamily(
            "stepline_concurrency_limit",
            "A workflow's max_concurrency (0: no workflow-wide limit), next to its slots.",
            labels=("namespace", "workflow"),
        )
        for slots in self.slots:
            labels = (slots.namespace_id, slots.workflow_name)
            in_use.add_metric(labels, slots.in_use)
            limit.add_metric(labels, slots.max_concurrency)
        yield in_use
        yield limit


class Metrics(StoreEvents):
    """The server's metrics; also the receiver of its store's events."""

    def __init__(self) -> None:
        # No `_created` series beside every counter and histogram: they double the output
        # and dashboards do not use them. (A process-wide switch of prometheus_client.)
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self._runs_started = _Children(self._run_counter("started", "were started (new runs)"))
        self._runs_ended = {
            RunStatus.COMPLETED: _Children(self._run_counter("completed", "completed")),
            RunStatus.FAILED: _Children(self._run_counter("failed", _FAILED_MEANING)),
            RunStatus.CANCELED: _Children(self._run_counter("canceled", "were canceled")),
        }
        self._step_attempts = _Children(
            Counter(
                "stepline_step_attempts",
                "Step attempts a worker closed, by outcome (completed or failed).",
                ("namespace", "outcome"),
                registry=self.registry,
            )
        )
        self._claim_latency = _Children(
            Histogram(
                "stepline_claim_latency_seconds",
                "From the moment a run became claimable (start, retry or wake-up time, "
                "or its previous lease's expiry) to its claim, by the database clock.",
                ("namespace", "task_queue"),
                registry=self.registry,
                buckets=CLAIM_LATENCY_BUCKETS,
            )
        )
        self._lease_expiries = _Children(
            Counter(
                "stepline_lease_expiries",
                "Runs taken back from a worker whose lease had expired (a crashed or "
                "stalled worker), counted when a claim takes them.",
                ("namespace", "workflow"),
                registry=self.registry,
            )
        )
        self._runs_poisoned = _Children(
            self._run_counter(
                "poisoned",
                "failed with WORKER_CRASHED: their leases expired max_crashes times in a "
                "row with no step completed (poison runs; counted with the failed too)",
            )
        )
        self._runs_poison_paused = _Children(
            self._run_counter(
                "poison_paused",
                "were put back to PENDING with their workflow paused: poison runs of a "
                "definition registered with on_poison=pause",
            )
        )
        poll_wait = Histogram(
            "stepline_long_poll_wait_seconds",
            "How long PollActivity calls waited before answering, by outcome (task: "
            "returned runs; empty: its wait ran out or the server is shutting down).",
            ("outcome",),
            registry=self.registry,
            buckets=POLL_WAIT_BUCKETS,
        )
        self.poll_got_task = poll_wait.labels(POLL_GOT_TASK)
        self.poll_empty = poll_wait.labels(POLL_EMPTY)
        self.open_long_polls = Gauge(
            "stepline_open_long_polls",
            "PollActivity calls in progress on this server.",
            registry=self.registry,
        )
        self.open_worker_streams = Gauge(
            "stepline_open_worker_streams",
            "Worker streams (WorkStream calls) open on this server.",
            registry=self.registry,
        )
        self._queue_depth = _QueueDepth()
        self.registry.register(self._queue_depth)
        self._slots = _SlotsInUse()
        self.registry.register(self._slots)
        self._schedule_fires = _Children(
            Counter(
                "stepline_schedule_fires",
                "Schedule fires on this server, by outcome: started (a run), skipped (the "
                "overlap policy), buffered (BUFFER_ONE kept it), missed (older than the "
                "catch-up window), triggered (TriggerSchedule), buffered_started.",
                ("namespace", "outcome"),
                registry=self.registry,
            )
        )
        self._schedule_lag = _Children(
            Histogram(
                "stepline_schedule_fire_lag_seconds",
                "From a fire's time to the commit of the run it started, by the "
                "database clock of the loop that fired it.",
                ("namespace",),
                registry=self.registry,
                buckets=CLAIM_LATENCY_BUCKETS,
            )
        )

        self._runs_deleted = _Children(
            Counter(
                "stepline_runs_deleted",
                "Ended workflow runs deleted by retention on this server (older than "
                "their namespace's retention), with their steps, signals and waits.",
                ("namespace",),
                registry=self.registry,
            )
        )

    def _run_counter(self, event: str, meaning: str) -> Counter:
        return Counter(
            f"stepline_runs_{event}",
            f"Workflow runs that {meaning} on this server, by workflow.",
            ("namespace", "workflow"),
            registry=self.registry,
        )

    # --- counted by the servicers ---------------------------------------------------------

    def run_started(self, namespace_id: str, workflow_name: str) -> None:
        self._runs_started.of(namespace_id, workflow_name).inc()

    def schedule_fired(self, namespace_id: str, outcome: str, count: int = 1) -> None:
        self._schedule_fires.of(namespace_id, outcome).inc(count)

    def schedule_lag(self, namespace_id: str, seconds: float) -> None:
        self._schedule_lag.of(namespace_id).observe(seconds)

    def runs_deleted(self, namespace_id: str, count: int) -> None:
        self._runs_deleted.of(namespace_id).inc(count)

    # --- reported by the store (storage.events) -------------------------------------------

    def run_ended(self, namespace_id: str, workflow_name: str, status: RunStatus) -> None:
        self._runs_ended[status].of(namespace_id, workflow_name).inc()

    def run_replayed(self, namespace_id: str, workflow_name: str) -> None:
        # A replay is a new run: counted with the runs started.
        self.run_started(namespace_id, workflow_name)

    def run_claimed(self, namespace_id: str, task_queue: str, waited: float) -> None:
        self._claim_latency.of(namespace_id, task_queue).observe(waited)

    def lease_expired(self, namespace_id: str, workflow_name: str) -> None:
        self._lease_expiries.of(namespace_id, workflow_name).inc()

    def step_ended(self, namespace_id: str, status: StepStatus) -> None:
        self._step_attempts.of(namespace_id, _OUTCOMES[status]).inc()

    def run_poisoned(self, namespace_id: str, workflow_name: str) -> None:
        self._runs_poisoned.of(namespace_id, workflow_name).inc()

    def run_poison_paused(self, namespace_id: str, workflow_name: str) -> None:
        self._runs_poison_paused.of(namespace_id, workflow_name).inc()

    # --- the scrape -----------------------------------------------------------------------

    async def render(self, store: Store) -> bytes:
        """The text exposition, queue depth and slots in use read from `store` first.
        While the database does not answer, they have no samples rather than stale ones."""
        try:
            self._queue_depth.depths = await store.run_count_by_queue()
            self._slots.slots = await store.slots_in_use()
        except StoreError as exc:
            log.warning("metrics: queue depth unavailable: %s", exc)
            self._queue_depth.depths = []
            self._slots.slots = []
        return generate_latest(self.registry)
