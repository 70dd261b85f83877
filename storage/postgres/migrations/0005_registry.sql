-- The workflow registry (RegisterWorker, ListWorkflows, GetWorkflow, PauseWorkflow,
-- ResumeWorkflow, ListWorkers); mirrors storage/sqlite/migrations/0005_registry.sql.
-- The claim reads stepline_workflows (pause) and stepline_worker_workflows (versions) by
-- primary key, once per candidate run.

-- A workflow the server knows: registered by a worker, or paused by a client.
CREATE TABLE stepline_workflows (
    namespace_id text NOT NULL,
    workflow_name text NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    paused_reason text NOT NULL DEFAULT '',
    paused_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace_id, workflow_name)
);

-- One registered version of a workflow, as the latest worker registering it described it.
CREATE TABLE stepline_workflow_versions (
    namespace_id text NOT NULL,
    workflow_name text NOT NULL,
    version text NOT NULL,
    input_schema json,
    triggers json NOT NULL DEFAULT '[]',
    retry_policy json,
    max_concurrency integer NOT NULL DEFAULT 0,
    max_concurrency_per_key integer NOT NULL DEFAULT 0,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace_id, workflow_name, version)
);

-- A worker that registered, and what it runs (one version per workflow name).
CREATE TABLE stepline_workers (
    namespace_id text NOT NULL,
    worker_id text NOT NULL,
    task_queue text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace_id, worker_id)
);
CREATE TABLE stepline_worker_workflows (
    namespace_id text NOT NULL,
    worker_id text NOT NULL,
    workflow_name text NOT NULL,
    version text NOT NULL,
    PRIMARY KEY (namespace_id, worker_id, workflow_name),
    FOREIGN KEY (namespace_id, worker_id)
        REFERENCES stepline_workers (namespace_id, worker_id) ON DELETE CASCADE
);
-- The workers serving a workflow version (GetWorkflow's workers online).
CREATE INDEX stepline_worker_workflows_by_workflow
    ON stepline_worker_workflows (namespace_id, workflow_name, version);

-- Poison runs: lease expiries of a run with no progress in between (no step completed
-- since the lost lease's claim, claimed_at of migration 0003), counted when the expired
-- lease is taken back.
ALTER TABLE stepline_workflow_runs ADD COLUMN crash_count integer NOT NULL DEFAULT 0;
