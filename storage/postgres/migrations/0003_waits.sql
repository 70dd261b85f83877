-- Runs that wait: child runs, signals and events (RegisterWaits, SignalWorkflowRun,
-- SendEvent); mirrors storage/sqlite/migrations/0003_waits.sql.

-- A run parked on waits is WAITING; wait steps are CHILD, SIGNAL or EVENT.
ALTER TABLE stepline_workflow_runs DROP CONSTRAINT stepline_workflow_runs_status_check;
ALTER TABLE stepline_workflow_runs ADD CONSTRAINT stepline_workflow_runs_status_check CHECK (
    status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELED')
);
ALTER TABLE stepline_step_attempts DROP CONSTRAINT stepline_step_attempts_kind_check;
ALTER TABLE stepline_step_attempts ADD CONSTRAINT stepline_step_attempts_kind_check CHECK (
    kind IN ('FUNCTION', 'SLEEP', 'CHILD', 'SIGNAL', 'EVENT')
);

-- When the current execution's claim was made: the earliest an event caused by a step of
-- this execution can have been received (see stepline_waits.since).
ALTER TABLE stepline_workflow_runs ADD COLUMN claimed_at timestamptz;

-- A SIGNAL or EVENT step's name and an EVENT step's match, shown with the step.
ALTER TABLE stepline_step_attempts ADD COLUMN wait_name text;
ALTER TABLE stepline_step_attempts ADD COLUMN wait_match json;

-- The deadline sweep covers waiting runs too.
DROP INDEX stepline_workflow_runs_deadline;
CREATE INDEX stepline_workflow_runs_deadline
    ON stepline_workflow_runs (deadline_at)
    WHERE deadline_at IS NOT NULL
        AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING');

-- The children of a run: the parent_run_id list filter, and a cancel's recursion.
CREATE INDEX stepline_workflow_runs_list_parent
    ON stepline_workflow_runs (namespace_id, parent_run_id, created_at, id)
    WHERE parent_run_id IS NOT NULL;

