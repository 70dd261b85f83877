-- Priorities and schedules (tracker issue 16); mirrors
-- storage/postgres/migrations/0006_schedules.sql.

-- A run's priority (1 highest ... 5) and concurrency key.
ALTER TABLE stepline_workflow_runs
    ADD COLUMN priority INTEGER NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5);
ALTER TABLE stepline_workflow_runs ADD COLUMN concurrency_key TEXT;

-- The claim takes due runs by priority, then oldest first: one range scan of this index
-- per priority (each stops at its first run not yet due). It replaces the index by
-- availability alone.
DROP INDEX stepline_workflow_runs_claim_ready;
CREATE INDEX stepline_workflow_runs_claim_ready
    ON stepline_workflow_runs (namespace_id, task_queue, priority, available_at, id)
    WHERE status IN ('PENDING', 'SLEEPING');

CREATE TABLE stepline_schedules (
    namespace_id TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    -- Exactly one of cron and interval is set.
    cron TEXT,
    fire_interval INTEGER,
    timezone TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    version TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    input TEXT,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    overlap TEXT NOT NULL CHECK (overlap IN ('SKIP', 'BUFFER_ONE', 'ALLOW_ALL')),
    catchup_window INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    next_fire_at INTEGER NOT NULL,
    last_fire_at INTEGER,
    last_run_id TEXT,
    -- A fire kept by BUFFER_ONE while the last run was active.
    buffered_fire_at INTEGER,
    missed_fires INTEGER NOT NULL DEFAULT 0,
    skipped_fires INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, schedule_id),
    CHECK ((cron IS NULL) <> (fire_interval IS NULL))
) STRICT;

-- The firing loop's question: which schedules are due. Paused ones are not indexed.
CREATE INDEX stepline_schedules_due
    ON stepline_schedules (next_fire_at) WHERE NOT paused;
-- Schedules holding a buffered fire, waiting for their last run to end.
CREATE INDEX stepline_schedules_buffered
    ON stepline_schedules (buffered_fire_at) WHERE buffered_fire_at IS NOT NULL;
