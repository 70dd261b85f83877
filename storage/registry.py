"""The workflow registry's records, and how both backends build them from rows.

Workers register the workflow versions they run (worker_register); the server keeps one
row per workflow, per version and per worker. What a record says about being online is
computed by the database clock: a worker is online while it was seen within
`online_window` (3 lease periods), and a version is served while one of its workers is.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.records import Json, RunStatus, ScheduleCreateParams
from storage.rows import Codec, Row


class PoisonAction(enum.StrEnum):
    """What the claim does with a poison run (its crash limit reached)."""

    FAIL = "FAIL"
    """FAILED with WORKER_CRASHED (the default)."""
    PAUSE = "PAUSE"
    """Its workflow is paused and the run goes back to PENDING."""


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """One workflow version as a worker registers it."""

    workflow_name: str
    version: str
    input_schema: Json | None = None
    triggers: Json = "[]"
    retry_policy: Json | None = None
    max_concurrency: int = 0
    max_concurrency_per_key: int = 0
    priority: int = 0
    """The priority of runs started without one; 0: the server's default."""
    max_crashes: int | None = None
    """The crash limit of the version's runs; None: the server's, 0: no limit."""
    on_poison: PoisonAction = PoisonAction.FAIL


@dataclass(frozen=True, slots=True)
class WorkerRegisterParams:
    namespace_id: str
    worker_id: str
    task_queue: str
    workflows: tuple[WorkflowDefinition, ...]
    online_window: timedelta
    schedules: tuple[ScheduleCreateParams, ...] = ()
    """The schedules of the definitions (@workflow(schedule=...)), kept in the same
    transaction: created when missing, updated when their timing or queue changed."""


@dataclass(frozen=True, slots=True)
class WorkerTouchParams:
    namespace_id: str
    worker_id: str


@dataclass(frozen=True, slots=True)
class WorkerListParams:
    namespace_id: str
    task_queue: str | None
    online_window: timedelta


@dataclass(frozen=True, slots=True)
class WorkerWorkflow:
    workflow_name: str
    version: str


@dataclass(frozen=True, slots=True)
class Worker:
    namespace_id: str
    worker_id: str
    task_queue: str
    workflows: tuple[WorkerWorkflow, ...]
    registered_at: datetime
    last_seen_at: datetime
    active_runs: int
    online: bool


RunCounts = tuple[tuple[RunStatus, int], ...]


@dataclass(frozen=True, slots=True)
class WorkflowVersion:
    version: str
    input_schema: Json | None
    triggers: Json
    retry_policy: Json | None
    max_concurrency: int
    max_concurrency_per_key: int
    max_crashes: int | None
    on_poison: PoisonAction
    registered_at: datetime
    last_seen_at: datetime | None
    """When a worker serving it was last seen; None when no worker serves it any more."""
    workers_online: int
    run_counts: RunCounts
    priority: int = 0
    """The priority of runs started without one; 0: the server's default."""


@dataclass(frozen=True, slots=True)
class Workflow:
    namespace_id: str
    workflow_name: str
    paused: bool
    paused_reason: str
    paused_at: datetime | None
    versions: tuple[WorkflowVersion, ...]
    """Newest first: versions served by a worker online before the others, each group by
    registered_at, latest first. The first is what a run started with no version pins."""
    run_counts: RunCounts
    """By status; GetWorkflow counts every status, ListWorkflows only non-terminal ones."""
    workers_online: int
    max_concurrency: int = 0
    """The limits in force: those of the version registered first most recently."""
    max_concurrency_per_key: int = 0

    @property
    def newest(self) -> WorkflowVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def last_seen_at(self) -> datetime | None:
        seen = [v.last_seen_at for v in self.versions if v.last_seen_at is not None]
        return max(seen, default=None)

    def version(self, version: str) -> WorkflowVersion | None:
        return next((v for v in self.versions if v.version == version), None)


@dataclass(frozen=True, slots=True)
class WorkflowGetParams:
    namespace_id: str
    workflow_name: str
    online_window: timedelta
    with_run_counts: bool = True
    """False for a start, which needs only the versions (their order and schemas)."""


