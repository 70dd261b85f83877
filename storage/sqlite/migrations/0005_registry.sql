-- The workflow registry (RegisterWorker, ListWorkflows, GetWorkflow, PauseWorkflow,
-- ResumeWorkflow, ListWorkers); mirrors storage/postgres/migrations/0005_registry.sql.
-- The claim reads stepline_workflows (pause) and stepline_worker_workflows (versions) by
-- primary key, once per candidate run.

-- A workflow the server knows: registered by a worker, or paused by a client.
CREATE TABLE stepline_workflows (
    namespace_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT NOT NULL DEFAULT '',
    paused_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, workflow_name)
);

-- One registered version of a workflow, as the latest worker registering it described it.
CREATE TABLE stepline_workflow_versions (
    namespace_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    version TEXT NOT NULL,
    input_schema TEXT,
    triggers TEXT NOT NULL DEFAULT '[]',
    retry_policy TEXT,
    max_concurrency INTEGER NOT NULL DEFAULT 0,
    max_concurrency_per_key INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, workflow_name, version)
);

-- A worker that registered, and what it runs (one version per workflow name).
CREATE TABLE stepline_workers (
    namespace_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, worker_id)
);
CREATE TABLE stepline_worker_workflows (
    namespace_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    version TEXT NOT NULL,
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
ALTER TABLE stepline_workflow_runs ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
