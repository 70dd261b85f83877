-- Runs that wait: child runs, signals and events; mirrors
-- storage/postgres/migrations/0003_waits.sql. SQLite cannot alter a CHECK constraint, so
-- the two tables are rebuilt (SQLite's documented procedure: the migration runner turns
-- foreign keys off around each migration and checks them before it commits).

CREATE TABLE stepline_workflow_runs_new (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (
        status IN (
            'PENDING', 'RUNNING', 'SLEEPING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELED'
        )
    ),
    task_queue TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    context TEXT,
    idempotency_key TEXT,
    deadline_at INTEGER,
    worker_id TEXT,
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
    available_at INTEGER,
    replay_of_run_id TEXT,
    replay_batch_id TEXT,
    -- When the current execution's claim was made (see stepline_waits.since).
    claimed_at INTEGER
) STRICT;

INSERT INTO stepline_workflow_runs_new (
    id, namespace_id, workflow_name, version, status, task_queue, input, output, error,
    context, idempotency_key, deadline_at, worker_id, lease_id, lease_expires_at, attempt,
    retry_initial_interval, retry_backoff_coefficient, retry_maximum_interval,
    retry_maximum_attempts, parent_run_id, parent_step_attempt_id, created_at, updated_at,
    started_at, finished_at, wake_up_at, available_at, replay_of_run_id, replay_batch_id
)
SELECT
    id, namespace_id, workflow_name, version, status, task_queue, input, output, error,
    context, idempotency_key, deadline_at, worker_id, lease_id, lease_expires_at, attempt,
    retry_initial_interval, retry_backoff_coefficient, retry_maximum_interval,
    retry_maximum_attempts, parent_run_id, parent_step_attempt_id, created_at, updated_at,
    started_at, finished_at, wake_up_at, available_at, replay_of_run_id, replay_batch_id
FROM stepline_workflow_runs;

DROP TABLE stepline_workflow_runs;
ALTER TABLE stepline_workflow_runs_new RENAME TO stepline_workflow_runs;

CREATE UNIQUE INDEX stepline_workflow_runs_idempotency
    ON stepline_workflow_runs (namespace_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX stepline_workflow_runs_claim_ready
    ON stepline_workflow_runs (namespace_id, task_queue, available_at, id)
    WHERE status IN ('PENDING', 'SLEEPING');
CREATE INDEX stepline_workflow_runs_claim_expired
    ON stepline_workflow_runs (namespace_id, task_queue, available_at, id)
    WHERE status = 'RUNNING';
-- The deadline sweep covers waiting runs too.
CREATE INDEX stepline_workflow_runs_deadline
    ON stepline_workflow_runs (deadline_at)
    WHERE deadline_at IS NOT NULL
        AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING');
CREATE INDEX stepline_workflow_runs_list
    ON stepline_workflow_runs (namespace_id, created_at, id);
CREATE INDEX stepline_workflow_runs_list_status
    ON stepline_workflow_runs (namespace_id, status, created_at, id);
CREATE INDEX stepline_workflow_runs_list_workflow
    ON stepline_workflow_runs (namespace_id, workflow_name, created_at, id);
CREATE INDEX stepline_workflow_runs_list_queue
    ON stepline_workflow_runs (namespace_id, task_queue, created_at, id);
CREATE INDEX stepline_workflow_runs_list_replay_of
    ON stepline_workflow_runs (namespace_id, replay_of_run_id, created_at, id)
    WHERE replay_of_run_id IS NOT NULL;
CREATE UNIQUE INDEX stepline_workflow_runs_replay_batch
    ON stepline_workflow_runs (replay_of_run_id, replay_batch_id)
    WHERE replay_batch_id IS NOT NULL;
-- The children of a run: the parent_run_id list filter, and a cancel's recursion.
CREATE INDEX stepline_workflow_runs_list_parent
    ON stepline_workflow_runs (namespace_id, parent_run_id, created_at, id)
    WHERE parent_run_id IS NOT NULL;

CREATE TABLE stepline_step_attempts_new (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    workflow_run_id TEXT NOT NULL
        REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('FUNCTION', 'SLEEP', 'CHILD', 'SIGNAL', 'EVENT')),
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
    updated_at INTEGER NOT NULL,
    copied_from_step_attempt_id TEXT,
    -- A SIGNAL or EVENT step's name and an EVENT step's match, shown with the step.
    wait_name TEXT,
    wait_match TEXT
) STRICT;

INSERT INTO stepline_step_attempts_new (
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, child_workflow_run_id, worker_id, wake_up_at, started_at, finished_at,
    created_at, updated_at, copied_from_step_attempt_id
)
SELECT
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, child_workflow_run_id, worker_id, wake_up_at, started_at, finished_at,
    created_at, updated_at, copied_from_step_attempt_id
FROM stepline_step_attempts;

DROP TABLE stepline_step_attempts;
ALTER TABLE stepline_step_attempts_new RENAME TO stepline_step_attempts;

CREATE UNIQUE INDEX stepline_step_attempts_completed
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'COMPLETED';
CREATE UNIQUE INDEX stepline_step_attempts_running
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'RUNNING';
CREATE INDEX stepline_step_attempts_by_step
    ON stepline_step_attempts (workflow_run_id, step_id);
CREATE INDEX stepline_step_attempts_by_run
    ON stepline_step_attempts (workflow_run_id, created_at, id);

