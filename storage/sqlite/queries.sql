-- Every statement of the SQLite backend. Times are microseconds since the Unix epoch;
-- :now is the transaction's clock reading. A worker call checks its lease under the
-- write lock before it writes (fencing.py), and statements that write a run the worker
-- holds repeat the fence in their WHERE clause.
--
-- Sections follow the backend's modules, as in storage/postgres/queries.sql: a statement
-- has the same name in both files (tests/storage/test_queries.py compares them).
-- `{{name}}` includes the `-- fragment: name` written once below (storage/sqlfile.py).

-- --- database ---------------------------------------------------------------------------

-- name: pragma_busy_timeout
PRAGMA busy_timeout = 5000

-- name: pragma_journal_mode_wal
PRAGMA journal_mode = WAL

-- name: pragma_synchronous_full
PRAGMA synchronous = FULL

-- name: pragma_foreign_keys_on
PRAGMA foreign_keys = ON

-- name: pragma_foreign_keys_off
-- Around migrations only, so that a table can be rebuilt (0003_waits.sql); each migration
-- runs foreign_key_check before it commits.
PRAGMA foreign_keys = OFF

-- name: foreign_key_check
PRAGMA foreign_key_check

-- name: pragma_recursive_triggers_on
-- A cancel's trigger cancels the run's children, whose own trigger cancels theirs.
PRAGMA recursive_triggers = ON

-- name: begin_immediate
BEGIN IMMEDIATE

-- name: begin_deferred
BEGIN

-- name: commit
COMMIT

-- name: rollback
ROLLBACK

-- name: wakes_table
-- Whether the database has stepline_wakes yet (a store opened before migrating).
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stepline_wakes'

-- name: wakes_take
-- The queues the transaction woke (run_notify, the stepline_run_ended trigger), taken
-- before it commits.
DELETE FROM stepline_wakes RETURNING namespace_id, task_queue

-- name: savepoint
-- Group commit: each call of a batch in a savepoint of the batch's one transaction, so
-- that a call that fails leaves nothing and the others commit.
SAVEPOINT call

-- name: savepoint_release
RELEASE SAVEPOINT call

-- name: savepoint_rollback
ROLLBACK TO SAVEPOINT call

-- name: ping
SELECT 1

-- --- schema -----------------------------------------------------------------------------

-- name: migrations_create_table
CREATE TABLE IF NOT EXISTS stepline_schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)

-- name: migrations_applied
SELECT version FROM stepline_schema_migrations ORDER BY version

-- name: migrations_record
INSERT INTO stepline_schema_migrations (version, name, applied_at)
VALUES (:version, :name, :now)

-- --- fencing ----------------------------------------------------------------------------

-- fragment: lease_fence
-- The lease fence: the run is RUNNING under the caller's lease, unexpired and not past
-- its deadline. Every statement that writes under a worker's lease includes it in its
-- WHERE clause, so a worker that lost its lease can never write.
id = :run_id AND namespace_id = :namespace_id
  AND status = 'RUNNING' AND lease_id = :lease_id AND lease_expires_at > :now
  AND (deadline_at IS NULL OR deadline_at > :now)

-- --- runs -------------------------------------------------------------------------------

