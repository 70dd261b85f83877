-- Per-definition poison policy (tracker issue 15); mirrors
-- storage/sqlite/migrations/0009_poison_policy.sql.

-- max_crashes: the lease expiries in a row (no step completed) that make a run of this
-- version a poison run; NULL = the server's --max-crashes, 0 = no limit.
-- on_poison: FAIL (the run is FAILED with WORKER_CRASHED) or PAUSE (the workflow is
-- paused and the run goes back to PENDING).
ALTER TABLE stepline_workflow_versions ADD COLUMN max_crashes integer
    CHECK (max_crashes >= 0);
ALTER TABLE stepline_workflow_versions ADD COLUMN on_poison text NOT NULL DEFAULT 'FAIL'
    CHECK (on_poison IN ('FAIL', 'PAUSE'));

-- ResumeWorkflow starts the crash count of the workflow's PENDING runs again at 0 (a poison
-- run put back by PAUSE gets max_crashes claims again): the few runs it changes.
CREATE INDEX stepline_workflow_runs_crashed
    ON stepline_workflow_runs (namespace_id, workflow_name)
    WHERE status = 'PENDING' AND crash_count > 0;