-- The open waits, one row per RUNNING wait step, deleted when the wait is resolved.
CREATE TABLE stepline_waits (
    step_attempt_id TEXT PRIMARY KEY
        REFERENCES stepline_step_attempts (id) ON DELETE CASCADE,
    namespace_id TEXT NOT NULL,
    workflow_run_id TEXT NOT NULL
        REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('CHILD', 'SIGNAL', 'EVENT')),
    name TEXT,
    match TEXT,
    match_key TEXT,
    since INTEGER,
    wake_up_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX stepline_waits_by_run ON stepline_waits (workflow_run_id, created_at);
CREATE INDEX stepline_waits_timeout ON stepline_waits (wake_up_at) WHERE wake_up_at IS NOT NULL;
CREATE INDEX stepline_waits_event
    ON stepline_waits (namespace_id, name, match_key)
    WHERE kind = 'EVENT';

CREATE TABLE stepline_signals (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    signal_name TEXT NOT NULL,
    payload TEXT,
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    consumed_at INTEGER,
    consumed_by_step_attempt_id TEXT
) STRICT;
CREATE UNIQUE INDEX stepline_signals_idempotency
    ON stepline_signals (run_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX stepline_signals_inbox
    ON stepline_signals (run_id, signal_name, created_at, id)
    WHERE consumed_at IS NULL;

CREATE TABLE stepline_events (
    id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    data TEXT NOT NULL,
    idempotency_key TEXT,
    received_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX stepline_events_idempotency
    ON stepline_events (namespace_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX stepline_events_list ON stepline_events (namespace_id, received_at, id);
CREATE INDEX stepline_events_by_name
    ON stepline_events (namespace_id, event_name, received_at, id);

CREATE TABLE stepline_event_runs (
    event_id TEXT NOT NULL REFERENCES stepline_events (id) ON DELETE CASCADE,
    run_id TEXT NOT NULL,
    step_attempt_id TEXT,
    relation TEXT NOT NULL CHECK (relation IN ('RESUMED', 'STARTED')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, run_id, relation)
) STRICT;

-- The queues a transaction made runs claimable in, for the store to wake once it commits
-- (SQLite has no NOTIFY; the store empties the table in each write transaction).
CREATE TABLE stepline_wakes (
    namespace_id TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    PRIMARY KEY (namespace_id, task_queue)
) STRICT, WITHOUT ROWID;

-- Whatever statement ends a run: its own waits go; a canceled run's active children are
-- canceled too (recursive_triggers is on, so theirs recurse); a child's end resolves its
-- parent's CHILD wait and, when the parent has no wait left, makes it PENDING and wakes its
-- queue (stepline_wakes, read and emptied by the store before each commit, as PostgreSQL's
-- trigger sends pg_notify). Times: the ending statement's own updated_at, which is the
-- transaction's clock.
CREATE TRIGGER stepline_run_ended
    AFTER UPDATE OF status ON stepline_workflow_runs
    FOR EACH ROW
    WHEN NEW.status IN ('COMPLETED', 'FAILED', 'CANCELED')
        AND OLD.status NOT IN ('COMPLETED', 'FAILED', 'CANCELED')
BEGIN
    DELETE FROM stepline_waits WHERE workflow_run_id = NEW.id;
    UPDATE stepline_step_attempts SET
        status = 'FAILED', error = NEW.error, finished_at = NEW.updated_at,
        updated_at = NEW.updated_at
    WHERE NEW.status = 'CANCELED' AND status = 'RUNNING' AND workflow_run_id IN (
        SELECT id FROM stepline_workflow_runs
        WHERE namespace_id = NEW.namespace_id AND parent_run_id = NEW.id
            AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
    );
    UPDATE stepline_workflow_runs SET
        status = 'CANCELED', error = NEW.error, finished_at = NEW.updated_at,
        updated_at = NEW.updated_at, lease_expires_at = NULL, available_at = NULL,
        wake_up_at = NULL
    WHERE NEW.status = 'CANCELED' AND namespace_id = NEW.namespace_id
        AND parent_run_id = NEW.id
        AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING');
    UPDATE stepline_step_attempts SET
        status = 'COMPLETED',
        output = NEW.output,
        error = CASE WHEN NEW.status = 'COMPLETED' THEN NULL ELSE NEW.error END,
        finished_at = NEW.updated_at,
        updated_at = NEW.updated_at
    WHERE id = NEW.parent_step_attempt_id AND status = 'RUNNING'
        AND EXISTS (
            SELECT 1 FROM stepline_workflow_runs
            WHERE id = NEW.parent_run_id AND status = 'WAITING'
        );
    DELETE FROM stepline_waits
    WHERE step_attempt_id = NEW.parent_step_attempt_id AND EXISTS (
        SELECT 1 FROM stepline_step_attempts
        WHERE id = NEW.parent_step_attempt_id AND status = 'COMPLETED'
    );
    INSERT OR IGNORE INTO stepline_wakes (namespace_id, task_queue)
    SELECT namespace_id, task_queue FROM stepline_workflow_runs
    WHERE id = NEW.parent_run_id AND status = 'WAITING'
        AND NOT EXISTS (SELECT 1 FROM stepline_waits WHERE workflow_run_id = NEW.parent_run_id);
    UPDATE stepline_workflow_runs SET
        status = 'PENDING', available_at = NEW.updated_at, wake_up_at = NULL,
        updated_at = NEW.updated_at
    WHERE id = NEW.parent_run_id AND status = 'WAITING'
        AND NOT EXISTS (SELECT 1 FROM stepline_waits WHERE workflow_run_id = NEW.parent_run_id);
END;
