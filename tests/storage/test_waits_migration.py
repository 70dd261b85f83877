"""Migration 0003_waits on SQLite rebuilds the runs and step attempts tables (SQLite cannot
alter a CHECK constraint): the rows written before it, their steps and their links, all
survive it, and the rebuilt tables take the new statuses and kinds."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from storage import sqlite_path_from_url
from storage.migrations import load_migrations
from storage.records import RunGetParams, RunStatus, StepKind, StepListParams
from storage.sqlite.schema import statements
from tests.conftest import sqlite_url_for
from tests.storage.conftest import open_store

RUN = "01a24b0e-28cc-7239-8b14-4532d8620955"
STEP = "01a24b0e-28d2-7c89-9d32-5421cd4959fc"


def _before_waits(path: Path) -> None:
    """A database at the migration before 0003_waits, holding one run with one step."""
    earlier = [m for m in load_migrations("storage.sqlite") if m.version < _waits_version()]
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE stepline_schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        for migration in earlier:
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO stepline_schema_migrations VALUES (?, ?, 0)",
                (migration.version, migration.name),
            )
        conn.execute(
            "INSERT INTO stepline_workflow_runs (id, namespace_id, workflow_name, status, "
            "task_queue, input, retry_initial_interval, retry_backoff_coefficient, "
            "retry_maximum_interval, retry_maximum_attempts, created_at, updated_at, "
            "available_at) VALUES (?, 'ns', 'wf', 'SLEEPING', 'q', '[1]', 1, 2.0, 100, 3, 5, 6, 7)",
            (RUN,),
        )
        conn.execute(
            "INSERT INTO stepline_step_attempts (id, namespace_id, workflow_run_id, step_id, "
            "kind, status, attempt, output, created_at, updated_at) "
            "VALUES (?, 'ns', ?, 'nap', 'SLEEP', 'RUNNING', 1, '\"z\"', 8, 9)",
            (STEP, RUN),
        )
        conn.commit()


def _waits_version() -> int:
    (waits,) = [m for m in load_migrations("storage.sqlite") if m.name == "waits"]
    return waits.version


async def test_waits_migration__keeps_the_runs_and_steps_written_before_it(
    tmp_path: Path,
) -> None:
    url = sqlite_url_for(tmp_path / "stepline.db")
    _before_waits(Path(sqlite_path_from_url(url)))
    store = await open_store(url)
    try:
        applied = await store.migrate()
        run = await store.run_get(RunGetParams("ns", RUN))
        steps = await store.step_list(StepListParams("ns", RUN, limit=10))
    finally:
        await store.close()
    assert f"{_waits_version():04d}_waits" in applied
    assert (run.status, run.input, run.created_at.timestamp()) == (
        RunStatus.SLEEPING,
        "[1]",
        5e-6,
    )
    [step] = steps.items
    assert (step.step_attempt_id, step.kind, step.output) == (STEP, StepKind.SLEEP, '"z"')
    with closing(sqlite3.connect(sqlite_path_from_url(url))) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("PRAGMA foreign_keys = ON")
        # The step still belongs to its run: deleting the run cascades to it.
        conn.execute("DELETE FROM stepline_workflow_runs WHERE id = ?", (RUN,))
        assert conn.execute("SELECT count(*) FROM stepline_step_attempts").fetchone() == (0,)