-- name: run_insert
-- A second create with the same idempotency key inserts nothing and returns no row.
INSERT INTO stepline_workflow_runs (
    id, namespace_id, workflow_name, version, status, task_queue, input, context,
    idempotency_key, deadline_at, attempt, retry_initial_interval,
    retry_backoff_coefficient, retry_maximum_interval, retry_maximum_attempts,
    created_at, updated_at, available_at, priority, concurrency_key
) VALUES (
    :id, :namespace_id, :workflow_name, :version, 'PENDING', :task_queue, :input, :context,
    :idempotency_key, :deadline_at, 1, :retry_initial_interval,
    :retry_backoff_coefficient, :retry_maximum_interval, :retry_maximum_attempts,
    :now, :now, COALESCE(:start_at, :now), :priority, :concurrency_key
)
ON CONFLICT (namespace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *

-- name: run_by_idempotency_key
SELECT run.*, {{replay_count}}
FROM stepline_workflow_runs AS run
WHERE run.namespace_id = :namespace_id AND run.idempotency_key = :idempotency_key

-- fragment: replay_count
-- How many runs replay the run `run`, read from the replays index: a client's reads
-- show it (Run.replay_count); worker calls never pay for it.
(SELECT count(*) FROM stepline_workflow_runs AS replay
 WHERE replay.namespace_id = run.namespace_id AND replay.replay_of_run_id = run.id)
  AS replay_count

-- name: run_read
-- A run as a client reads it, with its replay_count.
SELECT run.*, {{replay_count}}
FROM stepline_workflow_runs AS run
WHERE run.namespace_id = :namespace_id AND run.id = :run_id

-- name: run_get
SELECT * FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id AND id = :run_id

-- name: run_cancel
-- The caller closes the run's open attempts (steps_close_open).
UPDATE stepline_workflow_runs
SET status = 'CANCELED', {{ended_with_error}}
WHERE id = :run_id AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
RETURNING *

-- --- listing ----------------------------------------------------------------------------

-- name: run_list
-- The filters and order placeholders take the pieces below (storage/paging.py); values
-- are always bound.
SELECT run.*, {{replay_count}}
FROM stepline_workflow_runs AS run
WHERE namespace_id = :namespace_id {filters}
ORDER BY {order}
LIMIT :limit

-- name: run_filter_status
-- One status: an equality, so that the (namespace_id, status, created_at, id) index
-- serves the filter and the order at once.
AND status = :status

-- name: run_filter_statuses
AND status IN (SELECT value FROM json_each(:statuses))

-- name: run_filter_workflow_name
AND workflow_name = :workflow_name

-- name: run_filter_task_queue
AND task_queue = :task_queue

-- name: run_filter_created_after
AND created_at >= :created_after

-- name: run_filter_created_before
AND created_at < :created_before

-- name: run_filter_replay_of_run_id
AND replay_of_run_id = :replay_of_run_id

-- name: run_filter_parent_run_id
AND parent_run_id = :parent_run_id

-- name: keyset_after
AND (created_at, id) > (:cursor_created_at, :cursor_id)

-- name: keyset_before
AND (created_at, id) < (:cursor_created_at, :cursor_id)

-- name: keyset_ascending
created_at ASC, id ASC

-- name: keyset_descending
created_at DESC, id DESC

-- name: step_list
-- The filters and order placeholders take the keyset pieces above.
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = :run_id {filters}
ORDER BY {order}
LIMIT :limit

-- name: run_count_by_queue
-- Queue depth for metrics: non-terminal runs only, each status served by a claim index.
SELECT namespace_id, task_queue, status, count(*) AS runs
FROM stepline_workflow_runs
WHERE status IN ('PENDING', 'SLEEPING', 'RUNNING')
GROUP BY namespace_id, task_queue, status
ORDER BY namespace_id, task_queue, status

-- name: slots_in_use
-- Concurrency slots held per workflow, with its limit (metrics).
SELECT s.namespace_id, s.workflow_name, count(*) AS in_use,
    coalesce(max(w.max_concurrency), 0) AS max_concurrency
FROM stepline_concurrency_slots AS s
LEFT JOIN stepline_workflows AS w
    ON w.namespace_id = s.namespace_id AND w.workflow_name = s.workflow_name
GROUP BY s.namespace_id, s.workflow_name
ORDER BY s.namespace_id, s.workflow_name

-- --- claim ------------------------------------------------------------------------------

-- name: run_claim_overdue
-- Due runs past their deadline: failed instead of claimed, up to 100 a claim (the sweep
-- does the rest).
SELECT id FROM (
    SELECT id, available_at FROM stepline_workflow_runs
    WHERE namespace_id = :namespace_id AND task_queue = :task_queue
      AND status IN ('PENDING', 'SLEEPING') AND available_at <= :now
      AND deadline_at <= :now
      AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
    UNION ALL
    SELECT id, available_at FROM stepline_workflow_runs
    WHERE namespace_id = :namespace_id AND task_queue = :task_queue
      AND status = 'RUNNING' AND available_at <= :now
      AND deadline_at <= :now
      AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
)
ORDER BY available_at, id
LIMIT 100

-- fragment: claimable
-- A run is claimed only while its workflow is not paused, and only by a worker that
-- registered its (workflow_name, version); a run with no version goes to any version of
-- its name, and a worker that registered a name with no version (unversioned code) takes
-- any version of it. A worker that registered nothing (an older SDK, or no worker_id)
-- claims any version. Each test is a primary-key lookup per candidate run.
NOT EXISTS (SELECT 1 FROM stepline_workflows AS paused
    WHERE paused.namespace_id = stepline_workflow_runs.namespace_id
        AND paused.workflow_name = stepline_workflow_runs.workflow_name AND paused.paused)
AND (NOT EXISTS (SELECT 1 FROM stepline_worker_workflows AS served
        WHERE served.namespace_id = :namespace_id AND served.worker_id = :worker_id)
    OR EXISTS (SELECT 1 FROM stepline_worker_workflows AS served
        WHERE served.namespace_id = :namespace_id AND served.worker_id = :worker_id
            AND served.workflow_name = stepline_workflow_runs.workflow_name
            AND (served.version = stepline_workflow_runs.version
                OR served.version = '' OR stepline_workflow_runs.version = '')))

-- name: run_claim_candidates
-- Due PENDING/SLEEPING runs by priority (1 first) then oldest first, then RUNNING runs
-- whose lease expired, oldest first, with the crashes they count: crash_count + 1, or 1
-- again when a step completed since the lost lease's claim (claimed_at), and their
-- definition's crash limit (NULL: the server's) and poison policy. One range read
-- of the claim_ready index per priority, each stopping at its first run not yet due, so
-- runs parked in the future are never walked over; the merge orders at most 6 x :limit
-- rows. `limited`: whether the run must take a slot (run_slot_take) to be claimed; runs of
-- a full workflow or key are passed over (within_limits).
WITH {{full_groups}}
SELECT id, status, available_at, crashes, crash_limit, on_poison, workflow_name,
    concurrency_key,
    tier = 0 AND EXISTS (SELECT 1 FROM stepline_workflows AS w
        WHERE w.namespace_id = :namespace_id AND w.workflow_name = candidate.workflow_name
            AND (w.max_concurrency > 0 OR w.max_concurrency_per_key > 0)) AS limited
FROM (
    SELECT * FROM (
        SELECT id, status, 0 AS tier, 1 AS priority, available_at, NULL AS crashes,
            NULL AS crash_limit, NULL AS on_poison, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE priority = 1 AND {{claim_ready_queue}}
        ORDER BY available_at, id
        LIMIT :limit
    )
    UNION ALL
    SELECT * FROM (
        SELECT id, status, 0 AS tier, 2 AS priority, available_at, NULL AS crashes,
            NULL AS crash_limit, NULL AS on_poison, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE priority = 2 AND {{claim_ready_queue}}
        ORDER BY available_at, id
        LIMIT :limit
    )
    UNION ALL
    SELECT * FROM (
        SELECT id, status, 0 AS tier, 3 AS priority, available_at, NULL AS crashes,
            NULL AS crash_limit, NULL AS on_poison, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE priority = 3 AND {{claim_ready_queue}}
        ORDER BY available_at, id
        LIMIT :limit
    )
    UNION ALL
    SELECT * FROM (
        SELECT id, status, 0 AS tier, 4 AS priority, available_at, NULL AS crashes,
            NULL AS crash_limit, NULL AS on_poison, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE priority = 4 AND {{claim_ready_queue}}
        ORDER BY available_at, id
        LIMIT :limit
    )
    UNION ALL
    SELECT * FROM (
        SELECT id, status, 0 AS tier, 5 AS priority, available_at, NULL AS crashes,
            NULL AS crash_limit, NULL AS on_poison, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE priority = 5 AND {{claim_ready_queue}}
        ORDER BY available_at, id
        LIMIT :limit
    )
    UNION ALL
    SELECT * FROM (
        SELECT id, status, 1 AS tier, 0 AS priority, available_at,
            CASE WHEN EXISTS (SELECT 1 FROM stepline_step_attempts AS h
                    WHERE h.workflow_run_id = stepline_workflow_runs.id
                      AND h.status = 'COMPLETED'
                      AND h.finished_at >= stepline_workflow_runs.claimed_at)
                THEN 1 ELSE crash_count + 1 END AS crashes,
            (SELECT d.max_crashes {{run_definition}}) AS crash_limit,
            (SELECT d.on_poison {{run_definition}}) AS on_poison,
            workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE namespace_id = :namespace_id AND task_queue = :task_queue
          AND status = 'RUNNING' AND available_at <= :now
          AND (deadline_at IS NULL OR deadline_at > :now)
          AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
          AND {{claimable}}
        ORDER BY available_at, id
        LIMIT :limit
    )
) AS candidate
ORDER BY tier, priority, available_at, id
LIMIT :limit

