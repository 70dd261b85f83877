"""The PostgreSQL Store: psycopg 3 AsyncConnectionPool, SQL from queries.sql."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage import rules
from storage.errors import (
    IdempotencyConflict,
    LeaseLost,
    RunAlreadyTerminal,
    RunDeadlineExceeded,
    RunNotFound,
    StepAttemptNotFound,
    StepNotRunning,
    StorageUnavailable,
    StoreError,
)
from storage.events import IGNORED, StoreEvents
from storage.ids import uuid7
from storage.interface import Store
from storage.migrations import load_migrations
from storage.notify import WakeHub
from storage.postgres import listing, reporting
from storage.postgres.listener import Listener
from storage.postgres.rows import (
    Row,
    fast_dict_row,
    lease_state_from_row,
    run_from_row,
    step_from_row,
)
from storage.postgres.transitions import (
    ABANDONED_ERROR,
    DEADLINE_ERROR,
    LEASE_EXPIRED_ERROR,
    Conn,
    Q,
    claimed_runs,
    close_open_steps,
    db_uuid,
    end_execution,
    fail_step,
    fetch,
    fetch_one,
    fetch_sql,
    insert_step,
    lease_params,
    release,
    required_step_id,
)
from storage.records import (
    Lease,
    Page,
    QueueDepth,
    Run,
    RunCancelParams,
    RunClaimParams,
    RunClaimResult,
    RunCompleteParams,
    RunCreateParams,
    RunCreateResult,
    RunFailParams,
    RunGetParams,
    RunHeartbeatParams,
    RunHeartbeatResult,
    RunListParams,
    RunReleaseParams,
    RunSleepParams,
    RunSleepResult,
    RunStatus,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepFailResult,
    StepGetParams,
    StepKind,
    StepListParams,
    StepStatus,
)


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _configure(conn: Conn) -> None:
    # Payloads stay JSON text end to end; IDs are strings in records.
    for type_name in ("json", "uuid"):
        conn.adapters.register_loader(type_name, TextLoader)


def _verdict(lease: Lease, row: Row | None) -> StoreError | None:
    """rules.lease_error for a run_lease_state or run_lock row (None: no such run)."""
    if row is None:
        return RunNotFound(lease.namespace_id, lease.run_id)
    state = lease_state_from_row(row)
    return rules.lease_error(lease.namespace_id, lease.run_id, lease.lease_id, state, row["db_now"])


def _wake_up_at(params: RunSleepParams, now: datetime) -> datetime:
    if params.wake_up_at is not None:
        return params.wake_up_at
    if params.duration is None:
        raise ValueError("run_sleep needs wake_up_at or duration")
    return now + params.duration


class PostgresStore(Store):
    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 10.0) -> None:
        self._pool_timeout = pool_timeout
        self.url_for_display = mask_password(url)
        self.wake_hub = WakeHub()
        self.events: StoreEvents = IGNORED
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": fast_dict_row},
            configure=_configure,
            open=False,
            name="stepline",
        )
        self._listener = Listener(url, self.wake_hub)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._pool.open(wait=True, timeout=self._pool_timeout)
        except PoolTimeout as exc:
            raise StorageUnavailable(f"cannot connect to {self.url_for_display}") from exc
        self._listener.start()

    async def close(self) -> None:
        await self._listener.close()
        await self._pool.close()

    async def ping(self) -> None:
        await self._fetch("ping", {})

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._connection() as conn, conn.transaction():
            await conn.execute(Q["migrations_lock"])
            await conn.execute(Q["migrations_prepare"])
            done = {row["version"] for row in await fetch(conn, "migrations_applied", {})}
            for migration in load_migrations("storage.postgres"):
                if migration.version in done:
                    continue
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    Q["migrations_record"],
                    {"version": migration.version, "name": migration.name},
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
        return applied

    # --- plumbing -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        try:
            async with self._pool.connection(timeout=self._pool_timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            raise StorageUnavailable("no database connection available") from exc
        except psycopg.OperationalError as exc:
            raise StorageUnavailable(f"database error: {exc}") from exc

    async def _fetch(self, query: str, params: Mapping[str, Any]) -> list[Row]:
        """The named query of queries.sql, alone in autocommit."""
        return await self._fetch_sql(Q[query], params)

    async def _fetch_sql(self, statement: str, params: Mapping[str, Any]) -> list[Row]:
        """One statement in autocommit: the hot path, so no context-manager layers."""
        try:
            conn = await self._pool.getconn(timeout=self._pool_timeout)
        except PoolTimeout as exc:
            raise StorageUnavailable("no database connection available") from exc
        try:
            return await fetch_sql(conn, statement, params)
        except psycopg.OperationalError as exc:
            raise StorageUnavailable(f"database error: {exc}") from exc
        finally:
            await self._pool.putconn(conn)

    async def _fetch_one(self, query: str, params: Mapping[str, Any]) -> Row | None:
        rows = await self._fetch(query, params)
        return rows[0] if rows else None

    async def _check_lease(self, lease: Lease) -> None:
        """Raise why `lease` may not write; return when it may."""
        row = await self._fetch_one("run_lease_state", lease_params(lease))
        verdict = _verdict(lease, row)
        if verdict is not None:
            await self._refuse(lease, row, verdict)

    async def _refuse(self, lease: Lease, row: Row | None, verdict: StoreError) -> NoReturn:
        """Raise `verdict`; an active run past its deadline is failed first."""
        state = lease_state_from_row(row)
        if isinstance(verdict, RunDeadlineExceeded) and state and not state.status.is_terminal:
            await self._fail_overdue(lease.run_id)
        raise verdict

    async def _fail_overdue(self, run_id: str) -> None:
        values = {"run_id": run_id, "error": DEADLINE_ERROR}
        reporting.overdue_failed(self.events, await self._fetch("run_fail_overdue_one", values))

    @contextlib.asynccontextmanager
    async def _fenced(self, lease: Lease) -> AsyncIterator[tuple[Conn, Row]]:
        """A transaction holding the run's row lock, entered only when `lease` is current."""
        async with self._connection() as conn, conn.transaction():
            row = await fetch_one(conn, "run_lock", lease_params(lease))
            verdict = _verdict(lease, row)
            if verdict is None and row is not None:
                yield conn, row
                return
        assert verdict is not None
        await self._refuse(lease, row, verdict)

    # --- client calls -------------------------------------------------------------------

    async def run_create(self, params: RunCreateParams) -> RunCreateResult:
        policy = params.retry_policy
        values = {
            "id": uuid7(),
            "namespace_id": params.namespace_id,
            "workflow_name": params.workflow_name,
            "version": params.version,
            "task_queue": params.task_queue,
            "input": params.input,
            "context": params.context,
            "idempotency_key": params.idempotency_key,
            "deadline_at": params.deadline_at,
            "start_at": params.start_at,
            "retry_initial_interval": policy.initial_interval,
            "retry_backoff_coefficient": policy.backoff_coefficient,
            "retry_maximum_interval": policy.maximum_interval,
            "retry_maximum_attempts": policy.maximum_attempts,
        }
        row = await self._fetch_one("run_insert", values)
        if row is not None:
            return RunCreateResult(run=run_from_row(row), existing=False)
        # The key was taken: ON CONFLICT waited for the other insert to commit.
        existing = await self._fetch_one("run_by_idempotency_key", values)
        if existing is None:  # pragma: no cover - keys are never deleted
            raise StoreError("idempotency key conflict on a run that no longer exists")
        run = run_from_row(existing)
        if run.workflow_name != params.workflow_name:
            raise IdempotencyConflict(params.idempotency_key or "", run.run_id, run.workflow_name)
        return RunCreateResult(run=run, existing=True)

    async def run_get(self, params: RunGetParams) -> Run:
        row = await self._fetch_one(
            "run_get", {"namespace_id": params.namespace_id, "run_id": db_uuid(params.run_id)}
        )
        if row is None:
            raise RunNotFound(params.namespace_id, params.run_id)
        return run_from_row(row)

    async def run_list(self, params: RunListParams) -> Page[Run]:
        fragments, values = listing.run_filter(params.filter)
        values["namespace_id"] = params.namespace_id
        statement, values = listing.keyset_query(
            "run_list", fragments, values, params.cursor, params.limit
        )
        rows = await self._fetch_sql(statement, values)
        return listing.page_of(rows, params.limit, params.cursor, run_from_row)

    async def run_cancel(self, params: RunCancelParams) -> Run:
        error = rules.failure_to_json(rules.cancel_failure(params.reason))
        ref = {"namespace_id": params.namespace_id, "run_id": db_uuid(params.run_id)}
        row = await self._fetch_one("run_cancel", {**ref, "error": error})
        if row is not None:
            return reporting.ended(self.events, run_from_row(row))
        run = await self.run_get(RunGetParams(params.namespace_id, params.run_id))
        if run.status is RunStatus.CANCELED:
            return run
        raise RunAlreadyTerminal(run.run_id, run.status)

    async def step_get(self, params: StepGetParams) -> StepAttempt:
        await self.run_get(RunGetParams(params.namespace_id, params.run_id))
        row = await self._fetch_one(
            "step_get",
            {
                "run_id": db_uuid(params.run_id),
                "step_attempt_id": db_uuid(params.step_attempt_id),
            },
        )
        if row is None:
            raise StepAttemptNotFound(params.run_id, params.step_attempt_id)
        return step_from_row(row)

    async def step_list(self, params: StepListParams) -> Page[StepAttempt]:
        await self.run_get(RunGetParams(params.namespace_id, params.run_id))
        statement, values = listing.keyset_query(
            "step_list", [], {"run_id": params.run_id}, params.cursor, params.limit
        )
        rows = await self._fetch_sql(statement, values)
        return listing.page_of(rows, params.limit, params.cursor, step_from_row)

    # --- worker calls -------------------------------------------------------------------

    async def run_claim(self, params: RunClaimParams) -> RunClaimResult:
        query = {
            "namespace_id": params.namespace_id,
            "task_queue": params.task_queue,
            "workflow_names": list(params.workflow_names) or None,
            "max_runs": params.max_runs,
            "lease_duration": params.lease_duration,
            "worker_id": params.worker_id,
            "deadline_error": DEADLINE_ERROR,
            "lease_expired_error": LEASE_EXPIRED_ERROR,
            "abandoned_error": ABANDONED_ERROR,
        }
        async with self._connection() as conn, conn.transaction():
            # Runs failed by their deadline come back too; only RUNNING ones are claimed.
            changed = await fetch(conn, "run_claim", query)
            rows = [r for r in changed if r["status"] == "RUNNING"]
            steps = await fetch(conn, "steps_of_runs", {"run_ids": [r["id"] for r in rows]})
        reporting.claims(self.events, changed)
        if rows:
            return RunClaimResult(claimed=claimed_runs(rows, steps), next_due_in=None)
        due = await self._fetch_one("run_next_due", query)
        due_in = due["due_in"] if due else None
        return RunClaimResult(
            claimed=[], next_due_in=None if due_in is None else timedelta(seconds=due_in)
        )

    async def run_heartbeat(self, params: RunHeartbeatParams) -> RunHeartbeatResult:
        lease = params.lease
        values = {**lease_params(lease), "lease_duration": params.lease_duration}
        row = await self._fetch_one("run_heartbeat", values)
        if row is not None:
            return RunHeartbeatResult(row["lease_expires_at"], cancel_requested=False)
        row = await self._fetch_one("run_lease_state", values)
        state = lease_state_from_row(row)
        if state and state.status is RunStatus.CANCELED and state.lease_id == lease.lease_id:
            return RunHeartbeatResult(lease_expires_at=None, cancel_requested=True)
        # The update found no current lease, so a verdict exists (a lease never revives).
        verdict = _verdict(lease, row) or LeaseLost(lease.run_id, RunStatus.RUNNING)
        await self._refuse(lease, row, verdict)

    async def step_begin(self, params: StepBeginParams) -> StepAttempt:
        values = {
            **lease_params(params.lease),
            "id": uuid7(),
            "step_id": params.step_id,
            "kind": params.kind.value,
            "config": params.config,
            "context": params.context,
        }
        rows = await self._fetch("step_begin", values)
        if not rows:
            await self._check_lease(params.lease)
            # A concurrent begin of the same step won the insert; read what it wrote.
            rows = await self._fetch("step_begin", {**values, "id": uuid7()})
            if not rows:  # pragma: no cover
                raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)
        step = rules.recorded_step(map(step_from_row, rows), params.step_id, params.kind)
        assert step is not None, "step_begin returned only attempts of this kind, none open"
        return step

    async def step_complete(self, params: StepCompleteParams) -> StepAttempt:
        if params.step_attempt_id is not None:
            return await self._complete_attempt(params, params.step_attempt_id)
        return await self._complete_by_step_id(params)

    async def _complete_attempt(self, params: StepCompleteParams, attempt_id: str) -> StepAttempt:
        values = {
            **lease_params(params.lease),
            "step_attempt_id": db_uuid(attempt_id),
            "output": params.output,
        }
        row = await self._fetch_one("step_complete_attempt", values)
        if row is not None:
            return self._step_completed(row)
        await self._check_lease(params.lease)
        found = await self._fetch_one("step_get", values)
        if found is None:
            raise StepAttemptNotFound(params.lease.run_id, attempt_id)
        step = step_from_row(found)
        if step.status is StepStatus.COMPLETED:
            return step  # a retried call: the first completion stands
        raise StepNotRunning(step.step_attempt_id, step.status)

    async def _complete_by_step_id(self, params: StepCompleteParams) -> StepAttempt:
        step_id = required_step_id(params.step_id)
        values = {
            **lease_params(params.lease),
            "id": uuid7(),
            "step_id": step_id,
            "kind": params.kind.value,
            "config": params.config,
            "context": params.context,
            "output": params.output,
        }
        for _ in range(2):
            row = await self._fetch_one("step_complete_by_step_id", values)
            if row is not None:
                return self._step_completed(row)
            await self._check_lease(params.lease)
            existing = await self._fetch("steps_by_step_id", values)
            step = rules.recorded_step(map(step_from_row, existing), step_id, params.kind)
            if step is not None and step.status is StepStatus.COMPLETED:
                return step  # memoized: the first output stands
            values["id"] = uuid7()
        raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced

    def _step_completed(self, row: Row) -> StepAttempt:
        """A step attempt this call completed (not a memoized one)."""
        step = step_from_row(row)
        self.events.step_ended(step.namespace_id, StepStatus.COMPLETED)
        return step

    async def step_fail(self, params: StepFailParams) -> StepFailResult:
        lease = params.lease
        async with self._fenced(lease) as (conn, run_row):
            step = await fail_step(conn, params, run_row)
            run = await end_execution(conn, lease, run_row, params.error, keep=step)
        self.events.step_ended(step.namespace_id, StepStatus.FAILED)
        return StepFailResult(step=step, run=reporting.ended(self.events, run))

    async def run_fail(self, params: RunFailParams) -> Run:
        async with self._fenced(params.lease) as (conn, run_row):
            run = await end_execution(conn, params.lease, run_row, params.error, keep=None)
        return reporting.ended(self.events, run)

    async def run_sleep(self, params: RunSleepParams) -> RunSleepResult:
        lease = params.lease
        async with self._fenced(lease) as (conn, run_row):
            now: datetime = run_row["db_now"]
            wake = _wake_up_at(params, now)
            values = {**lease_params(lease), "step_id": params.step_id}
            existing = await fetch(conn, "steps_by_step_id", values)
            done = rules.recorded_step(map(step_from_row, existing), params.step_id, StepKind.SLEEP)
            if done is not None:  # only a woken sleep can be recorded: memoized
                return RunSleepResult(step=done, run=run_from_row(run_row))
            parked = wake > now
            step = await insert_step(
                conn,
                lease,
                run_row,
                step_id=params.step_id,
                kind=StepKind.SLEEP,
                status=StepStatus.RUNNING if parked else StepStatus.COMPLETED,
                wake_up_at=wake,
                finished_at=None if parked else now,
            )
            if not parked:
                return RunSleepResult(step=step, run=run_from_row(run_row))
            await close_open_steps(conn, lease.run_id, ABANDONED_ERROR, except_id=step)
            run = await release(
                conn, lease, run_row, RunStatus.SLEEPING, wake_up_at=wake, available_at=wake
            )
        return RunSleepResult(step=step, run=run)

    async def run_complete(self, params: RunCompleteParams) -> Run:
        values = {
            **lease_params(params.lease),
            "output": params.output,
            "abandoned_error": ABANDONED_ERROR,
        }
        row = await self._fetch_one("run_complete", values)
        if row is not None:
            return reporting.ended(self.events, run_from_row(row))
        await self._check_lease(params.lease)
        raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced

    async def run_release(self, params: RunReleaseParams) -> Run:
        values = {
            **lease_params(params.lease),
            "released_error": rules.failure_to_json(rules.released_failure(params.reason)),
        }
        row = await self._fetch_one("run_release", values)
        if row is not None:
            return run_from_row(row)
        await self._check_lease(params.lease)
        raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced

    async def run_fail_overdue(self, limit: int) -> int:
        rows = await self._fetch("run_fail_overdue", {"limit": limit, "error": DEADLINE_ERROR})
        return reporting.overdue_failed(self.events, rows)

    async def run_count_by_queue(self) -> list[QueueDepth]:
        return [reporting.queue_depth(row) for row in await self._fetch("run_count_by_queue", {})]
