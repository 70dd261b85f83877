-- Priorities and schedules (tracker issue 16); mirrors
-- storage/sqlite/migrations/0006_schedules.sql.

-- A run's priority (1 highest ... 5) and concurrency key. A column with a constant
-- default is added without rewriting the table.
ALTER TABLE stepline_workflow_runs
    ADD COLUMN priority smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5);
ALTER TABLE stepline_workflow_runs ADD COLUMN concurrency_key text;

-- The claim takes due runs by priority, then oldest first: one range scan of this index
-- per priority (each stops at its first run not yet due), so runs parked in the future
-- are never walked over. It replaces the index by availability alone.
DROP INDEX stepline_workflow_runs_claim_ready;
CREATE INDEX stepline_workflow_runs_claim_ready
    ON stepline_workflow_runs (namespace_id, task_queue, priority, available_at, id)
    WHERE status IN ('PENDING', 'SLEEPING');

CREATE TABLE stepline_schedules (
    namespace_id text NOT NULL,
    schedule_id text NOT NULL,
    -- Exactly one of cron and interval is set.
    cron text,
    fire_interval interval,
    timezone text NOT NULL,
    workflow_name text NOT NULL,
    version text NOT NULL,
    task_queue text NOT NULL,
    input json,
    priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    overlap text NOT NULL CHECK (overlap IN ('SKIP', 'BUFFER_ONE', 'ALLOW_ALL')),
    catchup_window interval NOT NULL,
    paused boolean NOT NULL,
    next_fire_at timestamptz NOT NULL,
    last_fire_at timestamptz,
    last_run_id uuid,
    -- A fire kept by BUFFER_ONE while the last run was active.
    buffered_fire_at timestamptz,
    missed_fires bigint NOT NULL DEFAULT 0,
    skipped_fires bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace_id, schedule_id),
    CHECK ((cron IS NULL) <> (fire_interval IS NULL))
);

-- The firing loop's question, asked by every server a few times a second: which
-- schedules are due. Paused schedules are not in the index.
CREATE INDEX stepline_schedules_due
    ON stepline_schedules (next_fire_at) WHERE NOT paused;
-- Schedules holding a buffered fire, waiting for their last run to end.
CREATE INDEX stepline_schedules_buffered
    ON stepline_schedules (buffered_fire_at) WHERE buffered_fire_at IS NOT NULL;