-- fragment: run_definition
-- The registered definition of the code that crashed an expired run, for its crash limit
-- and poison policy: the run's version's; for a run with no version (a schedule's fire,
-- a start before anything registered) the version the worker that lost the lease
-- registered. Primary-key lookups only.
FROM stepline_workflow_versions AS d
WHERE d.namespace_id = stepline_workflow_runs.namespace_id
    AND d.workflow_name = stepline_workflow_runs.workflow_name
    AND d.version = CASE WHEN stepline_workflow_runs.version <> ''
        THEN stepline_workflow_runs.version
        ELSE coalesce((SELECT lost.version FROM stepline_worker_workflows AS lost
            WHERE lost.namespace_id = stepline_workflow_runs.namespace_id
                AND lost.worker_id = stepline_workflow_runs.worker_id
                AND lost.workflow_name = stepline_workflow_runs.workflow_name), '') END

-- fragment: claim_ready_queue
-- The due PENDING/SLEEPING runs of the queue (of each priority, in run_claim_candidates).
namespace_id = :namespace_id AND task_queue = :task_queue
AND status IN ('PENDING', 'SLEEPING') AND available_at <= :now
AND (deadline_at IS NULL OR deadline_at > :now)
AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
AND {{claimable}}
AND {{within_limits}}

-- fragment: full_groups
-- The workflows (concurrency_key NULL) and concurrency keys whose limit is reached: their
-- due runs are passed over by the claim and by run_next_due. One read of the namespace's
-- slots (none for workflows without limits).
full_groups AS MATERIALIZED (
    SELECT s.workflow_name, NULL AS concurrency_key
    FROM stepline_concurrency_slots AS s
    JOIN stepline_workflows AS w
        ON w.namespace_id = s.namespace_id AND w.workflow_name = s.workflow_name
    WHERE s.namespace_id = :namespace_id AND w.max_concurrency > 0
    GROUP BY s.workflow_name, w.max_concurrency
    HAVING count(*) >= w.max_concurrency
    UNION ALL
    SELECT s.workflow_name, s.concurrency_key
    FROM stepline_concurrency_slots AS s
    JOIN stepline_workflows AS w
        ON w.namespace_id = s.namespace_id AND w.workflow_name = s.workflow_name
    WHERE s.namespace_id = :namespace_id AND w.max_concurrency_per_key > 0
        AND s.concurrency_key IS NOT NULL
    GROUP BY s.workflow_name, s.concurrency_key, w.max_concurrency_per_key
    HAVING count(*) >= w.max_concurrency_per_key
)

-- fragment: within_limits
-- A due run is passed over while its workflow or its concurrency key is full (full_groups).
NOT EXISTS (SELECT 1 FROM full_groups AS f
    WHERE f.workflow_name = stepline_workflow_runs.workflow_name
        AND (f.concurrency_key IS NULL
            OR f.concurrency_key = stepline_workflow_runs.concurrency_key))

-- name: run_slot_take
-- Takes a slot for a due run of a workflow with limits when they leave room (no row when
-- they do not). The claim holds the write lock, so the counts are exact.
INSERT INTO stepline_concurrency_slots (
    run_id, namespace_id, workflow_name, concurrency_key, taken_at
)
SELECT :run_id, w.namespace_id, w.workflow_name, :concurrency_key, :now
FROM stepline_workflows AS w
WHERE w.namespace_id = :namespace_id AND w.workflow_name = :workflow_name
    AND (w.max_concurrency = 0 OR (
        SELECT count(*) FROM stepline_concurrency_slots AS s
        WHERE s.namespace_id = w.namespace_id AND s.workflow_name = w.workflow_name
    ) < w.max_concurrency)
    AND (w.max_concurrency_per_key = 0 OR :concurrency_key IS NULL OR (
        SELECT count(*) FROM stepline_concurrency_slots AS s
        WHERE s.namespace_id = w.namespace_id AND s.workflow_name = w.workflow_name
            AND s.concurrency_key = :concurrency_key
    ) < w.max_concurrency_per_key)
RETURNING run_id

-- name: run_claim
-- Claims one candidate of run_claim_candidates, still in the status it was read in.
UPDATE stepline_workflow_runs
SET status = 'RUNNING', lease_id = :lease_id, lease_expires_at = :lease_expires_at,
    available_at = :lease_expires_at, worker_id = :worker_id,
    started_at = COALESCE(started_at, :now), wake_up_at = NULL, updated_at = :now,
    crash_count = COALESCE(:crashes, crash_count), claimed_at = :now,
    holds_slot = holds_slot OR :takes_slot
WHERE id = :run_id AND status = :expected_status
RETURNING *

-- name: run_fail_crashed
-- A poison run, failed instead of claimed: its expired leases were taken back
-- max_crashes times in a row with no step completed in between.
UPDATE stepline_workflow_runs
SET status = 'FAILED', error = :error, crash_count = :crashes, finished_at = :now,
    lease_expires_at = NULL, available_at = NULL, wake_up_at = NULL, updated_at = :now
WHERE id = :run_id AND status = 'RUNNING'
RETURNING id, namespace_id, workflow_name

-- name: run_put_back_poisoned
-- A poison run of a definition with on_poison PAUSE: back to PENDING as a release leaves
-- a run (no lease, no worker, due at once), its crash_count kept until ResumeWorkflow.
UPDATE stepline_workflow_runs
SET status = 'PENDING', crash_count = :crashes, lease_id = NULL, lease_expires_at = NULL,
    worker_id = NULL, available_at = :now, wake_up_at = NULL, updated_at = :now
WHERE id = :run_id AND status = 'RUNNING'
RETURNING id, namespace_id, workflow_name, crash_count

-- name: workflow_pause_poisoned
-- The poison run's workflow is paused, as PauseWorkflow pauses it, with a reason naming
-- the run and its crashes.
INSERT INTO stepline_workflows (
    namespace_id, workflow_name, paused, paused_reason, paused_at, created_at
) VALUES (:namespace_id, :workflow_name, 1,
    'poison run ' || :run_id || ': its workers crashed ' || :crashes
        || ' times in a row with no step completed (on_poison=pause)',
    :now, :now)
ON CONFLICT (namespace_id, workflow_name) DO UPDATE SET
    paused = 1,
    -- A second poison run in the same claim keeps the first one's reason.
    paused_reason = CASE WHEN stepline_workflows.paused THEN stepline_workflows.paused_reason
        ELSE excluded.paused_reason END,
    paused_at = coalesce(stepline_workflows.paused_at, :now)

-- name: steps_complete_open_sleep
-- A SLEEPING run was claimed: its sleep is over.
UPDATE stepline_step_attempts
SET status = 'COMPLETED', finished_at = :now, updated_at = :now
WHERE workflow_run_id = :run_id AND status = 'RUNNING' AND kind = 'SLEEP'