-- The open waits, one row per RUNNING wait step, deleted when the wait is resolved: the
-- table holds only what is waited for, so its indexes stay small.
CREATE TABLE stepline_waits (
    step_attempt_id uuid PRIMARY KEY
        REFERENCES stepline_step_attempts (id) ON DELETE CASCADE,
    namespace_id text NOT NULL,
    workflow_run_id uuid NOT NULL REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('CHILD', 'SIGNAL', 'EVENT')),
    -- The signal or event name; NULL for a child.
    name text,
    -- EVENT: the fields the event's data must contain, and one of them (`match_key`, see
    -- storage/matching.py) by which the waits an event may match are found with an index;
    -- '' when the match has no scalar field.
    match json,
    match_key text,
    -- EVENT: events received at or after this time match (the start of the run's previous
    -- step attempt, or its execution's claim if earlier): none is lost.
    since timestamptz,
    -- When the wait times out; NULL waits forever.
    wake_up_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stepline_waits_by_run ON stepline_waits (workflow_run_id, created_at);
CREATE INDEX stepline_waits_timeout ON stepline_waits (wake_up_at) WHERE wake_up_at IS NOT NULL;
CREATE INDEX stepline_waits_event
    ON stepline_waits (namespace_id, name, match_key)
    WHERE kind = 'EVENT';

-- Signals: a run's inbox. Kept once consumed (consumed_at), as the run's history.
CREATE TABLE stepline_signals (
    id uuid PRIMARY KEY,
    namespace_id text NOT NULL,
    run_id uuid NOT NULL REFERENCES stepline_workflow_runs (id) ON DELETE CASCADE,
    signal_name text NOT NULL,
    payload json,
    idempotency_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    consumed_at timestamptz,
    consumed_by_step_attempt_id uuid
);
CREATE UNIQUE INDEX stepline_signals_idempotency
    ON stepline_signals (run_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX stepline_signals_inbox
    ON stepline_signals (run_id, signal_name, created_at, id)
    WHERE consumed_at IS NULL;

-- Events, and the runs each one resolved a wait of.
CREATE TABLE stepline_events (
    id uuid PRIMARY KEY,
    namespace_id text NOT NULL,
    event_name text NOT NULL,
    data json NOT NULL,
    idempotency_key text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX stepline_events_idempotency
    ON stepline_events (namespace_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX stepline_events_list ON stepline_events (namespace_id, received_at, id);
CREATE INDEX stepline_events_by_name
    ON stepline_events (namespace_id, event_name, received_at, id);

CREATE TABLE stepline_event_runs (
    event_id uuid NOT NULL REFERENCES stepline_events (id) ON DELETE CASCADE,
    run_id uuid NOT NULL,
    step_attempt_id uuid,
    -- 'RESUMED': the event resolved a wait of the run; 'STARTED': a trigger started it.
    relation text NOT NULL CHECK (relation IN ('RESUMED', 'STARTED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, run_id, relation)
);

-- A run whose waits are all resolved becomes claimable at once (PENDING), and the polls of
-- its queue on every server are woken. Called by whatever resolves a wait, in its own
-- transaction, after it deleted the wait. The run's row lock comes first, in a statement of
-- its own: two waits of one run resolved at once (two children ending) then take turns, and
-- the second one's check, a later statement with a fresh snapshot, sees the first one's
-- wait gone; checked in one statement, each could see the other's wait and neither wake it.
-- Returns the woken run's '<namespace>:<queue>' (NULL when it still waits), so that the
-- server that resolved the wait can also wake its own polls without the NOTIFY round trip.
CREATE FUNCTION stepline_wake_if_resolved(waiting uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    woken record;
BEGIN
    PERFORM 1 FROM stepline_workflow_runs WHERE id = waiting FOR NO KEY UPDATE;
    UPDATE stepline_workflow_runs SET
        status = 'PENDING', available_at = now(), wake_up_at = NULL, updated_at = now()
    WHERE id = waiting AND status = 'WAITING'
        AND NOT EXISTS (SELECT 1 FROM stepline_waits WHERE workflow_run_id = waiting)
    RETURNING namespace_id, task_queue INTO woken;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('stepline_wake', woken.namespace_id || ':' || woken.task_queue);
    RETURN woken.namespace_id || ':' || woken.task_queue;
END;
$$;

-- Whatever statement ends a run (completion, failure, cancel, deadline), in its transaction:
-- the run's own waits go; a canceled run's active children are canceled too (their own
-- trigger recurses to theirs), with the parent's error; and a child's end resolves its
-- parent's CHILD wait: the step is COMPLETED with the child's output, or with its Failure
-- in `error`.
CREATE FUNCTION stepline_run_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM stepline_waits WHERE workflow_run_id = NEW.id;
    IF NEW.status = 'CANCELED' THEN
        UPDATE stepline_step_attempts AS s SET
            status = 'FAILED', error = NEW.error, finished_at = now(), updated_at = now()
        FROM stepline_workflow_runs AS c
        WHERE c.namespace_id = NEW.namespace_id AND c.parent_run_id = NEW.id
            AND c.status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
            AND s.workflow_run_id = c.id AND s.status = 'RUNNING';
        UPDATE stepline_workflow_runs SET
            status = 'CANCELED', error = NEW.error, finished_at = now(), updated_at = now(),
            lease_expires_at = NULL, available_at = NULL, wake_up_at = NULL
        WHERE namespace_id = NEW.namespace_id AND parent_run_id = NEW.id
            AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING');
    END IF;
    IF NEW.parent_step_attempt_id IS NOT NULL THEN
        UPDATE stepline_step_attempts SET
            status = 'COMPLETED',
            output = NEW.output,
            error = CASE WHEN NEW.status = 'COMPLETED' THEN NULL ELSE NEW.error END,
            finished_at = now(),
            updated_at = now()
        WHERE id = NEW.parent_step_attempt_id AND status = 'RUNNING'
            AND EXISTS (
                SELECT 1 FROM stepline_workflow_runs
                WHERE id = NEW.parent_run_id AND status = 'WAITING'
            );
        IF FOUND THEN
            DELETE FROM stepline_waits WHERE step_attempt_id = NEW.parent_step_attempt_id;
            PERFORM stepline_wake_if_resolved(NEW.parent_run_id);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER stepline_run_ended
    AFTER UPDATE OF status ON stepline_workflow_runs
    FOR EACH ROW
    WHEN (NEW.status IN ('COMPLETED', 'FAILED', 'CANCELED')
        AND OLD.status NOT IN ('COMPLETED', 'FAILED', 'CANCELED'))
    EXECUTE FUNCTION stepline_run_ended();
