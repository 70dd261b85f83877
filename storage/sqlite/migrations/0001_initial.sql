-- Runs and step attempts; mirrors storage/postgres/migrations/0001_initial.sql.
-- Times are INTEGER microseconds since the Unix epoch (UTC), intervals INTEGER
-- microseconds, ids TEXT. Payload columns hold JSON text verbatim, never parsed.

CREATE TABLE stepline_workflow_runs (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (
        status IN ('PENDING', 'RUNNING', 'SLEEPING', 'COMPLETED', 'FAILED', 'CANCELED')
    ),
    task_queue TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    context TEXT,
    idempotency_key TEXT,
    deadline_at INTEGER,
    worker_id TEXT,
    -- The current (or last) claim. Kept after the run ends so that the worker whose
    -- lease a cancel or deadline ended can be told so; lease_expires_at is NULL then.
    lease_id TEXT,
    lease_expires_at INTEGER,
    attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_initial_interval INTEGER NOT NULL,
    retry_backoff_coefficient REAL NOT NULL,
    retry_maximum_interval INTEGER NOT NULL,
    retry_maximum_attempts INTEGER NOT NULL,
    parent_run_id TEXT,
    parent_step_attempt_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    wake_up_at INTEGER,
    -- When the run can next be claimed: start, retry or wake-up time while PENDING or
    -- SLEEPING, lease expiry while RUNNING, NULL once terminal.
    available_at INTEGER
) STRICT;

CREATE UNIQUE INDEX stepline_workflow_runs_idempotency
    ON stepline_workflow_runs (namespace_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The claim: due PENDING/SLEEPING runs first, then RUNNING runs whose lease expired.
CREATE INDEX stepline_workflow_runs_claim_ready
    ON stepline_workflow_runs (namespace_id, task_queue, available_at, id)
    WHERE status IN ('PENDING', 'SLEEPING');
CREATE INDEX stepline_workflow_runs_claim_expired
    ON stepline_workflow_runs (namespace_id, task_queue, available_at, id)
    WHERE status = 'RUNNING';

-- The deadline sweep.
CREATE INDEX stepline_workflow_runs_deadline
    ON stepline_workflow_runs (deadline_at)
    WHERE deadline_at IS NOT NULL AND status IN ('PENDING', 'RUNNING', 'SLEEPING');

-- Lists: keyset order (created_at, id) per namespace, and per filter.
CREATE INDEX stepline_workflow_runs_list
    ON stepline_workflow_runs (namespace_id, created_at, id);
CREATE INDEX stepline_workflow_runs_list_status
    ON stepline_workflow_runs (namespace_id, status, created_at, id);
CREATE INDEX stepline_workflow_runs_list_workflow
    ON stepline_workflow_runs (namespace_id, workflow_name, created_at, id);
CREATE INDEX stepline_workflow_runs_list_queue
    ON stepline_workflow_runs (namespace_id, task_queue, created_at, id);

CREATE TABLE stepline_step_attempts (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    workflow_run_id TEXT NOT NULL
        REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('FUNCTION', 'SLEEP')),
    status TEXT NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    config TEXT,
    context TEXT,
    output TEXT,
    error TEXT,
    child_workflow_run_id TEXT,
    worker_id TEXT,
    wake_up_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A step completes at most once per run, and has at most one open attempt.
CREATE UNIQUE INDEX stepline_step_attempts_completed
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'COMPLETED';
CREATE UNIQUE INDEX stepline_step_attempts_running
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'RUNNING';

-- Every attempt of one step_id: its attempt number and the kind it was recorded with,
-- read by each step call (without it a run with many steps scans its whole history).
CREATE INDEX stepline_step_attempts_by_step
    ON stepline_step_attempts (workflow_run_id, step_id);

-- A run's history, and its list, in keyset order.
CREATE INDEX stepline_step_attempts_by_run
    ON stepline_step_attempts (workflow_run_id, created_at, id);