-- name: run_next_due
-- How long until a run of the queue becomes due (negative when one is due already): the
-- earliest available_at of each claim index, read from the front of the index (of
-- claim_ready, once per priority: a correlated read for each of 1 to 5). Runs held back by
-- a full concurrency limit are not due: the slot freed for them wakes the queue.
WITH {{full_groups}}
SELECT MIN(available_at) - :now AS due_in FROM (
    SELECT (
        SELECT available_at FROM stepline_workflow_runs
        WHERE namespace_id = :namespace_id AND task_queue = :task_queue
          AND priority = level.column1 AND status IN ('PENDING', 'SLEEPING')
          AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
          AND {{claimable}}
          AND {{within_limits}}
        ORDER BY available_at
        LIMIT 1
    ) AS available_at
    FROM (VALUES (1), (2), (3), (4), (5)) AS level
    UNION ALL
    SELECT * FROM (
        SELECT available_at FROM stepline_workflow_runs
        WHERE namespace_id = :namespace_id AND task_queue = :task_queue
          AND status = 'RUNNING'
          AND (:any_workflow OR workflow_name IN (SELECT value FROM json_each(:workflow_names)))
          AND {{claimable}}
        ORDER BY available_at
        LIMIT 1
    )
)

-- name: steps_of_runs
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id IN (SELECT value FROM json_each(:run_ids))
ORDER BY workflow_run_id, created_at, id

-- --- steps ------------------------------------------------------------------------------

-- name: step_complete_attempt
UPDATE stepline_step_attempts
SET status = 'COMPLETED', output = :output, worker_id = COALESCE(:worker_id, worker_id),
    finished_at = :now, updated_at = :now
WHERE id = :step_attempt_id AND status = 'RUNNING'
RETURNING *

-- name: step_get
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = :run_id AND id = :step_attempt_id

-- name: steps_of_step_id
-- Unordered, so that SQLite searches the by_step index rather than walking the run's
-- whole history in order (rules.recorded_step needs no order).
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = :run_id AND step_id = :step_id

-- name: step_insert
-- The attempt number counts the step_id's earlier attempts in the run.
INSERT INTO stepline_step_attempts (
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, worker_id, wake_up_at, started_at, finished_at, created_at, updated_at,
    child_workflow_run_id, wait_name, wait_match
) VALUES (
    :id, :namespace_id, :run_id, :step_id, :kind, :status,
    (SELECT COUNT(*) + 1 FROM stepline_step_attempts
     WHERE workflow_run_id = :run_id AND step_id = :step_id),
    :config, :context, :output, :error, :worker_id, :wake_up_at, :now, :finished_at,
    :now, :now, :child_workflow_run_id, :wait_name, :wait_match
)
RETURNING *

-- name: step_fail_attempt
UPDATE stepline_step_attempts
SET status = 'FAILED', error = :error, worker_id = COALESCE(:worker_id, worker_id),
    finished_at = :now, updated_at = :now
WHERE id = :step_attempt_id AND status = 'RUNNING'
RETURNING *

-- --- execution --------------------------------------------------------------------------

-- name: run_heartbeat
UPDATE stepline_workflow_runs
SET lease_expires_at = :lease_expires_at, available_at = :lease_expires_at,
    worker_id = COALESCE(:worker_id, worker_id), updated_at = :now
WHERE {{lease_fence}}
RETURNING lease_expires_at

-- name: run_complete
-- The caller closed the run's open attempts (steps_close_open).
UPDATE stepline_workflow_runs
SET status = 'COMPLETED', output = :output, error = NULL, finished_at = :now,
    available_at = NULL, lease_expires_at = NULL, worker_id = COALESCE(:worker_id, worker_id),
    updated_at = :now
WHERE {{lease_fence}}
RETURNING *

-- name: run_release
-- ReleaseRun: PENDING and due now, attempt and error unchanged, no lease or worker. The
-- caller closed the run's open attempts (steps_close_open).
UPDATE stepline_workflow_runs
SET status = 'PENDING', available_at = :now, lease_id = NULL, lease_expires_at = NULL,
    worker_id = NULL, wake_up_at = NULL, updated_at = :now
WHERE {{lease_fence}}
RETURNING *

-- name: run_notify
-- Wakes the queue's polls once the transaction commits (wakes_take), as PostgreSQL's
-- pg_notify.
INSERT OR IGNORE INTO stepline_wakes (namespace_id, task_queue)
VALUES (:namespace_id, :task_queue)

-- --- endings ----------------------------------------------------------------------------

-- fragment: ended_with_error
-- A run ended from outside its execution (canceled, past its deadline) keeps :error,
-- finishes now, and has no lease, due time or wake-up left.
error = :error, finished_at = :now, available_at = NULL, lease_expires_at = NULL,
    wake_up_at = NULL, updated_at = :now

-- name: steps_close_open
-- Whenever a run leaves RUNNING (or a SLEEPING run ends), its open step attempts fail
-- with :error.
UPDATE stepline_step_attempts
SET status = 'FAILED', error = :error, finished_at = :now, updated_at = :now
WHERE workflow_run_id = :run_id AND status = 'RUNNING'

-- name: run_end_execution
-- Ends an execution (retry, failure or sleep): the run leaves RUNNING for :status. The
-- caller closed the run's open attempts first.
UPDATE stepline_workflow_runs
SET status = :status, attempt = :attempt, error = COALESCE(:error, error),
    worker_id = COALESCE(:worker_id, worker_id), finished_at = :finished_at,
    wake_up_at = :wake_up_at, available_at = :available_at, lease_expires_at = NULL,
    updated_at = :now
WHERE {{lease_fence}}
RETURNING *

-- fragment: fail_overdue_runs
-- Active runs past their deadline become FAILED with :error; the statement says which
-- (the caller closes their open attempts).
UPDATE stepline_workflow_runs
SET status = 'FAILED', {{ended_with_error}}
WHERE status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING') AND deadline_at <= :now

-- name: run_fail_overdue
-- The sweep: fails up to :limit runs past their deadline, the earliest deadline first.
{{fail_overdue_runs}}
  AND id IN (
    SELECT id FROM stepline_workflow_runs
    WHERE deadline_at IS NOT NULL AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
      AND deadline_at <= :now
    ORDER BY deadline_at
    LIMIT :limit
  )
RETURNING id, namespace_id, workflow_name

-- name: run_fail_overdue_one
-- Fails one run past its deadline: at claim, or for a worker call that found it so.
{{fail_overdue_runs}}
  AND id = :run_id
