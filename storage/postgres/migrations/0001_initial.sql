-- Runs and step attempts. Payload columns are `json`: stored verbatim, never parsed
-- by the database (no re-encoding cost, no jsonb restriction on \u0000).

CREATE TABLE stepline_workflow_runs (
    id uuid PRIMARY KEY,
    namespace_id text NOT NULL,
    workflow_name text NOT NULL,
    version text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (
        status IN ('PENDING', 'RUNNING', 'SLEEPING', 'COMPLETED', 'FAILED', 'CANCELED')
    ),
    task_queue text NOT NULL,
    input json,
    output json,
    error json,
    context json,
    idempotency_key text,
    deadline_at timestamptz,
    worker_id text,
    -- The current (or last) claim. Kept after the run ends so that the worker whose
    -- lease a cancel or deadline ended can be told so; lease_expires_at is NULL then.
    lease_id uuid,
    lease_expires_at timestamptz,
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_initial_interval interval NOT NULL,
    retry_backoff_coefficient double precision NOT NULL,
    retry_maximum_interval interval NOT NULL,
    retry_maximum_attempts integer NOT NULL,
    parent_run_id uuid,
    parent_step_attempt_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    wake_up_at timestamptz,
    -- When the run can next be claimed: start, retry or wake-up time while PENDING or
    -- SLEEPING, lease expiry while RUNNING, NULL once terminal.
    available_at timestamptz
);

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
    id uuid PRIMARY KEY,
    namespace_id text NOT NULL,
    workflow_run_id uuid NOT NULL REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    step_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('FUNCTION', 'SLEEP')),
    status text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
    attempt integer NOT NULL CHECK (attempt >= 1),
    config json,
    context json,
    output json,
    error json,
    child_workflow_run_id uuid,
    worker_id text,
    wake_up_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A step completes at most once per run, and has at most one open attempt.
CREATE UNIQUE INDEX stepline_step_attempts_completed
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'COMPLETED';
CREATE UNIQUE INDEX stepline_step_attempts_running
    ON stepline_step_attempts (workflow_run_id, step_id)
    WHERE status = 'RUNNING';

-- Every step call looks up the earlier attempts of its step_id.
CREATE INDEX stepline_step_attempts_by_step
    ON stepline_step_attempts (workflow_run_id, step_id);

-- A run's history, and its list, in keyset order.
CREATE INDEX stepline_step_attempts_by_run
    ON stepline_step_attempts (workflow_run_id, created_at, id);
