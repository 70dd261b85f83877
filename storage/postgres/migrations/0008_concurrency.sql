-- Concurrency limits (tracker issue 16); mirrors storage/sqlite/migrations/0008_concurrency.sql.
--
-- A workflow's limits live on its stepline_workflows row (the newest registered version's
-- values, written by the registration). A RUNNING run of a limited workflow holds a slot:
-- one row of stepline_concurrency_slots, taken by the claim (stepline_slot_take) and given
-- back by the trigger below whenever the run leaves RUNNING, whatever statement moves it
-- (complete, fail, retry, cancel, sleep, wait, release, deadline, a poison run failed).
-- A run whose lease expired keeps its slot until it is taken back: the claim that takes it
-- back keeps the slot for the new lease (or the trigger frees it when the run is failed).

ALTER TABLE stepline_workflows
    ADD COLUMN max_concurrency integer NOT NULL DEFAULT 0 CHECK (max_concurrency >= 0),
    ADD COLUMN max_concurrency_per_key integer NOT NULL DEFAULT 0
        CHECK (max_concurrency_per_key >= 0);

-- A version's default priority for the runs started without one (0: the server's, 3).
ALTER TABLE stepline_workflow_versions
    ADD COLUMN priority smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 5);

-- The namespace's workflows with limits, read by every claim (run_claim's full_groups).
CREATE INDEX stepline_workflows_limited ON stepline_workflows (namespace_id)
    WHERE max_concurrency > 0 OR max_concurrency_per_key > 0;

-- Whether the run holds a row of stepline_concurrency_slots: the trigger's cheap test, so
-- runs of workflows without limits never pay for the trigger's function.
ALTER TABLE stepline_workflow_runs ADD COLUMN holds_slot boolean NOT NULL DEFAULT false;

CREATE TABLE stepline_concurrency_slots (
    run_id uuid PRIMARY KEY REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    namespace_id text NOT NULL,
    workflow_name text NOT NULL,
    concurrency_key text,
    taken_at timestamptz NOT NULL DEFAULT now()
);
-- Counting a workflow's slots, and one key's.
CREATE INDEX stepline_concurrency_slots_by_key
    ON stepline_concurrency_slots (namespace_id, workflow_name, concurrency_key);

-- Takes a slot for the run (a row of stepline_concurrency_slots) when its workflow's limits
-- leave room; false when they do not, or when another claim is taking slots of the same
-- workflow at this moment (its stepline_workflows row is locked: that claim is skipped
-- rather than waited for, as FOR UPDATE SKIP LOCKED skips runs, so claims never deadlock).
-- The workflow's row is the workflow's lock: every claim taking one of its slots holds it
-- until it commits, so the counts below, statements with a snapshot taken after the lock,
-- see every slot taken by the claims before. Slots given back concurrently only make the
-- count high for a moment, never low: the limit is never exceeded.
CREATE FUNCTION stepline_slot_take(run uuid, ns text, wf text, ckey text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    limits record;
BEGIN
    SELECT max_concurrency, max_concurrency_per_key INTO limits FROM stepline_workflows
    WHERE namespace_id = ns AND workflow_name = wf
    FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF limits.max_concurrency > 0 AND (
        SELECT count(*) FROM stepline_concurrency_slots
        WHERE namespace_id = ns AND workflow_name = wf
    ) >= limits.max_concurrency THEN
        RETURN false;
    END IF;
    IF limits.max_concurrency_per_key > 0 AND ckey IS NOT NULL AND (
        SELECT count(*) FROM stepline_concurrency_slots
        WHERE namespace_id = ns AND workflow_name = wf AND concurrency_key = ckey
    ) >= limits.max_concurrency_per_key THEN
        RETURN false;
    END IF;
    INSERT INTO stepline_concurrency_slots (run_id, namespace_id, workflow_name, concurrency_key)
    VALUES (run, ns, wf, ckey);
    RETURN true;
END;
$$;

-- A run holding a slot left RUNNING: the slot is free, and the run's queue is woken so that
-- a run the limit held back is claimed at once (not at the poll fallback).
CREATE FUNCTION stepline_slot_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM stepline_concurrency_slots WHERE run_id = OLD.id;
    NEW.holds_slot := false;
    PERFORM pg_notify('stepline_wake', NEW.namespace_id || ':' || NEW.task_queue);
    RETURN NEW;
END;
$$;

CREATE TRIGGER stepline_slot_free
    BEFORE UPDATE OF status ON stepline_workflow_runs
    FOR EACH ROW
    WHEN (OLD.holds_slot AND NEW.status <> 'RUNNING')
    EXECUTE FUNCTION stepline_slot_free();

-- Limits registered before this migration apply from now on: the newest version's values,
-- and the runs already RUNNING hold their slots.
UPDATE stepline_workflows AS w SET
    max_concurrency = v.max_concurrency, max_concurrency_per_key = v.max_concurrency_per_key
FROM (
    SELECT DISTINCT ON (namespace_id, workflow_name)
        namespace_id, workflow_name, max_concurrency, max_concurrency_per_key
    FROM stepline_workflow_versions
    ORDER BY namespace_id, workflow_name, registered_at DESC, version DESC
) AS v
WHERE w.namespace_id = v.namespace_id AND w.workflow_name = v.workflow_name;

WITH adopted AS (
    UPDATE stepline_workflow_runs AS r SET holds_slot = true
    FROM stepline_workflows AS w
    WHERE w.namespace_id = r.namespace_id AND w.workflow_name = r.workflow_name
        AND (w.max_concurrency > 0 OR w.max_concurrency_per_key > 0)
        AND r.status = 'RUNNING'
    RETURNING r.id, r.namespace_id, r.workflow_name, r.concurrency_key
)
INSERT INTO stepline_concurrency_slots (run_id, namespace_id, workflow_name, concurrency_key)
SELECT id, namespace_id, workflow_name, concurrency_key FROM adopted;