RETURNING id, namespace_id, workflow_name

-- --- batches ----------------------------------------------------------------------------

-- name: run_batch_pick
-- One chunk of a batch: the next :limit runs matching the list filters, oldest first
-- (the filters placeholder takes run_filter_*, run_batch_as_of and keyset_after).
SELECT id, created_at, status, context FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id {filters}
ORDER BY created_at ASC, id ASC
LIMIT :limit

-- name: run_batch_as_of
-- A batch covers the runs created before its first chunk began.
AND created_at < :as_of

-- name: run_batch_cancel
-- The active runs among :run_ids (a JSON array) become CANCELED with :error; the caller
-- closes their open attempts (steps_close_open_of_runs).
UPDATE stepline_workflow_runs
SET status = 'CANCELED', {{ended_with_error}}
WHERE id IN (SELECT value FROM json_each(:run_ids))
  AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
RETURNING id, namespace_id, workflow_name

-- name: steps_close_open_of_runs
-- steps_close_open for every run of :run_ids (a JSON array) at once.
UPDATE stepline_step_attempts
SET status = 'FAILED', error = :error, finished_at = :now, updated_at = :now
WHERE workflow_run_id IN (SELECT value FROM json_each(:run_ids)) AND status = 'RUNNING'

-- --- replays ----------------------------------------------------------------------------

-- name: step_history_of_runs
-- What a replay plan reads of the originals' histories (storage/replay.py).
SELECT id, workflow_run_id, step_id, status FROM stepline_step_attempts
WHERE workflow_run_id IN (SELECT value FROM json_each(:run_ids))
ORDER BY workflow_run_id, created_at, id

