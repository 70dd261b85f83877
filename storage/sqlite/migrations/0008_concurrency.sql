-- Concurrency limits (tracker issue 16); mirrors storage/postgres/migrations/0008_concurrency.sql.
--
-- A workflow's limits live on its stepline_workflows row (the newest registered version's
-- values, written by the registration). A RUNNING run of a limited workflow holds a slot:
-- one row of stepline_concurrency_slots, taken by the claim (run_slot_take; the claim holds
-- the write lock, so its counts are exact) and given back by the trigger below whenever the
-- run leaves RUNNING, whatever statement moves it. A run whose lease expired keeps its slot
-- until it is taken back.

ALTER TABLE stepline_workflows ADD COLUMN max_concurrency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stepline_workflows ADD COLUMN max_concurrency_per_key INTEGER NOT NULL DEFAULT 0;

-- A version's default priority for the runs started without one (0: the server's, 3).
ALTER TABLE stepline_workflow_versions ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

-- Whether the run holds a row of stepline_concurrency_slots (the trigger's cheap test).
ALTER TABLE stepline_workflow_runs ADD COLUMN holds_slot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE stepline_concurrency_slots (
    run_id TEXT PRIMARY KEY REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    namespace_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    concurrency_key TEXT,
    taken_at INTEGER NOT NULL
);
-- Counting a workflow's slots, and one key's.
CREATE INDEX stepline_concurrency_slots_by_key
    ON stepline_concurrency_slots (namespace_id, workflow_name, concurrency_key);

-- A run holding a slot left RUNNING: the slot is free, and the run's queue is woken
-- (stepline_wakes) so that a run the limit held back is claimed at once.
CREATE TRIGGER stepline_slot_free
    AFTER UPDATE OF status ON stepline_workflow_runs
    FOR EACH ROW
    WHEN OLD.holds_slot AND NEW.status <> 'RUNNING'
BEGIN
    DELETE FROM stepline_concurrency_slots WHERE run_id = OLD.id;
    UPDATE stepline_workflow_runs SET holds_slot = 0 WHERE id = OLD.id;
    INSERT OR IGNORE INTO stepline_wakes (namespace_id, task_queue)
    VALUES (NEW.namespace_id, NEW.task_queue);
END;

-- Limits registered before this migration apply from now on: the newest version's values,
-- and the runs already RUNNING hold their slots.
UPDATE stepline_workflows SET
    max_concurrency = coalesce((
        SELECT v.max_concurrency FROM stepline_workflow_versions AS v
        WHERE v.namespace_id = stepline_workflows.namespace_id
            AND v.workflow_name = stepline_workflows.workflow_name
        ORDER BY v.registered_at DESC, v.version DESC LIMIT 1), 0),
    max_concurrency_per_key = coalesce((
        SELECT v.max_concurrency_per_key FROM stepline_workflow_versions AS v
        WHERE v.namespace_id = stepline_workflows.namespace_id
            AND v.workflow_name = stepline_workflows.workflow_name
        ORDER BY v.registered_at DESC, v.version DESC LIMIT 1), 0);

UPDATE stepline_workflow_runs SET holds_slot = 1
WHERE status = 'RUNNING' AND EXISTS (
    SELECT 1 FROM stepline_workflows AS w
    WHERE w.namespace_id = stepline_workflow_runs.namespace_id
        AND w.workflow_name = stepline_workflow_runs.workflow_name
        AND (w.max_concurrency > 0 OR w.max_concurrency_per_key > 0));

INSERT INTO stepline_concurrency_slots (run_id, namespace_id, workflow_name, concurrency_key, taken_at)
SELECT id, namespace_id, workflow_name, concurrency_key, updated_at
FROM stepline_workflow_runs WHERE holds_slot;