@dataclass(frozen=True, slots=True)
class WorkflowListParams:
    namespace_id: str
    online_window: timedelta


@dataclass(frozen=True, slots=True)
class WorkflowPauseParams:
    namespace_id: str
    workflow_name: str
    paused: bool
    reason: str
    online_window: timedelta


# --- rows to records -----------------------------------------------------------------------


def worker_from_rows(row: Row, workflows: Iterable[Row], codec: Codec) -> Worker:
    return Worker(
        namespace_id=row["namespace_id"],
        worker_id=row["worker_id"],
        task_queue=row["task_queue"],
        workflows=tuple(
            WorkerWorkflow(w["workflow_name"], w["version"])
            for w in sorted(workflows, key=lambda w: str(w["workflow_name"]))
        ),
        registered_at=codec.moment(row["registered_at"]),
        last_seen_at=codec.moment(row["last_seen_at"]),
        active_runs=int(row["active_runs"]),
        online=bool(row["online"]),
    )


def workers_from_rows(rows: Sequence[Row], workflows: Sequence[Row], codec: Codec) -> list[Worker]:
    by_worker: dict[str, list[Row]] = defaultdict(list)
    for w in workflows:
        by_worker[w["worker_id"]].append(w)
    return [worker_from_rows(row, by_worker[row["worker_id"]], codec) for row in rows]


def workflows_from_rows(
    workflows: Sequence[Row], versions: Sequence[Row], counts: Sequence[Row], codec: Codec
) -> list[Workflow]:
    """Workflows by name from their rows, their versions' rows and run counts by
    (workflow_name, version, status)."""
    version_rows: dict[str, list[Row]] = defaultdict(list)
    for v in versions:
        version_rows[v["workflow_name"]].append(v)
    count_rows: dict[str, list[Row]] = defaultdict(list)
    for c in counts:
        count_rows[c["workflow_name"]].append(c)
    return [
        _workflow(row, version_rows[row["workflow_name"]], count_rows[row["workflow_name"]], codec)
        for row in sorted(workflows, key=lambda r: str(r["workflow_name"]))
    ]


def _workflow(row: Row, versions: list[Row], counts: list[Row], codec: Codec) -> Workflow:
    built = [
        _version(v, [c for c in counts if c["version"] == v["version"]], codec) for v in versions
    ]
    built.sort(key=lambda v: (v.workers_online > 0, v.registered_at), reverse=True)
    return Workflow(
        namespace_id=row["namespace_id"],
        workflow_name=row["workflow_name"],
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
        paused_at=codec.moment_or_none(row["paused_at"]),
        versions=tuple(built),
        run_counts=_counts(counts),
        workers_online=int(row["workers_online"]),
        max_concurrency=int(row["max_concurrency"]),
        max_concurrency_per_key=int(row["max_concurrency_per_key"]),
    )


def _version(row: Row, counts: list[Row], codec: Codec) -> WorkflowVersion:
    return WorkflowVersion(
        version=row["version"],
        input_schema=row["input_schema"],
        triggers=row["triggers"],
        retry_policy=row["retry_policy"],
        max_concurrency=int(row["max_concurrency"]),
        max_concurrency_per_key=int(row["max_concurrency_per_key"]),
        max_crashes=None if row["max_crashes"] is None else int(row["max_crashes"]),
        on_poison=PoisonAction(row["on_poison"]),
        registered_at=codec.moment(row["registered_at"]),
        last_seen_at=codec.moment_or_none(row["last_seen_at"]),
        workers_online=int(row["workers_online"]),
        run_counts=_counts(counts),
        priority=int(row["priority"]),
    )


def _counts(rows: Iterable[Row]) -> RunCounts:
    totals: dict[RunStatus, int] = defaultdict(int)
    for row in rows:
        totals[RunStatus(row["status"])] += int(row["count"])
    return tuple(sorted(totals.items(), key=lambda item: list(RunStatus).index(item[0])))