-- name: run_replay_insert
-- The new runs of a replay plan: :replays is a JSON array of {source, id, context}. Each
-- copies its source's workflow, version, task queue and retry policy, and its deadline
-- as long after now as the source's was after its creation. A run batch :batch_id
-- replayed before, or an idempotency key taken, inserts nothing (the caller reads what
-- is there). (`WHERE true` keeps SQLite from reading ON CONFLICT as a join's ON.)
INSERT INTO stepline_workflow_runs (
    id, namespace_id, workflow_name, version, status, task_queue, input, context,
    idempotency_key, deadline_at, attempt, retry_initial_interval,
    retry_backoff_coefficient, retry_maximum_interval, retry_maximum_attempts,
    created_at, updated_at, available_at, replay_of_run_id, replay_batch_id, priority,
    concurrency_key
)
SELECT new.value ->> '$.id', o.namespace_id, o.workflow_name, o.version, 'PENDING',
    o.task_queue, CASE WHEN :has_input THEN :input ELSE o.input END,
    new.value ->> '$.context', :idempotency_key, :now + (o.deadline_at - o.created_at), 1,
    o.retry_initial_interval, o.retry_backoff_coefficient, o.retry_maximum_interval,
    o.retry_maximum_attempts, :now, :now, :now, o.id, :batch_id, o.priority,
    o.concurrency_key
FROM json_each(:replays) AS new
JOIN stepline_workflow_runs AS o ON o.id = new.value ->> '$.source'
WHERE true
ON CONFLICT DO NOTHING
RETURNING *

-- name: steps_copy
-- Copies attempts into replays: :copies is a JSON array of {source, id, run}. Every
-- column is copied but the attempt's identity, run and record times, whatever its kind.
INSERT INTO stepline_step_attempts (
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, child_workflow_run_id, worker_id, wake_up_at, started_at, finished_at,
    created_at, updated_at, copied_from_step_attempt_id, wait_name, wait_match
)
SELECT copy.value ->> '$.id', s.namespace_id, copy.value ->> '$.run', s.step_id, s.kind,
    s.status, s.attempt, s.config, s.context, s.output, s.error, s.child_workflow_run_id,
    s.worker_id, s.wake_up_at, s.started_at, s.finished_at, :now, :now, s.id, s.wait_name,
    s.wait_match
FROM json_each(:copies) AS copy
JOIN stepline_step_attempts AS s ON s.id = copy.value ->> '$.source'

-- name: run_replays_of_batch
-- The replays batch :batch_id made of :sources (a JSON array), for a repeated chunk.
SELECT id, replay_of_run_id FROM stepline_workflow_runs
WHERE replay_of_run_id IN (SELECT value FROM json_each(:sources))
  AND replay_batch_id = :batch_id

-- --- waits ------------------------------------------------------------------------------

-- name: step_latest_started
-- When the run's latest step attempt started (the `since` of an event wait).
SELECT started_at FROM stepline_step_attempts
WHERE workflow_run_id = :run_id
ORDER BY created_at DESC, id DESC
LIMIT 1

-- name: child_run_insert
INSERT INTO stepline_workflow_runs (
    id, namespace_id, workflow_name, version, status, task_queue, input, context, attempt,
    retry_initial_interval, retry_backoff_coefficient, retry_maximum_interval,
    retry_maximum_attempts, created_at, updated_at, available_at, parent_run_id,
    parent_step_attempt_id
) VALUES (
    :id, :namespace_id, :workflow_name, :version, 'PENDING', :task_queue, :input, :context, 1,
    :retry_initial_interval, :retry_backoff_coefficient, :retry_maximum_interval,
    :retry_maximum_attempts, :now, :now, :now, :parent_run_id, :parent_step_attempt_id
)
RETURNING *

-- name: wait_insert
INSERT INTO stepline_waits (
    step_attempt_id, namespace_id, workflow_run_id, kind, name, match, match_key, since,
    wake_up_at, created_at
) VALUES (
    :step_attempt_id, :namespace_id, :run_id, :kind, :name, :match, :match_key, :since,
    :wake_up_at, :now
)

-- name: wait_resolve
-- Completes an open wait's step with :output (NULL: timed out); the caller deletes the
-- wait (wait_delete) and wakes the run if it has no wait left.
UPDATE stepline_step_attempts
SET status = 'COMPLETED', output = :output, finished_at = :now, updated_at = :now
WHERE id = :step_attempt_id AND status = 'RUNNING'
RETURNING *

-- name: wait_delete
DELETE FROM stepline_waits WHERE step_attempt_id = :step_attempt_id

-- name: run_wake_if_resolved
-- A WAITING run with no wait left is claimable at once.
UPDATE stepline_workflow_runs
SET status = 'PENDING', available_at = :now, wake_up_at = NULL, updated_at = :now
WHERE id = :run_id AND status = 'WAITING'
    AND NOT EXISTS (SELECT 1 FROM stepline_waits WHERE workflow_run_id = :run_id)
RETURNING namespace_id, task_queue

-- name: waits_timed_out
SELECT step_attempt_id, workflow_run_id FROM stepline_waits
WHERE wake_up_at IS NOT NULL AND wake_up_at <= :now
ORDER BY wake_up_at
LIMIT :limit

-- --- signals ----------------------------------------------------------------------------

-- name: signal_by_idempotency_key
SELECT * FROM stepline_signals WHERE run_id = :run_id AND idempotency_key = :idempotency_key

-- name: signal_insert
INSERT INTO stepline_signals (
    id, namespace_id, run_id, signal_name, payload, idempotency_key, created_at
) VALUES (:id, :namespace_id, :run_id, :signal_name, :payload, :idempotency_key, :now)
RETURNING *

-- name: signal_oldest
-- The run's oldest signal of the name not yet consumed.
SELECT * FROM stepline_signals
WHERE run_id = :run_id AND signal_name = :signal_name AND consumed_at IS NULL
ORDER BY created_at, id
LIMIT 1

-- name: signal_consume
UPDATE stepline_signals
SET consumed_at = :now, consumed_by_step_attempt_id = :step_attempt_id
WHERE id = :signal_id
RETURNING *

-- name: wait_for_signal
-- The run's oldest open wait for the signal name.
SELECT step_attempt_id FROM stepline_waits
WHERE workflow_run_id = :run_id AND kind = 'SIGNAL' AND name = :signal_name
ORDER BY created_at, step_attempt_id
LIMIT 1

-- --- events -----------------------------------------------------------------------------

-- name: event_by_idempotency_key
SELECT * FROM stepline_events
WHERE namespace_id = :namespace_id AND idempotency_key = :idempotency_key

-- name: event_insert
INSERT INTO stepline_events (id, namespace_id, event_name, data, idempotency_key, received_at)
VALUES (:id, :namespace_id, :event_name, :data, :idempotency_key, :now)
ON CONFLICT (namespace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *

-- name: event_get
SELECT * FROM stepline_events WHERE namespace_id = :namespace_id AND id = :event_id

-- name: events_since
-- The events of a name received at or after :since, oldest first: an event wait being
-- registered takes the first one it matches.
SELECT * FROM stepline_events
WHERE namespace_id = :namespace_id AND event_name = :event_name AND received_at >= :since
ORDER BY received_at, id

-- name: waits_for_event
-- The open event waits an event may resolve: those whose match_key is one of the event's
-- keys (storage/matching.py), registered for events received at or before it.
SELECT w.step_attempt_id, w.workflow_run_id, w.match FROM stepline_waits AS w
WHERE w.kind = 'EVENT' AND w.namespace_id = :namespace_id AND w.name = :event_name
    AND w.match_key IN (SELECT value FROM json_each(:keys))
    AND w.since <= :received_at
ORDER BY w.step_attempt_id

-- name: event_run_insert
INSERT INTO stepline_event_runs (event_id, run_id, step_attempt_id, relation, created_at)
VALUES (:event_id, :run_id, :step_attempt_id, 'RESUMED', :now)
ON CONFLICT DO NOTHING

-- name: event_run_started
-- A run an event trigger started (in the event's transaction).
INSERT INTO stepline_event_runs (event_id, run_id, relation, created_at)
VALUES (:event_id, :run_id, 'STARTED', :now)

-- name: event_runs
-- One page of an event's runs, keyset on (when the event reached the run, run_id): after
-- the previous page's last key (the epoch and the nil UUID for the first page).
SELECT r.*, e.relation, e.created_at AS linked_at FROM stepline_event_runs AS e
JOIN stepline_workflow_runs AS r ON r.id = e.run_id
WHERE e.event_id = :event_id
    AND (e.created_at, e.run_id) > (:after_at, :after_id)
ORDER BY e.created_at, e.run_id
LIMIT :limit

-- name: event_list
-- A keyset list like run_list: received_at is the list's created_at.
SELECT * FROM (
    SELECT e.*, e.received_at AS created_at FROM stepline_events AS e
    WHERE e.namespace_id = :namespace_id
) AS event
WHERE true {filters}
ORDER BY {order}
LIMIT :limit

-- name: event_filter_event_name
AND event_name = :event_name

-- name: event_filter_received_after
AND created_at >= :received_after

-- name: event_filter_received_before
AND created_at < :received_before

-- --- access -----------------------------------------------------------------------------

-- name: namespace_insert
INSERT INTO stepline_namespaces (namespace_id, description, retention, created_at)
VALUES (:namespace_id, :description, :retention, :now)
ON CONFLICT (namespace_id) DO NOTHING
RETURNING *

-- name: namespace_get
SELECT * FROM stepline_namespaces WHERE namespace_id = :namespace_id

-- name: namespace_list
SELECT * FROM stepline_namespaces WHERE namespace_id > :after
ORDER BY namespace_id LIMIT :limit

-- name: namespace_update
UPDATE stepline_namespaces SET
    description = coalesce(:description, description),
    retention = coalesce(:retention, retention)
WHERE namespace_id = :namespace_id
RETURNING *

-- name: api_key_insert
INSERT INTO stepline_api_keys (key_id, namespace_id, name, role, secret_sha256, created_at)
VALUES (:key_id, :namespace_id, :name, :role, :secret_sha256, :now)
RETURNING *

-- name: api_key_get
SELECT * FROM stepline_api_keys WHERE key_id = :key_id

-- name: api_key_list
SELECT * FROM stepline_api_keys WHERE namespace_id = :namespace_id
ORDER BY created_at, key_id

-- name: api_key_revoke
UPDATE stepline_api_keys SET revoked_at = coalesce(revoked_at, :now)
WHERE key_id = :key_id AND namespace_id = :namespace_id
RETURNING *

-- name: api_key_touch
UPDATE stepline_api_keys SET last_used_at = :now
WHERE key_id IN (SELECT value FROM json_each(:key_ids))

-- --- registry ---------------------------------------------------------------------------

-- name: worker_upsert
-- A worker registering (again): what it runs is replaced by worker_workflows_clear and
-- worker_workflow_insert in the same transaction.
INSERT INTO stepline_workers (namespace_id, worker_id, task_queue, registered_at, last_seen_at)
VALUES (:namespace_id, :worker_id, :task_queue, :now, :now)
ON CONFLICT (namespace_id, worker_id) DO UPDATE SET
    task_queue = excluded.task_queue, registered_at = :now, last_seen_at = :now

-- name: worker_workflows_clear
DELETE FROM stepline_worker_workflows
WHERE namespace_id = :namespace_id AND worker_id = :worker_id

-- name: worker_workflow_insert
INSERT INTO stepline_worker_workflows (namespace_id, worker_id, workflow_name, version)
VALUES (:namespace_id, :worker_id, :workflow_name, :version)

-- name: workflow_insert
INSERT INTO stepline_workflows (namespace_id, workflow_name, created_at)
VALUES (:namespace_id, :workflow_name, :now)
ON CONFLICT (namespace_id, workflow_name) DO NOTHING

-- name: workflow_version_upsert
-- The latest registration describes the version; registered_at stays the first one's.
INSERT INTO stepline_workflow_versions (
    namespace_id, workflow_name, version, input_schema, triggers, retry_policy,
    max_concurrency, max_concurrency_per_key, priority, max_crashes, on_poison, registered_at
) VALUES (
    :namespace_id, :workflow_name, :version, :input_schema,
    :triggers, :retry_policy, :max_concurrency,
    :max_concurrency_per_key, :priority, :max_crashes, :on_poison, :now
)
ON CONFLICT (namespace_id, workflow_name, version) DO UPDATE SET
    input_schema = excluded.input_schema,
    triggers = excluded.triggers,
    retry_policy = excluded.retry_policy,
    max_concurrency = excluded.max_concurrency,
    max_concurrency_per_key = excluded.max_concurrency_per_key,
    priority = excluded.priority,
    max_crashes = excluded.max_crashes,
    on_poison = excluded.on_poison

-- name: workflow_limits_update
-- The workflow's limits are its newest registered version's (the version first registered
-- last; registering that version again with other limits changes them). Answers a row
-- only when they changed.
UPDATE stepline_workflows SET
    max_concurrency = v.max_concurrency, max_concurrency_per_key = v.max_concurrency_per_key
FROM (
    SELECT max_concurrency, max_concurrency_per_key FROM stepline_workflow_versions
    WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
    ORDER BY registered_at DESC, version DESC
    LIMIT 1
) AS v
WHERE stepline_workflows.namespace_id = :namespace_id
    AND stepline_workflows.workflow_name = :workflow_name
    AND (stepline_workflows.max_concurrency IS NOT v.max_concurrency
        OR stepline_workflows.max_concurrency_per_key IS NOT v.max_concurrency_per_key)
RETURNING max_concurrency, max_concurrency_per_key

-- name: workflow_slots_adopt
-- A limit newly set on a workflow: its runs RUNNING already take slots (possibly more than
-- the limit; the claims then wait until enough have left RUNNING).
INSERT INTO stepline_concurrency_slots (
    run_id, namespace_id, workflow_name, concurrency_key, taken_at
)
SELECT id, namespace_id, workflow_name, concurrency_key, :now FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
    AND status = 'RUNNING' AND NOT holds_slot
ON CONFLICT (run_id) DO NOTHING

-- name: workflow_runs_hold_slots
-- The runs workflow_slots_adopt gave a slot hold it (the trigger frees it when they end);
-- the write lock keeps them RUNNING between the two statements.
UPDATE stepline_workflow_runs SET holds_slot = 1
WHERE NOT holds_slot AND id IN (
    SELECT run_id FROM stepline_concurrency_slots
    WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
)

-- name: worker_touch
UPDATE stepline_workers SET last_seen_at = :now
WHERE namespace_id = :namespace_id AND worker_id = :worker_id

-- name: workers_list
-- Workers in worker_id order; active_runs reads the queue's RUNNING runs (claim index).
SELECT k.*, k.last_seen_at > :now - :online_window AS online,
    (SELECT count(*) FROM stepline_workflow_runs AS r
        WHERE r.namespace_id = k.namespace_id AND r.task_queue = k.task_queue
            AND r.status = 'RUNNING' AND r.worker_id = k.worker_id) AS active_runs
FROM stepline_workers AS k
WHERE k.namespace_id = :namespace_id
    AND (:worker_id IS NULL OR k.worker_id = :worker_id)
    AND (:task_queue IS NULL OR k.task_queue = :task_queue)
ORDER BY k.worker_id

-- name: worker_workflows_list
SELECT worker_id, workflow_name, version FROM stepline_worker_workflows
WHERE namespace_id = :namespace_id
    AND (:worker_id IS NULL OR worker_id = :worker_id)

-- name: workflows_list
SELECT w.*,
    (SELECT count(DISTINCT k.worker_id) FROM stepline_worker_workflows AS ww
        JOIN stepline_workers AS k
            ON k.namespace_id = ww.namespace_id AND k.worker_id = ww.worker_id
        WHERE ww.namespace_id = w.namespace_id AND ww.workflow_name = w.workflow_name
            AND k.last_seen_at > :now - :online_window) AS workers_online
FROM stepline_workflows AS w
WHERE w.namespace_id = :namespace_id
    AND (:workflow_name IS NULL OR w.workflow_name = :workflow_name)

-- name: workflow_versions_list
SELECT v.*,
    (SELECT max(k.last_seen_at) FROM stepline_worker_workflows AS ww
        JOIN stepline_workers AS k
            ON k.namespace_id = ww.namespace_id AND k.worker_id = ww.worker_id
        WHERE ww.namespace_id = v.namespace_id AND ww.workflow_name = v.workflow_name
            AND ww.version = v.version) AS last_seen_at,
    (SELECT count(*) FROM stepline_worker_workflows AS ww
        JOIN stepline_workers AS k
            ON k.namespace_id = ww.namespace_id AND k.worker_id = ww.worker_id
        WHERE ww.namespace_id = v.namespace_id AND ww.workflow_name = v.workflow_name
            AND ww.version = v.version
            AND k.last_seen_at > :now - :online_window) AS workers_online
FROM stepline_workflow_versions AS v
WHERE v.namespace_id = :namespace_id
    AND (:workflow_name IS NULL OR v.workflow_name = :workflow_name)

-- name: workflow_run_counts
-- Every status of one workflow (its list index).
SELECT workflow_name, version, status, count(*) AS count FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
GROUP BY workflow_name, version, status

-- name: workflows_active_run_counts
-- The non-terminal runs of a namespace (its status index): terminal runs are history.
SELECT workflow_name, version, status, count(*) AS count FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
GROUP BY workflow_name, version, status

-- name: workflow_pause
-- A name nothing registered can be paused too (before its first deploy); paused_at stays
-- the first pause's.
INSERT INTO stepline_workflows (
    namespace_id, workflow_name, paused, paused_reason, paused_at, created_at
) VALUES (:namespace_id, :workflow_name, 1, :reason, :now, :now)
ON CONFLICT (namespace_id, workflow_name) DO UPDATE SET
    paused = 1,
    paused_reason = excluded.paused_reason,
    paused_at = coalesce(stepline_workflows.paused_at, :now)

-- name: workflow_resume
UPDATE stepline_workflows SET paused = 0, paused_reason = '', paused_at = NULL
WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name

-- name: workflow_crashes_reset
-- ResumeWorkflow gives the workflow's PENDING runs a fresh crash count (a poison run its
-- policy put back gets max_crashes claims again); the partial index holds only those runs.
UPDATE stepline_workflow_runs SET crash_count = 0
WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
    AND status = 'PENDING' AND crash_count > 0

-- name: workflow_queues
-- The queues holding the workflow's unfinished runs: woken when it resumes (in process).
SELECT DISTINCT task_queue FROM stepline_workflow_runs
WHERE namespace_id = :namespace_id AND workflow_name = :workflow_name
    AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')

-- --- schedules --------------------------------------------------------------------------

-- fragment: schedule_row
-- A new schedule's columns and values, shared by a create and a registration.
(
    namespace_id, schedule_id, cron, fire_interval, timezone, workflow_name, version,
    task_queue, input, priority, overlap, catchup_window, paused, next_fire_at,
    created_at, updated_at
) VALUES (
    :namespace_id, :schedule_id, :cron, :fire_interval, :timezone, :workflow_name,
    :version, :task_queue, :input, :priority, :overlap, :catchup_window, :paused,
    :next_fire_at, :now, :now
)

-- name: schedule_insert
-- A second create with the same schedule_id inserts nothing and returns no row.
INSERT INTO stepline_schedules {{schedule_row}}
ON CONFLICT (namespace_id, schedule_id) DO NOTHING
RETURNING *

-- name: schedule_register
-- The schedule of a workflow definition (@workflow(schedule=...)), kept by its workers'
-- registrations: created when missing; updated, with its next fire from now, when its
-- cron expression, time zone, workflow or queue differ; else left alone. Its paused
-- state, fire history and other settings are kept.
INSERT INTO stepline_schedules {{schedule_row}}
ON CONFLICT (namespace_id, schedule_id) DO UPDATE SET
    cron = excluded.cron,
    fire_interval = excluded.fire_interval,
    timezone = excluded.timezone,
    workflow_name = excluded.workflow_name,
    task_queue = excluded.task_queue,
    next_fire_at = excluded.next_fire_at,
    updated_at = :now
WHERE stepline_schedules.cron IS NOT excluded.cron
    OR stepline_schedules.fire_interval IS NOT excluded.fire_interval
    OR stepline_schedules.timezone IS NOT excluded.timezone
    OR stepline_schedules.workflow_name IS NOT excluded.workflow_name
    OR stepline_schedules.task_queue IS NOT excluded.task_queue

-- name: schedule_get
SELECT * FROM stepline_schedules
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id

-- name: schedule_lock
-- A fire's first statement (the transaction holds SQLite's write lock).
SELECT * FROM stepline_schedules
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id

-- name: schedule_list
-- One page in schedule_id order, and one row more to tell whether there are more.
SELECT * FROM stepline_schedules
WHERE namespace_id = :namespace_id AND (:after IS NULL OR schedule_id > :after)
ORDER BY schedule_id
LIMIT :limit

-- name: schedule_delete
DELETE FROM stepline_schedules
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id
RETURNING schedule_id

-- name: schedule_pause
UPDATE stepline_schedules SET paused = 1, updated_at = :now
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id
RETURNING *

-- name: schedule_resume
-- A paused schedule resumes from its next fire after now; a running one is unchanged.
UPDATE stepline_schedules SET
    next_fire_at = CASE WHEN paused THEN :next_fire_at ELSE next_fire_at END,
    updated_at = CASE WHEN paused THEN :now ELSE updated_at END,
    paused = 0
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id
RETURNING *

-- name: schedules_due
-- Unpaused schedules whose next fire has come, oldest fire first (the due index).
SELECT *, :now AS db_now FROM stepline_schedules
WHERE NOT paused AND next_fire_at <= :now
ORDER BY next_fire_at
LIMIT :limit

-- name: schedules_buffered
-- Unpaused schedules holding a buffered fire whose last run has ended (or is gone).
SELECT s.* FROM stepline_schedules AS s
LEFT JOIN stepline_workflow_runs AS r ON r.id = s.last_run_id
WHERE s.buffered_fire_at IS NOT NULL AND NOT s.paused
  AND (r.id IS NULL OR r.status IN ('COMPLETED', 'FAILED', 'CANCELED'))
ORDER BY s.buffered_fire_at
LIMIT :limit

-- name: schedule_next_due
-- The database clock, and how long until the next fire of an unpaused schedule.
SELECT :now AS db_now, MIN(next_fire_at) - :now AS due_in
FROM stepline_schedules WHERE NOT paused

-- name: run_status_of
-- Whether a schedule's last run is still active (its overlap policy asks).
SELECT status FROM stepline_workflow_runs WHERE id = :run_id

-- name: schedule_record_fire
UPDATE stepline_schedules SET
    next_fire_at = :next_fire_at,
    last_fire_at = :last_fire_at,
    buffered_fire_at = :buffered_fire_at,
    last_run_id = COALESCE(:run_id, last_run_id),
    missed_fires = missed_fires + :missed,
    skipped_fires = skipped_fires + :skipped,
    updated_at = :now
WHERE namespace_id = :namespace_id AND schedule_id = :schedule_id
RETURNING *

-- --- retention --------------------------------------------------------------------------

-- name: runs_pick_expired
-- One batch of retention: up to :limit runs of the namespace that ended longer than its
-- retention ago (none while it is zero), oldest end first, except a child whose parent is
-- still active.
SELECT r.id FROM stepline_workflow_runs AS r
WHERE r.namespace_id = :namespace_id
  AND r.status IN ('COMPLETED', 'FAILED', 'CANCELED')
  AND r.finished_at < :now - (
    SELECT retention FROM stepline_namespaces
    WHERE namespace_id = :namespace_id AND retention > 0
  )
  AND coalesce((
    SELECT p.status FROM stepline_workflow_runs AS p WHERE p.id = r.parent_run_id
  ), 'COMPLETED') NOT IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
ORDER BY r.finished_at
LIMIT :limit

-- name: event_runs_delete_of_runs
-- The event links of runs being deleted (they have no foreign key to cascade by).
DELETE FROM stepline_event_runs WHERE run_id IN (SELECT value FROM json_each(:run_ids))

-- name: runs_delete_by_ids
-- Deletes the runs; their steps, signals and waits go by ON DELETE CASCADE.
DELETE FROM stepline_workflow_runs WHERE id IN (SELECT value FROM json_each(:run_ids))
