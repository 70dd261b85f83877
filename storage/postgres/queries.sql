-- Every statement of the PostgreSQL backend. Hot paths (create, claim, heartbeat, begin
-- and complete a step, complete and release a run) are single statements with the lease
-- fence in their WHERE clause; when one touches no row, fencing.py reads the run to say
-- why. Timers use now(): the database clock, one value per transaction.
--
-- Sections follow the backend's modules, as in storage/sqlite/queries.sql: a statement
-- has the same name in both files (tests/storage/test_queries.py compares them).
-- `{{name}}` includes the `-- fragment: name` written once below (storage/sqlfile.py).

-- --- database ---------------------------------------------------------------------------

-- name: ping
SELECT 1

-- --- schema -----------------------------------------------------------------------------

-- name: migrations_lock
-- Servers that start at once apply each migration once: the first takes the lock.
SELECT pg_advisory_xact_lock(7316452289017715551)

-- name: migrations_create_table
CREATE TABLE IF NOT EXISTS stepline_schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)

-- name: migrations_applied
SELECT version FROM stepline_schema_migrations ORDER BY version

-- name: migrations_record
INSERT INTO stepline_schema_migrations (version, name) VALUES (%(version)s, %(name)s)

-- --- fencing ----------------------------------------------------------------------------

-- fragment: lease_live
-- A live lease: the run is RUNNING, its lease unexpired and its deadline not passed.
status = 'RUNNING' AND lease_expires_at > now() AND (deadline_at IS NULL OR deadline_at > now())

-- fragment: lease_fence
-- The lease fence: the run is RUNNING under the caller's lease, unexpired and not past
-- its deadline. Every statement that writes under a worker's lease includes it in its
-- WHERE clause, so a worker that lost its lease can never write.
id = %(run_id)s AND namespace_id = %(namespace_id)s AND lease_id = %(lease_id)s
    AND {{lease_live}}

-- fragment: lease_fence_of_each
-- The lease fence of a statement over many calls (group commit): each call of the input
-- (its columns named call_*) fences its own run, as lease_fence does for one.
id = call_run_id AND namespace_id = call_namespace_id AND lease_id = call_lease_id
    AND {{lease_live}}

-- name: run_lock
-- The locked transaction's first statement: the run's row lock, and the clock its
-- lease is checked against.
SELECT *, now() AS db_now FROM stepline_workflow_runs
WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s
FOR NO KEY UPDATE

-- name: run_lease_state
-- Why a fenced statement changed nothing.
SELECT status, lease_id, lease_expires_at, deadline_at, error, now() AS db_now
FROM stepline_workflow_runs
WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s

-- name: run_recorded
-- Why a fenced statement that ends an execution changed nothing: the whole run, which a
-- repeat of the call that ended it is compared with (rules.repeats_ending).
SELECT *, now() AS db_now FROM stepline_workflow_runs
WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s

-- --- runs -------------------------------------------------------------------------------

-- name: run_insert
WITH inserted AS (
    INSERT INTO stepline_workflow_runs (
        id, namespace_id, workflow_name, version, status, task_queue, input, context,
        idempotency_key, deadline_at, retry_initial_interval, retry_backoff_coefficient,
        retry_maximum_interval, retry_maximum_attempts, available_at, priority, concurrency_key
    ) VALUES (
        %(id)s, %(namespace_id)s, %(workflow_name)s, %(version)s, 'PENDING', %(task_queue)s,
        %(input)s::json, %(context)s::json, %(idempotency_key)s, %(deadline_at)s,
        %(retry_initial_interval)s, %(retry_backoff_coefficient)s,
        %(retry_maximum_interval)s, %(retry_maximum_attempts)s,
        COALESCE(%(start_at)s, now()), %(priority)s, %(concurrency_key)s
    )
    ON CONFLICT (namespace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
)
SELECT inserted.*
FROM inserted,
    LATERAL (SELECT pg_notify('stepline_wake', inserted.namespace_id || ':' || inserted.task_queue)) AS n

-- name: runs_insert
-- run_insert for many starts at once (group commit): the arrays hold one start each, `n`
-- its place. Answers (n, run) for each run inserted; a start left out (its idempotency
-- key was taken) changed nothing and is done again alone, which finds the run that has
-- the key. One wake-up per queue.
WITH input AS (
    SELECT * FROM unnest(
        %(n)s::int[], %(id)s::uuid[], %(namespace_id)s::text[], %(workflow_name)s::text[],
        %(version)s::text[], %(task_queue)s::text[], %(input)s::json[], %(context)s::json[],
        %(idempotency_key)s::text[], %(deadline_at)s::timestamptz[],
        %(retry_initial_interval)s::interval[], %(retry_backoff_coefficient)s::float8[],
        %(retry_maximum_interval)s::interval[], %(retry_maximum_attempts)s::int[],
        %(start_at)s::timestamptz[], %(priority)s::smallint[], %(concurrency_key)s::text[]
    ) AS i(
        n, id, namespace_id, workflow_name, version, task_queue, input, context,
        idempotency_key, deadline_at, retry_initial_interval, retry_backoff_coefficient,
        retry_maximum_interval, retry_maximum_attempts, start_at, priority, concurrency_key
    )
), inserted AS (
    INSERT INTO stepline_workflow_runs (
        id, namespace_id, workflow_name, version, status, task_queue, input, context,
        idempotency_key, deadline_at, retry_initial_interval, retry_backoff_coefficient,
        retry_maximum_interval, retry_maximum_attempts, available_at, priority, concurrency_key
    )
    SELECT id, namespace_id, workflow_name, version, 'PENDING', task_queue, input, context,
        idempotency_key, deadline_at, retry_initial_interval, retry_backoff_coefficient,
        retry_maximum_interval, retry_maximum_attempts, COALESCE(start_at, now()), priority,
        concurrency_key
    FROM input ORDER BY n
    ON CONFLICT (namespace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), woken AS (
    SELECT count(pg_notify('stepline_wake', queue)) AS queues
    FROM (SELECT DISTINCT namespace_id || ':' || task_queue AS queue FROM inserted) AS q
)
SELECT i.n, r.* FROM inserted AS r JOIN input AS i ON i.id = r.id, woken

-- name: run_by_idempotency_key
SELECT run.*, {{replay_count}}
FROM stepline_workflow_runs AS run
WHERE run.namespace_id = %(namespace_id)s AND run.idempotency_key = %(idempotency_key)s

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
WHERE run.id = %(run_id)s AND run.namespace_id = %(namespace_id)s

-- name: run_get
SELECT * FROM stepline_workflow_runs
WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s

-- name: run_cancel
WITH ended AS (
    UPDATE stepline_workflow_runs SET
        status = 'CANCELED',
        {{ended_with_error}}
    WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s
        AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
    RETURNING *
), closed AS (
    {{close_open_steps}}
)
SELECT * FROM ended

-- fragment: active_descendants
-- The run's active children, theirs, and so on (the runs its cancel cancels), with their
-- depth below it.
WITH RECURSIVE tree (id, depth) AS (
    SELECT id, 1 FROM stepline_workflow_runs
    WHERE namespace_id = %(namespace_id)s AND parent_run_id = %(run_id)s
        AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
    UNION ALL
    SELECT child.id, tree.depth + 1
    FROM stepline_workflow_runs AS child JOIN tree ON child.parent_run_id = tree.id
    WHERE child.namespace_id = %(namespace_id)s
        AND child.status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
)

-- name: run_cancel_lock_tree
-- A cancel locks the runs it will cancel before the run itself, deepest first: the order
-- of a child's end, which holds the child's row and then takes its parent's (to resolve
-- the parent's CHILD wait). Taken the other way round, a cancel and a child ending at
-- once could deadlock (storage/postgres/runs.py).
{{active_descendants}}
SELECT run.id FROM stepline_workflow_runs AS run JOIN tree ON run.id = tree.id
ORDER BY tree.depth DESC, run.id
FOR NO KEY UPDATE OF run

-- name: run_active_descendants
-- The same runs, read without locks: did a child appear while the cancel took its locks?
{{active_descendants}}
SELECT id FROM tree

-- --- listing ----------------------------------------------------------------------------

-- name: run_list
-- The filters and order placeholders take the pieces below (storage/paging.py); values
-- are always bound, and only the filters that are set appear, so the planner picks the
-- index that serves both the filter and the order. One status is an equality, served
-- with the order by (namespace_id, status, created_at, id).
SELECT run.*, {{replay_count}}
FROM stepline_workflow_runs AS run
WHERE namespace_id = %(namespace_id)s {filters}
ORDER BY {order}
LIMIT %(limit)s

-- name: run_filter_status
AND status = %(status)s

-- name: run_filter_statuses
AND status = ANY(%(statuses)s::text[])

-- name: run_filter_workflow_name
AND workflow_name = %(workflow_name)s

-- name: run_filter_task_queue
AND task_queue = %(task_queue)s

-- name: run_filter_created_after
AND created_at >= %(created_after)s

-- name: run_filter_created_before
AND created_at < %(created_before)s

-- name: run_filter_replay_of_run_id
AND replay_of_run_id = %(replay_of_run_id)s::uuid

-- name: run_filter_parent_run_id
AND parent_run_id = %(parent_run_id)s::uuid

-- name: keyset_after
AND (created_at, id) > (%(cursor_created_at)s::timestamptz, %(cursor_id)s::uuid)

-- name: keyset_before
AND (created_at, id) < (%(cursor_created_at)s::timestamptz, %(cursor_id)s::uuid)

-- name: keyset_ascending
created_at ASC, id ASC

-- name: keyset_descending
created_at DESC, id DESC

-- name: step_list
-- The filters and order placeholders take the keyset pieces above.
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = %(run_id)s {filters}
ORDER BY {order}
LIMIT %(limit)s

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
        WHERE served.namespace_id = %(namespace_id)s AND served.worker_id = %(worker_id)s)
    OR EXISTS (SELECT 1 FROM stepline_worker_workflows AS served
        WHERE served.namespace_id = %(namespace_id)s AND served.worker_id = %(worker_id)s
            AND served.workflow_name = stepline_workflow_runs.workflow_name
            AND (served.version = stepline_workflow_runs.version
                OR served.version = '' OR stepline_workflow_runs.version = '')))

-- fragment: full_groups
-- The namespace's workflows with limits (one range of a partial index: empty, and nearly
-- free, when none has any), then the workflows (concurrency_key NULL) and concurrency keys
-- whose limit is reached, as the statement's snapshot sees them: their due runs are passed
-- over by the claim's scan and by run_next_due. The exact test, under the workflow's
-- lock, is stepline_slot_take's.
limited_workflows AS MATERIALIZED (
    SELECT workflow_name, max_concurrency, max_concurrency_per_key FROM stepline_workflows
    WHERE namespace_id = %(namespace_id)s
        AND (max_concurrency > 0 OR max_concurrency_per_key > 0)
), full_groups AS MATERIALIZED (
    SELECT s.workflow_name, NULL::text AS concurrency_key
    FROM limited_workflows AS w
    JOIN stepline_concurrency_slots AS s
        ON s.namespace_id = %(namespace_id)s AND s.workflow_name = w.workflow_name
    WHERE w.max_concurrency > 0
    GROUP BY s.workflow_name, w.max_concurrency
    HAVING count(*) >= w.max_concurrency
    UNION ALL
    SELECT s.workflow_name, s.concurrency_key
    FROM limited_workflows AS w
    JOIN stepline_concurrency_slots AS s
        ON s.namespace_id = %(namespace_id)s AND s.workflow_name = w.workflow_name
    WHERE w.max_concurrency_per_key > 0 AND s.concurrency_key IS NOT NULL
    GROUP BY s.workflow_name, s.concurrency_key, w.max_concurrency_per_key
    HAVING count(*) >= w.max_concurrency_per_key
)

-- fragment: within_limits
-- A due run is passed over while its workflow or its concurrency key is full (full_groups).
NOT EXISTS (SELECT 1 FROM full_groups AS f
    WHERE f.workflow_name = stepline_workflow_runs.workflow_name
        AND (f.concurrency_key IS NULL
            OR f.concurrency_key = stepline_workflow_runs.concurrency_key))

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

-- fragment: poison_pause
-- The workflows of the poison runs a claim put back (ending PAUSED) are paused, as
-- PauseWorkflow pauses them, with a reason naming the run and its crashes (one run per
-- workflow when a claim finds several); an earlier pause's paused_at is kept.
INSERT INTO stepline_workflows AS w (namespace_id, workflow_name, paused, paused_reason, paused_at)
SELECT c.namespace_id, c.workflow_name, true,
    'poison run ' || c.id || ': its workers crashed ' || c.crash_count
        || ' times in a row with no step completed (on_poison=pause)',
    now()
FROM claimed AS c
WHERE c.ending = 'PAUSED'
    AND NOT EXISTS (SELECT 1 FROM claimed AS first
        WHERE first.ending = 'PAUSED' AND first.workflow_name = c.workflow_name
            AND first.id < c.id)
ON CONFLICT (namespace_id, workflow_name) DO UPDATE SET
    paused = true,
    paused_reason = excluded.paused_reason,
    paused_at = coalesce(w.paused_at, now())
RETURNING w.workflow_name

-- name: run_claim
-- Due PENDING/SLEEPING runs first, by priority (1 first) then oldest first, then RUNNING
-- runs whose lease expired (their available_at is the lease expiry), oldest first,
-- skipping rows other claims hold.
-- Due runs past their deadline are failed instead (up to 100 a claim; the sweep does
-- the rest) and do not count against max_runs. Open step attempts are closed: a woken
-- run's sleep completes, an expired lease's attempts fail.
-- An expired lease taken back counts a crash (crash_count + 1), or starts the count again
-- at 1 when a step completed since that lease's claim (claimed_at). A run reaching its
-- crash limit (its definition's max_crashes, else %(max_crashes)s; 0: no limit) is a
-- poison run, handled by its definition's on_poison instead of claimed: FAIL makes it
-- FAILED with %(crashed_error)s; PAUSE pauses its workflow (the reason names the run and
-- its crashes) and puts the run back to PENDING, all in this statement.
-- A due run of a workflow with concurrency limits is claimed only if it takes a slot
-- (stepline_slot_take, migration 0008), oldest first; the others stay PENDING.
WITH {{full_groups}}, overdue AS (
    SELECT id, status, available_at FROM stepline_workflow_runs
    WHERE namespace_id = %(namespace_id)s AND task_queue = %(task_queue)s
        AND status IN ('PENDING', 'SLEEPING', 'RUNNING') AND available_at <= now()
        AND deadline_at <= now()
        AND (%(workflow_names)s::text[] IS NULL OR workflow_name = ANY(%(workflow_names)s::text[]))
    LIMIT 100
    FOR NO KEY UPDATE SKIP LOCKED
), ready AS (
    -- One range scan of the claim_ready index per priority, in priority order (the nested
    -- loop over the priorities yields them in array order), each stopping at its first
    -- run not yet due: runs parked in the future are never walked over. The outer LIMIT
    -- stops the loop once max_runs rows are locked, so no extra row is locked.
    SELECT due.id, due.status, due.available_at, level.priority, due.workflow_name,
        due.concurrency_key
    FROM unnest('{1,2,3,4,5}'::smallint[]) AS level(priority)
    CROSS JOIN LATERAL (
        SELECT id, status, available_at, workflow_name, concurrency_key
        FROM stepline_workflow_runs
        WHERE namespace_id = %(namespace_id)s AND task_queue = %(task_queue)s
            AND priority = level.priority
            AND status IN ('PENDING', 'SLEEPING') AND available_at <= now()
            AND (deadline_at IS NULL OR deadline_at > now())
            AND (%(workflow_names)s::text[] IS NULL OR workflow_name = ANY(%(workflow_names)s::text[]))
            AND {{claimable}}
            AND {{within_limits}}
        ORDER BY available_at, id
        LIMIT %(max_runs)s
        FOR NO KEY UPDATE SKIP LOCKED
    ) AS due
    LIMIT %(max_runs)s
), expired AS (
    SELECT id, status, available_at,
        CASE WHEN EXISTS (SELECT 1 FROM stepline_step_attempts AS h
                WHERE h.workflow_run_id = stepline_workflow_runs.id AND h.status = 'COMPLETED'
                    AND h.finished_at >= stepline_workflow_runs.claimed_at)
            THEN 1 ELSE crash_count + 1 END AS crashes,
        coalesce((SELECT d.max_crashes {{run_definition}}), %(max_crashes)s) AS crash_limit,
        coalesce((SELECT d.on_poison {{run_definition}}), 'FAIL') AS on_poison
    FROM stepline_workflow_runs
    WHERE namespace_id = %(namespace_id)s AND task_queue = %(task_queue)s
        AND status = 'RUNNING' AND available_at <= now()
        AND (deadline_at IS NULL OR deadline_at > now())
        AND (%(workflow_names)s::text[] IS NULL OR workflow_name = ANY(%(workflow_names)s::text[]))
        AND {{claimable}}
    ORDER BY available_at, id
    LIMIT (SELECT %(max_runs)s - count(*) FROM ready)
    FOR NO KEY UPDATE SKIP LOCKED
), limited AS (
    -- The due runs picked whose workflow has limits (none: no slot is taken).
    SELECT ready.* FROM ready
    WHERE ready.workflow_name IN (SELECT workflow_name FROM limited_workflows)
), admitted AS (
    -- Those that took a slot, tried oldest first (priority, then due time) so that the
    -- oldest run of a key gets its slot; a volatile function is not pushed below the sort.
    SELECT o.id FROM (
        SELECT * FROM limited ORDER BY priority, available_at, id OFFSET 0
    ) AS o
    WHERE stepline_slot_take(o.id, %(namespace_id)s, o.workflow_name, o.concurrency_key)
), picked AS (
    -- ending: NULL for a claim, else why the run is not claimed: DEADLINE or CRASHED
    -- (failed), PAUSED (a poison run put back, its workflow paused).
    SELECT id, status AS previous_status, available_at AS due_at, NULL::text AS ending,
        NULL::integer AS crashes, id IN (SELECT id FROM admitted) AS takes_slot
    FROM ready
    WHERE id NOT IN (SELECT id FROM limited) OR id IN (SELECT id FROM admitted)
    UNION ALL
    SELECT id, status, available_at,
        CASE WHEN crash_limit > 0 AND crashes >= crash_limit THEN
            CASE on_poison WHEN 'PAUSE' THEN 'PAUSED' ELSE 'CRASHED' END END,
        crashes, false
    FROM expired
    UNION ALL
    SELECT id, status, available_at, 'DEADLINE', NULL, false FROM overdue
), claimed AS (
    -- A poison run PAUSED goes back to PENDING as a release leaves a run (no lease, no
    -- worker, due at once), its crash_count kept: ResumeWorkflow starts it again at 0.
    UPDATE stepline_workflow_runs AS r SET
        status = CASE WHEN p.ending IS NULL THEN 'RUNNING'
            WHEN p.ending = 'PAUSED' THEN 'PENDING' ELSE 'FAILED' END,
        lease_id = CASE WHEN p.ending IS NULL THEN gen_random_uuid()
            WHEN p.ending <> 'PAUSED' THEN r.lease_id END,
        lease_expires_at = CASE WHEN p.ending IS NULL THEN now() + %(lease_duration)s END,
        available_at = CASE WHEN p.ending IS NULL THEN now() + %(lease_duration)s
            WHEN p.ending = 'PAUSED' THEN now() END,
        worker_id = CASE WHEN p.ending IS NULL THEN %(worker_id)s
            WHEN p.ending <> 'PAUSED' THEN r.worker_id END,
        started_at = CASE WHEN p.ending IS NULL THEN coalesce(r.started_at, now())
            ELSE r.started_at END,
        finished_at = CASE WHEN p.ending <> 'PAUSED' THEN now() END,
        error = CASE p.ending WHEN 'DEADLINE' THEN %(deadline_error)s::json
            WHEN 'CRASHED' THEN %(crashed_error)s::json ELSE r.error END,
        crash_count = coalesce(p.crashes, r.crash_count),
        claimed_at = CASE WHEN p.ending IS NULL THEN now() ELSE r.claimed_at END,
        holds_slot = r.holds_slot OR p.takes_slot,
        wake_up_at = NULL,
        updated_at = now()
    FROM picked AS p
    WHERE r.id = p.id
    -- For metrics: how long the run waited to be claimed since it became claimable.
    -- has_steps: whether the run's history must be read (a fresh run has none).
    RETURNING r.*, p.previous_status, p.ending,
        extract(EPOCH FROM now() - p.due_at)::float8 AS claim_wait,
        EXISTS (SELECT 1 FROM stepline_step_attempts AS h WHERE h.workflow_run_id = r.id)
            AS has_steps
), closed AS (
    UPDATE stepline_step_attempts AS s SET
        status = CASE
            WHEN c.status = 'RUNNING' AND c.previous_status = 'SLEEPING' AND s.kind = 'SLEEP'
                THEN 'COMPLETED'
            ELSE 'FAILED' END,
        error = CASE
            WHEN c.status = 'RUNNING' AND c.previous_status = 'SLEEPING' AND s.kind = 'SLEEP'
                THEN NULL
            WHEN c.ending = 'DEADLINE' THEN %(deadline_error)s::json
            WHEN c.previous_status = 'RUNNING' THEN %(lease_expired_error)s::json
            ELSE %(abandoned_error)s::json END,
        finished_at = now(),
        updated_at = now()
    FROM claimed AS c
    WHERE s.workflow_run_id = c.id AND s.status = 'RUNNING'
    RETURNING s.id
), poison_paused AS (
    -- PostgreSQL runs a data-changing CTE whether or not the statement reads it.
    {{poison_pause}}
)
SELECT * FROM claimed

-- name: run_next_due
-- How long until a run of the queue becomes due (negative when one is due already): the
-- earliest available_at of each priority's front of the claim_ready index, and of the
-- claim_expired index. Runs held back by a full concurrency limit are not due: the slot
-- freed for them wakes the queue. Each priority's front is read in index order, stopping
-- at its first run that passes the filters (a min() over a join of the filters would
-- aggregate every run of the queue, parked ones included).
WITH {{full_groups}}
SELECT least(
    (SELECT min(first.available_at)
        FROM unnest('{1,2,3,4,5}'::smallint[]) AS level(priority)
        CROSS JOIN LATERAL (
            SELECT available_at FROM stepline_workflow_runs
            WHERE namespace_id = %(namespace_id)s AND task_queue = %(task_queue)s
                AND priority = level.priority AND status IN ('PENDING', 'SLEEPING')
                AND (%(workflow_names)s::text[] IS NULL OR workflow_name = ANY(%(workflow_names)s::text[]))
                AND {{claimable}}
                AND {{within_limits}}
            ORDER BY available_at
            LIMIT 1
        ) AS first),
    (SELECT min(available_at) FROM stepline_workflow_runs
        WHERE namespace_id = %(namespace_id)s AND task_queue = %(task_queue)s
            AND status = 'RUNNING'
            AND (%(workflow_names)s::text[] IS NULL OR workflow_name = ANY(%(workflow_names)s::text[]))
            AND {{claimable}})
) - now() AS due_in

-- name: steps_of_runs
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = ANY(%(run_ids)s::uuid[])
ORDER BY workflow_run_id, created_at, id

-- --- steps ------------------------------------------------------------------------------

-- name: step_begin
-- Returns the step's COMPLETED or open attempt when there is one, else opens one.
WITH run AS (
    SELECT id, namespace_id, worker_id FROM stepline_workflow_runs
    WHERE {{lease_fence}}
), existing AS (
    -- What stops an insert: the step's COMPLETED or open attempt, or any attempt of
    -- another kind (steps.py raises StepKindMismatch for those).
    SELECT s.* FROM stepline_step_attempts AS s JOIN run ON s.workflow_run_id = run.id
    WHERE s.step_id = %(step_id)s
        AND (s.status IN ('COMPLETED', 'RUNNING') OR s.kind <> %(kind)s)
), inserted AS (
    INSERT INTO stepline_step_attempts (
        id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
        worker_id, started_at
    )
    SELECT %(id)s, run.namespace_id, run.id, %(step_id)s, %(kind)s, 'RUNNING',
        (SELECT count(*) + 1 FROM stepline_step_attempts
            WHERE workflow_run_id = run.id AND step_id = %(step_id)s),
        %(config)s::json, %(context)s::json, coalesce(%(worker_id)s, run.worker_id), now()
    FROM run
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT * FROM existing
UNION ALL
SELECT * FROM inserted

-- name: step_complete_attempt
WITH run AS (
    SELECT id FROM stepline_workflow_runs
    WHERE {{lease_fence}}
)
UPDATE stepline_step_attempts AS s SET
    status = 'COMPLETED',
    output = %(output)s::json,
    worker_id = coalesce(%(worker_id)s, s.worker_id),
    finished_at = now(),
    updated_at = now()
FROM run
WHERE s.id = %(step_attempt_id)s AND s.workflow_run_id = run.id AND s.status = 'RUNNING'
RETURNING s.*

-- name: step_complete_by_step_id
-- Closes the step's open attempt of the same kind, or records a completed attempt in
-- one go. Returns nothing when the step completed before or has attempts of another kind.
WITH run AS (
    SELECT id, namespace_id, worker_id FROM stepline_workflow_runs
    WHERE {{lease_fence}}
), updated AS (
    UPDATE stepline_step_attempts AS s SET
        status = 'COMPLETED',
        output = %(output)s::json,
        worker_id = coalesce(%(worker_id)s, s.worker_id),
        finished_at = now(),
        updated_at = now()
    FROM run
    WHERE s.workflow_run_id = run.id AND s.step_id = %(step_id)s AND s.status = 'RUNNING'
        AND s.kind = %(kind)s
    RETURNING s.*
), inserted AS (
    INSERT INTO stepline_step_attempts (
        id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
        output, worker_id, started_at, finished_at
    )
    SELECT %(id)s, run.namespace_id, run.id, %(step_id)s, %(kind)s, 'COMPLETED',
        (SELECT count(*) + 1 FROM stepline_step_attempts
            WHERE workflow_run_id = run.id AND step_id = %(step_id)s),
        %(config)s::json, %(context)s::json, %(output)s::json,
        coalesce(%(worker_id)s, run.worker_id), now(), now()
    FROM run
    WHERE NOT EXISTS (SELECT 1 FROM updated)
        AND NOT EXISTS (
            SELECT 1 FROM stepline_step_attempts
            WHERE workflow_run_id = run.id AND step_id = %(step_id)s
                AND (status = 'RUNNING' OR kind <> %(kind)s)
        )
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT * FROM updated
UNION ALL
SELECT * FROM inserted

-- name: steps_complete_by_step_id
-- step_complete_by_step_id for many calls at once (group commit): the arrays hold one
-- call each, `n` its place; each call is fenced on its own run and lease. Answers
-- (n, attempt) for each step it completed; a call left out changed nothing and is
-- done again alone, which says why (memoized, lease lost, another kind).
WITH input AS (
    SELECT * FROM unnest(
        %(n)s::int[], %(id)s::uuid[], %(namespace_id)s::text[], %(run_id)s::uuid[],
        %(lease_id)s::uuid[], %(worker_id)s::text[], %(step_id)s::text[], %(kind)s::text[],
        %(config)s::json[], %(context)s::json[], %(output)s::json[]
    ) AS i(
        n, new_id, call_namespace_id, call_run_id, call_lease_id, call_worker_id,
        call_step_id, call_kind, call_config, call_context, call_output
    )
), run AS (
    SELECT i.*, r.worker_id AS run_worker_id
    FROM input AS i JOIN stepline_workflow_runs AS r ON {{lease_fence_of_each}}
), updated AS (
    UPDATE stepline_step_attempts AS s SET
        status = 'COMPLETED',
        output = run.call_output,
        worker_id = coalesce(run.call_worker_id, s.worker_id),
        finished_at = now(),
        updated_at = now()
    FROM run
    WHERE s.workflow_run_id = run.call_run_id AND s.step_id = run.call_step_id
        AND s.status = 'RUNNING' AND s.kind = run.call_kind
    RETURNING run.n, s.*
), inserted AS (
    INSERT INTO stepline_step_attempts (
        id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
        output, worker_id, started_at, finished_at
    )
    SELECT run.new_id, run.call_namespace_id, run.call_run_id, run.call_step_id,
        run.call_kind, 'COMPLETED',
        (SELECT count(*) + 1 FROM stepline_step_attempts
            WHERE workflow_run_id = run.call_run_id AND step_id = run.call_step_id),
        run.call_config, run.call_context, run.call_output,
        coalesce(run.call_worker_id, run.run_worker_id), now(), now()
    FROM run
    WHERE NOT EXISTS (SELECT 1 FROM updated WHERE updated.n = run.n)
        AND NOT EXISTS (
            SELECT 1 FROM stepline_step_attempts
            WHERE workflow_run_id = run.call_run_id AND step_id = run.call_step_id
                AND (status = 'RUNNING' OR kind <> run.call_kind)
        )
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT * FROM updated
UNION ALL
SELECT i.n, s.* FROM inserted AS s JOIN input AS i ON i.new_id = s.id

-- name: step_get
SELECT * FROM stepline_step_attempts
WHERE id = %(step_attempt_id)s AND workflow_run_id = %(run_id)s

-- name: steps_of_step_id
SELECT * FROM stepline_step_attempts
WHERE workflow_run_id = %(run_id)s AND step_id = %(step_id)s
ORDER BY created_at, id

-- name: step_insert
-- The attempt number counts the step_id's earlier attempts in the run.
INSERT INTO stepline_step_attempts (
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, worker_id, wake_up_at, started_at, finished_at, child_workflow_run_id,
    wait_name, wait_match
)
SELECT %(id)s, %(namespace_id)s, %(run_id)s, %(step_id)s, %(kind)s, %(status)s,
    (SELECT count(*) + 1 FROM stepline_step_attempts
        WHERE workflow_run_id = %(run_id)s AND step_id = %(step_id)s),
    %(config)s::json, %(context)s::json, %(output)s::json, %(error)s::json, %(worker_id)s,
    %(wake_up_at)s, now(), %(finished_at)s, %(child_workflow_run_id)s, %(wait_name)s,
    %(wait_match)s::json
RETURNING *

-- name: step_fail_attempt
UPDATE stepline_step_attempts SET
    status = 'FAILED',
    error = %(error)s::json,
    worker_id = coalesce(%(worker_id)s, worker_id),
    finished_at = now(),
    updated_at = now()
WHERE id = %(step_attempt_id)s AND status = 'RUNNING'
RETURNING *

-- --- execution --------------------------------------------------------------------------

-- name: run_heartbeat
UPDATE stepline_workflow_runs SET
    lease_expires_at = now() + %(lease_duration)s,
    available_at = now() + %(lease_duration)s,
    worker_id = coalesce(%(worker_id)s, worker_id),
    updated_at = now()
WHERE {{lease_fence}}
RETURNING lease_expires_at

-- name: run_complete
-- COMPLETED; attempts still open fail with %(error)s (ABANDONED).
WITH ended AS (
    UPDATE stepline_workflow_runs SET
        status = 'COMPLETED',
        output = %(output)s::json,
        error = NULL,
        worker_id = coalesce(%(worker_id)s, worker_id),
        finished_at = now(),
        lease_expires_at = NULL,
        available_at = NULL,
        updated_at = now()
    WHERE {{lease_fence}}
    RETURNING *
), closed AS (
    {{close_open_steps}}
)
SELECT * FROM ended

-- name: runs_complete
-- run_complete for many calls at once (group commit), each fenced on its own run and
-- lease. Answers the runs it completed; a call left out changed nothing and is done
-- again alone, which says why.
WITH input AS (
    SELECT * FROM unnest(
        %(namespace_id)s::text[], %(run_id)s::uuid[], %(lease_id)s::uuid[],
        %(worker_id)s::text[], %(output)s::json[]
    ) AS i(call_namespace_id, call_run_id, call_lease_id, call_worker_id, call_output)
), locked AS MATERIALIZED (
    -- The runs' row locks in id order, the order a cancel takes its children's: an update
    -- over the batch locks them in whatever order its join yields, and a batch of two
    -- children's ends could then deadlock with their parent's cancel.
    SELECT r.id FROM stepline_workflow_runs AS r JOIN input AS i ON r.id = i.call_run_id
    ORDER BY r.id
    FOR NO KEY UPDATE OF r
), ended AS (
    UPDATE stepline_workflow_runs AS r SET
        status = 'COMPLETED',
        output = i.call_output,
        error = NULL,
        worker_id = coalesce(i.call_worker_id, r.worker_id),
        finished_at = now(),
        lease_expires_at = NULL,
        available_at = NULL,
        updated_at = now()
    FROM input AS i
    WHERE {{lease_fence_of_each}} AND r.id IN (SELECT id FROM locked)
    RETURNING r.*
), closed AS (
    {{close_open_steps}}
)
SELECT * FROM ended

-- name: run_release
-- ReleaseRun: the lease holder gives the run back. It is PENDING and due at once, with
-- attempt and error unchanged (a release is not a failure) and no lease or worker; its
-- open attempts fail with %(error)s (RELEASED); the queue's polls are woken (delivered
-- at commit).
WITH ended AS (
    UPDATE stepline_workflow_runs SET
        status = 'PENDING',
        lease_id = NULL,
        lease_expires_at = NULL,
        worker_id = NULL,
        wake_up_at = NULL,
        available_at = now(),
        updated_at = now()
    WHERE {{lease_fence}}
    RETURNING *
), closed AS (
    {{close_open_steps}}
)
SELECT ended.*
FROM ended,
    LATERAL (SELECT pg_notify('stepline_wake', ended.namespace_id || ':' || ended.task_queue)) AS n

-- name: run_notify
SELECT pg_notify('stepline_wake', %(namespace_id)s || ':' || %(task_queue)s)

-- --- endings ----------------------------------------------------------------------------

-- fragment: close_open_steps
-- Whenever a run leaves RUNNING (or a SLEEPING run ends), its open step attempts fail
-- with %(error)s. A statement names the runs it ended `ended` and includes this as its
-- `closed` step.
UPDATE stepline_step_attempts SET
    status = 'FAILED', error = %(error)s::json, finished_at = now(), updated_at = now()
WHERE workflow_run_id IN (SELECT id FROM ended) AND status = 'RUNNING'

-- fragment: ended_with_error
-- A run ended from outside its execution (canceled, past its deadline) keeps %(error)s,
-- finishes now, and has no lease, due time or wake-up left.
error = %(error)s::json,
finished_at = now(),
lease_expires_at = NULL,
available_at = NULL,
wake_up_at = NULL,
updated_at = now()

-- name: steps_close_open
WITH ended AS (SELECT %(run_id)s::uuid AS id)
{{close_open_steps}}

-- name: run_end_execution
-- Ends an execution (retry, failure or sleep) on a run locked by run_lock in this
-- transaction; the fence is repeated so a write can never land on another lease. The
-- caller closed the run's open attempts first.
UPDATE stepline_workflow_runs SET
    status = %(status)s,
    attempt = %(attempt)s,
    error = coalesce(%(error)s::json, error),
    worker_id = coalesce(%(worker_id)s, worker_id),
    finished_at = %(finished_at)s,
    wake_up_at = %(wake_up_at)s,
    available_at = %(available_at)s,
    lease_expires_at = NULL,
    updated_at = now()
WHERE {{lease_fence}}
RETURNING *

-- fragment: fail_overdue_runs
-- The runs the statement picked as `overdue` become FAILED by their deadline with
-- %(error)s, and so do their open attempts; it answers how many per workflow.
ended AS (
    UPDATE stepline_workflow_runs AS r SET
        status = 'FAILED',
        {{ended_with_error}}
    FROM overdue
    WHERE r.id = overdue.id
    RETURNING r.id, r.namespace_id, r.workflow_name
), closed AS (
    {{close_open_steps}}
)
SELECT namespace_id, workflow_name, count(*) AS failed FROM ended
GROUP BY namespace_id, workflow_name

-- name: run_fail_overdue
-- The sweep: fails up to `limit` runs past their deadline, skipping rows others hold.
WITH overdue AS (
    SELECT id FROM stepline_workflow_runs
    WHERE status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING') AND deadline_at <= now()
    ORDER BY deadline_at
    LIMIT %(limit)s
    FOR NO KEY UPDATE SKIP LOCKED
), {{fail_overdue_runs}}

-- name: run_fail_overdue_one
-- Fails one run past its deadline, for a worker call that found it so. It waits for
-- the row (unlike the sweep) so that the run is FAILED, by it or by whoever held the
-- row, by the time the call reports RUN_DEADLINE_EXCEEDED.
WITH overdue AS (
    SELECT id FROM stepline_workflow_runs
    WHERE id = %(run_id)s AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
        AND deadline_at <= now()
    FOR NO KEY UPDATE
), {{fail_overdue_runs}}

-- --- batches ----------------------------------------------------------------------------

-- name: run_batch_pick
-- One chunk of a batch: the next %(limit)s runs matching the list filters, oldest first
-- (the filters placeholder takes run_filter_*, run_batch_as_of and keyset_after), with the clock that
-- bounds the batch when its first chunk gives none.
SELECT id, created_at, status, context, now() AS db_now FROM stepline_workflow_runs
WHERE namespace_id = %(namespace_id)s {filters}
ORDER BY created_at ASC, id ASC
LIMIT %(limit)s

-- name: run_batch_as_of
-- A batch covers the runs created before its first chunk began.
AND created_at < coalesce(%(as_of)s::timestamptz, now())

-- name: run_batch_cancel
-- One chunk of a batch cancel, as one statement: the chunk's runs (run_batch_pick's) are
-- locked, the active ones become CANCELED with %(error)s and their open attempts fail.
-- A run a worker holds is waited for; claims skip the locked rows. Every picked run is
-- answered, with its workflow_name when this statement canceled it.
WITH picked AS (
    SELECT id, created_at FROM stepline_workflow_runs
    WHERE namespace_id = %(namespace_id)s {filters}
    ORDER BY created_at ASC, id ASC
    LIMIT %(limit)s
    FOR NO KEY UPDATE
), ended AS (
    UPDATE stepline_workflow_runs AS r SET
        status = 'CANCELED',
        {{ended_with_error}}
    FROM picked
    WHERE r.id = picked.id AND r.status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
    RETURNING r.id, r.namespace_id, r.workflow_name
), closed AS (
    {{close_open_steps}}
)
SELECT picked.id, picked.created_at, ended.namespace_id, ended.workflow_name,
    now() AS db_now
FROM picked LEFT JOIN ended ON ended.id = picked.id
ORDER BY picked.created_at, picked.id

-- --- replays ----------------------------------------------------------------------------

-- name: runs_hold_for_replay
-- The originals a replay copies steps from, held (FOR KEY SHARE) until it commits, so that
-- retention cannot delete their steps between the plan's read and the copy: retention
-- skips a held run, and a run retention holds is waited for and then found gone. Claims
-- and cancels take weaker locks than a delete's: they never wait for this one.
SELECT id FROM stepline_workflow_runs WHERE id = ANY(%(run_ids)s::uuid[])
FOR KEY SHARE

-- name: step_history_of_runs
-- What a replay plan reads of the originals' histories (storage/replay.py).
SELECT id, workflow_run_id, step_id, status FROM stepline_step_attempts
WHERE workflow_run_id = ANY(%(run_ids)s::uuid[])
ORDER BY workflow_run_id, created_at, id

-- name: run_replay_insert
-- The new runs of a replay plan: %(replays)s is a JSON array of {source, id, context}.
-- Each copies its source's workflow, version, task queue and retry policy, and its
-- deadline as long after now as the source's was after its creation. A run batch
-- %(batch_id)s replayed before, or an idempotency key taken, inserts nothing (the caller
-- reads what is there). The queues' polls are woken (delivered at commit).
WITH wanted AS (
    SELECT * FROM json_to_recordset(%(replays)s::json) AS w(source uuid, id uuid, context text)
), inserted AS (
    INSERT INTO stepline_workflow_runs (
        id, namespace_id, workflow_name, version, status, task_queue, input, context,
        idempotency_key, deadline_at, attempt, retry_initial_interval,
        retry_backoff_coefficient, retry_maximum_interval, retry_maximum_attempts,
        created_at, updated_at, available_at, replay_of_run_id, replay_batch_id, priority,
        concurrency_key
    )
    SELECT w.id, o.namespace_id, o.workflow_name, o.version, 'PENDING', o.task_queue,
        CASE WHEN %(has_input)s THEN %(input)s::json ELSE o.input END, w.context::json,
        %(idempotency_key)s, now() + (o.deadline_at - o.created_at), 1,
        o.retry_initial_interval, o.retry_backoff_coefficient, o.retry_maximum_interval,
        o.retry_maximum_attempts, now(), now(), now(), o.id, %(batch_id)s, o.priority,
        o.concurrency_key
    FROM wanted AS w JOIN stepline_workflow_runs AS o ON o.id = w.source
    ON CONFLICT DO NOTHING
    RETURNING *
), woken AS (
    -- Once per queue, not per run: a chunk of 1000 runs mostly has one queue.
    SELECT pg_notify('stepline_wake', q.namespace_id || ':' || q.task_queue)
    FROM (SELECT DISTINCT namespace_id, task_queue FROM inserted) AS q
)
SELECT inserted.*, (SELECT count(*) FROM woken) AS queues_woken
FROM inserted

-- name: steps_copy
-- Copies attempts into replays: %(copies)s is a JSON array of {source, id, run}. Every
-- column is copied but the attempt's identity, run and record times, whatever its kind.
INSERT INTO stepline_step_attempts (
    id, namespace_id, workflow_run_id, step_id, kind, status, attempt, config, context,
    output, error, child_workflow_run_id, worker_id, wake_up_at, started_at, finished_at,
    created_at, updated_at, copied_from_step_attempt_id, wait_name, wait_match
)
SELECT c.id, s.namespace_id, c.run, s.step_id, s.kind, s.status, s.attempt, s.config,
    s.context, s.output, s.error, s.child_workflow_run_id, s.worker_id, s.wake_up_at,
    s.started_at, s.finished_at, now(), now(), s.id, s.wait_name, s.wait_match
FROM json_to_recordset(%(copies)s::json) AS c(source uuid, id uuid, run uuid)
JOIN stepline_step_attempts AS s ON s.id = c.source

-- name: run_replays_of_batch
-- The replays batch %(batch_id)s made of %(sources)s, for a repeated chunk.
SELECT id, replay_of_run_id FROM stepline_workflow_runs
WHERE replay_of_run_id = ANY(%(sources)s::uuid[]) AND replay_batch_id = %(batch_id)s

-- --- waits ------------------------------------------------------------------------------

-- name: step_latest_started
-- When the run's latest step attempt started (the `since` of an event wait).
SELECT started_at FROM stepline_step_attempts
WHERE workflow_run_id = %(run_id)s
ORDER BY created_at DESC, id DESC
LIMIT 1

-- name: child_run_insert
INSERT INTO stepline_workflow_runs (
    id, namespace_id, workflow_name, version, status, task_queue, input, context,
    retry_initial_interval, retry_backoff_coefficient, retry_maximum_interval,
    retry_maximum_attempts, available_at, parent_run_id, parent_step_attempt_id
) VALUES (
    %(id)s, %(namespace_id)s, %(workflow_name)s, %(version)s, 'PENDING', %(task_queue)s,
    %(input)s::json, %(context)s::json, %(retry_initial_interval)s,
    %(retry_backoff_coefficient)s, %(retry_maximum_interval)s, %(retry_maximum_attempts)s,
    now(), %(parent_run_id)s, %(parent_step_attempt_id)s
)
RETURNING *

-- name: wait_insert
INSERT INTO stepline_waits (
    step_attempt_id, namespace_id, workflow_run_id, kind, name, match, match_key, since,
    wake_up_at
) VALUES (
    %(step_attempt_id)s, %(namespace_id)s, %(run_id)s, %(kind)s, %(name)s, %(match)s::json,
    %(match_key)s, %(since)s, %(wake_up_at)s
)

-- name: wait_resolve
-- Completes an open wait's step with :output (NULL: timed out); the caller deletes the
-- wait (wait_delete) and wakes the run if it has no wait left.
UPDATE stepline_step_attempts
SET status = 'COMPLETED', output = %(output)s::json, finished_at = now(), updated_at = now()
WHERE id = %(step_attempt_id)s AND status = 'RUNNING'
RETURNING *

-- name: wait_delete
DELETE FROM stepline_waits WHERE step_attempt_id = %(step_attempt_id)s

-- name: run_wake_if_resolved
-- A WAITING run with no wait left is claimable at once; its queue's polls are notified
-- (stepline_wake_if_resolved, migration 0003, shared with the trigger a child's end fires).
SELECT stepline_wake_if_resolved(%(run_id)s) AS woken

-- name: waits_timed_out
SELECT step_attempt_id, workflow_run_id FROM stepline_waits
WHERE wake_up_at IS NOT NULL AND wake_up_at <= now()
ORDER BY wake_up_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- --- signals ----------------------------------------------------------------------------

-- name: run_lock_any
-- A client call that changes a run of any status (a signal) holds its row lock, so that
-- it and a RegisterWaits of the run take turns.
SELECT * FROM stepline_workflow_runs
WHERE id = %(run_id)s AND namespace_id = %(namespace_id)s
FOR NO KEY UPDATE

-- name: signal_by_idempotency_key
SELECT * FROM stepline_signals
WHERE run_id = %(run_id)s AND idempotency_key = %(idempotency_key)s

-- name: signal_insert
INSERT INTO stepline_signals (id, namespace_id, run_id, signal_name, payload, idempotency_key)
VALUES (
    %(id)s, %(namespace_id)s, %(run_id)s, %(signal_name)s, %(payload)s::json,
    %(idempotency_key)s
)
RETURNING *

-- name: signal_oldest
-- The run's oldest signal of the name not yet consumed.
SELECT * FROM stepline_signals
WHERE run_id = %(run_id)s AND signal_name = %(signal_name)s AND consumed_at IS NULL
ORDER BY created_at, id
LIMIT 1

-- name: signal_consume
UPDATE stepline_signals
SET consumed_at = now(), consumed_by_step_attempt_id = %(step_attempt_id)s
WHERE id = %(signal_id)s
RETURNING *

-- name: wait_for_signal
-- The run's oldest open wait for the signal name.
SELECT step_attempt_id FROM stepline_waits
WHERE workflow_run_id = %(run_id)s AND kind = 'SIGNAL' AND name = %(signal_name)s
ORDER BY created_at, step_attempt_id
LIMIT 1

-- --- events -----------------------------------------------------------------------------

-- name: event_lock_exclusive
-- A RegisterWaits with an event wait holds this lock on the wait's (namespace, event name,
-- match_key) while it looks for events already received and records the wait; SendEvent
-- holds it shared for each key of its data while it stores the event and looks for waits.
-- So either the event sees the wait or the wait sees the event: none is lost between two
-- transactions that miss each other, and waits for other keys (other orders) never take
-- turns. %(lock_key)s: storage/waiting.py lock_key.
SELECT pg_advisory_xact_lock(hashtextextended(%(lock_key)s, 0))

-- name: event_lock_shared
SELECT pg_advisory_xact_lock_shared(hashtextextended(%(lock_key)s, 0))

-- name: event_by_idempotency_key
SELECT * FROM stepline_events
WHERE namespace_id = %(namespace_id)s AND idempotency_key = %(idempotency_key)s

-- name: event_insert
INSERT INTO stepline_events (id, namespace_id, event_name, data, idempotency_key)
VALUES (%(id)s, %(namespace_id)s, %(event_name)s, %(data)s::json, %(idempotency_key)s)
ON CONFLICT (namespace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *

-- name: event_get
SELECT * FROM stepline_events WHERE namespace_id = %(namespace_id)s AND id = %(event_id)s

-- name: events_since
-- The events of a name received at or after :since, oldest first: an event wait being
-- registered takes the first one it matches.
SELECT * FROM stepline_events
WHERE namespace_id = %(namespace_id)s AND event_name = %(event_name)s
    AND received_at >= %(since)s
ORDER BY received_at, id

-- name: waits_for_event
-- The open event waits an event may resolve: those whose match_key is one of the event's
-- keys (storage/matching.py), registered for events received at or before it. Locked in
-- one order, so that concurrent events never deadlock; a wait another event resolved
-- meanwhile is gone when the lock is granted.
SELECT w.step_attempt_id, w.workflow_run_id, w.match FROM stepline_waits AS w
WHERE w.kind = 'EVENT' AND w.namespace_id = %(namespace_id)s AND w.name = %(event_name)s
    AND w.match_key = ANY(%(keys)s::text[])
    AND w.since <= %(received_at)s
ORDER BY w.step_attempt_id
FOR UPDATE

-- name: event_run_insert
INSERT INTO stepline_event_runs (event_id, run_id, step_attempt_id, relation)
VALUES (%(event_id)s, %(run_id)s, %(step_attempt_id)s, 'RESUMED')
ON CONFLICT DO NOTHING

-- name: event_run_started
-- A run an event trigger started (in the event's transaction).
INSERT INTO stepline_event_runs (event_id, run_id, relation)
VALUES (%(event_id)s, %(run_id)s, 'STARTED')

-- name: event_runs
-- One page of an event's runs, keyset on (when the event reached the run, run_id): after
-- the previous page's last key (the epoch and the nil UUID for the first page).
SELECT r.*, e.relation, e.created_at AS linked_at FROM stepline_event_runs AS e
JOIN stepline_workflow_runs AS r ON r.id = e.run_id
WHERE e.event_id = %(event_id)s
    AND (e.created_at, e.run_id) > (%(after_at)s, %(after_id)s)
ORDER BY e.created_at, e.run_id
LIMIT %(limit)s

-- name: event_list
-- A keyset list like run_list: received_at is the list's created_at.
SELECT * FROM (
    SELECT e.*, e.received_at AS created_at FROM stepline_events AS e
    WHERE e.namespace_id = %(namespace_id)s
) AS event
WHERE true {filters}
ORDER BY {order}
LIMIT %(limit)s

-- name: event_filter_event_name
AND event_name = %(event_name)s

-- name: event_filter_received_after
AND created_at >= %(received_after)s

-- name: event_filter_received_before
AND created_at < %(received_before)s

-- --- access -----------------------------------------------------------------------------

-- name: namespace_insert
INSERT INTO stepline_namespaces (namespace_id, description, retention)
VALUES (%(namespace_id)s, %(description)s, %(retention)s)
ON CONFLICT (namespace_id) DO NOTHING
RETURNING *

-- name: namespace_get
SELECT * FROM stepline_namespaces WHERE namespace_id = %(namespace_id)s

-- name: namespace_list
SELECT * FROM stepline_namespaces WHERE namespace_id > %(after)s
ORDER BY namespace_id LIMIT %(limit)s

-- name: namespace_update
UPDATE stepline_namespaces SET
    description = coalesce(%(description)s, description),
    retention = coalesce(%(retention)s, retention)
WHERE namespace_id = %(namespace_id)s
RETURNING *

-- name: api_key_insert
INSERT INTO stepline_api_keys (key_id, namespace_id, name, role, secret_sha256)
VALUES (%(key_id)s, %(namespace_id)s, %(name)s, %(role)s, %(secret_sha256)s)
RETURNING *

-- name: api_key_get
SELECT * FROM stepline_api_keys WHERE key_id = %(key_id)s

-- name: api_key_list
SELECT * FROM stepline_api_keys WHERE namespace_id = %(namespace_id)s
ORDER BY created_at, key_id

-- name: api_key_revoke
UPDATE stepline_api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE key_id = %(key_id)s AND namespace_id = %(namespace_id)s
RETURNING *

-- name: api_key_touch
UPDATE stepline_api_keys SET last_used_at = now() WHERE key_id = ANY(%(key_ids)s)

-- --- registry ---------------------------------------------------------------------------

-- name: worker_upsert
-- A worker registering (again): what it runs is replaced by worker_workflows_clear and
-- worker_workflow_insert in the same transaction.
INSERT INTO stepline_workers (namespace_id, worker_id, task_queue)
VALUES (%(namespace_id)s, %(worker_id)s, %(task_queue)s)
ON CONFLICT (namespace_id, worker_id) DO UPDATE SET
    task_queue = excluded.task_queue, registered_at = now(), last_seen_at = now()

-- name: worker_workflows_clear
DELETE FROM stepline_worker_workflows
WHERE namespace_id = %(namespace_id)s AND worker_id = %(worker_id)s

-- name: worker_workflow_insert
INSERT INTO stepline_worker_workflows (namespace_id, worker_id, workflow_name, version)
VALUES (%(namespace_id)s, %(worker_id)s, %(workflow_name)s, %(version)s)

-- name: workflow_insert
INSERT INTO stepline_workflows (namespace_id, workflow_name)
VALUES (%(namespace_id)s, %(workflow_name)s)
ON CONFLICT (namespace_id, workflow_name) DO NOTHING

-- name: workflow_version_upsert
-- The latest registration describes the version; registered_at stays the first one's.
INSERT INTO stepline_workflow_versions (
    namespace_id, workflow_name, version, input_schema, triggers, retry_policy,
    max_concurrency, max_concurrency_per_key, priority, max_crashes, on_poison
) VALUES (
    %(namespace_id)s, %(workflow_name)s, %(version)s, %(input_schema)s::json,
    %(triggers)s::json, %(retry_policy)s::json, %(max_concurrency)s,
    %(max_concurrency_per_key)s, %(priority)s, %(max_crashes)s, %(on_poison)s
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
-- only when they changed: a registration repeating them writes nothing, so the claims'
-- lock on the row (stepline_slot_take) is not taken at every worker's start.
UPDATE stepline_workflows AS w SET
    max_concurrency = v.max_concurrency, max_concurrency_per_key = v.max_concurrency_per_key
FROM (
    SELECT max_concurrency, max_concurrency_per_key FROM stepline_workflow_versions
    WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s
    ORDER BY registered_at DESC, version DESC
    LIMIT 1
) AS v
WHERE w.namespace_id = %(namespace_id)s AND w.workflow_name = %(workflow_name)s
    AND (w.max_concurrency, w.max_concurrency_per_key)
        IS DISTINCT FROM (v.max_concurrency, v.max_concurrency_per_key)
RETURNING w.max_concurrency, w.max_concurrency_per_key

-- name: workflow_slots_adopt
-- A limit newly set on a workflow: its runs RUNNING already take slots (possibly more than
-- the limit; the claims then wait until enough have left RUNNING). The runs are marked
-- first, under their row locks: a run that leaves RUNNING meanwhile is rechecked and left
-- out, so no slot is taken for a run whose end the trigger has already seen.
WITH adopted AS (
    UPDATE stepline_workflow_runs SET holds_slot = true
    WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s
        AND status = 'RUNNING' AND NOT holds_slot
    RETURNING id, namespace_id, workflow_name, concurrency_key
)
INSERT INTO stepline_concurrency_slots (run_id, namespace_id, workflow_name, concurrency_key)
SELECT id, namespace_id, workflow_name, concurrency_key FROM adopted

-- name: worker_touch
UPDATE stepline_workers SET last_seen_at = now()
WHERE namespace_id = %(namespace_id)s AND worker_id = %(worker_id)s

-- name: workers_list
-- Workers in worker_id order; active_runs reads the queue's RUNNING runs (claim index).
SELECT k.*, k.last_seen_at > now() - %(online_window)s AS online,
    (SELECT count(*) FROM stepline_workflow_runs AS r
        WHERE r.namespace_id = k.namespace_id AND r.task_queue = k.task_queue
            AND r.status = 'RUNNING' AND r.worker_id = k.worker_id) AS active_runs
FROM stepline_workers AS k
WHERE k.namespace_id = %(namespace_id)s
    AND (%(worker_id)s::text IS NULL OR k.worker_id = %(worker_id)s)
    AND (%(task_queue)s::text IS NULL OR k.task_queue = %(task_queue)s)
ORDER BY k.worker_id

-- name: worker_workflows_list
SELECT worker_id, workflow_name, version FROM stepline_worker_workflows
WHERE namespace_id = %(namespace_id)s
    AND (%(worker_id)s::text IS NULL OR worker_id = %(worker_id)s)

-- name: workflows_list
SELECT w.*,
    (SELECT count(DISTINCT k.worker_id) FROM stepline_worker_workflows AS ww
        JOIN stepline_workers AS k
            ON k.namespace_id = ww.namespace_id AND k.worker_id = ww.worker_id
        WHERE ww.namespace_id = w.namespace_id AND ww.workflow_name = w.workflow_name
            AND k.last_seen_at > now() - %(online_window)s) AS workers_online
FROM stepline_workflows AS w
WHERE w.namespace_id = %(namespace_id)s
    AND (%(workflow_name)s::text IS NULL OR w.workflow_name = %(workflow_name)s)

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
            AND k.last_seen_at > now() - %(online_window)s) AS workers_online
FROM stepline_workflow_versions AS v
WHERE v.namespace_id = %(namespace_id)s
    AND (%(workflow_name)s::text IS NULL OR v.workflow_name = %(workflow_name)s)

-- name: workflow_run_counts
-- Every status of one workflow (its list index).
SELECT workflow_name, version, status, count(*) AS count FROM stepline_workflow_runs
WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s
GROUP BY workflow_name, version, status

-- name: workflows_active_run_counts
-- The non-terminal runs of a namespace (its status index): terminal runs are history.
SELECT workflow_name, version, status, count(*) AS count FROM stepline_workflow_runs
WHERE namespace_id = %(namespace_id)s AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
GROUP BY workflow_name, version, status

-- name: workflow_pause
-- A name nothing registered can be paused too (before its first deploy); paused_at stays
-- the first pause's.
INSERT INTO stepline_workflows (namespace_id, workflow_name, paused, paused_reason, paused_at)
VALUES (%(namespace_id)s, %(workflow_name)s, true, %(reason)s, now())
ON CONFLICT (namespace_id, workflow_name) DO UPDATE SET
    paused = true,
    paused_reason = excluded.paused_reason,
    paused_at = coalesce(stepline_workflows.paused_at, now())

-- name: workflow_resume
UPDATE stepline_workflows SET paused = false, paused_reason = '', paused_at = NULL
WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s

-- name: workflow_crashes_reset
-- ResumeWorkflow gives the workflow's PENDING runs a fresh crash count (a poison run its
-- policy put back gets max_crashes claims again); the partial index holds only those runs.
UPDATE stepline_workflow_runs SET crash_count = 0
WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s
    AND status = 'PENDING' AND crash_count > 0

-- name: workflow_queues
-- The queues holding the workflow's unfinished runs: woken when it resumes.
SELECT DISTINCT task_queue FROM stepline_workflow_runs
WHERE namespace_id = %(namespace_id)s AND workflow_name = %(workflow_name)s
    AND status IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')

-- --- schedules --------------------------------------------------------------------------

-- fragment: schedule_row
-- A new schedule's columns and values, shared by a create and a registration.
(
    namespace_id, schedule_id, cron, fire_interval, timezone, workflow_name, version,
    task_queue, input, priority, overlap, catchup_window, paused, next_fire_at
) VALUES (
    %(namespace_id)s, %(schedule_id)s, %(cron)s, %(fire_interval)s, %(timezone)s,
    %(workflow_name)s, %(version)s, %(task_queue)s, %(input)s::json, %(priority)s,
    %(overlap)s, %(catchup_window)s, %(paused)s, %(next_fire_at)s
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
INSERT INTO stepline_schedules AS s {{schedule_row}}
ON CONFLICT (namespace_id, schedule_id) DO UPDATE SET
    cron = excluded.cron,
    fire_interval = excluded.fire_interval,
    timezone = excluded.timezone,
    workflow_name = excluded.workflow_name,
    task_queue = excluded.task_queue,
    next_fire_at = excluded.next_fire_at,
    updated_at = now()
WHERE (s.cron, s.fire_interval, s.timezone, s.workflow_name, s.task_queue)
    IS DISTINCT FROM (excluded.cron, excluded.fire_interval, excluded.timezone,
        excluded.workflow_name, excluded.task_queue)

-- name: schedule_get
SELECT * FROM stepline_schedules
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s

-- name: schedule_lock
-- A fire's first statement: the schedule's row lock, held until the fire commits.
SELECT * FROM stepline_schedules
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s
FOR UPDATE

-- name: schedule_list
-- One page in schedule_id order, and one row more to tell whether there are more.
SELECT * FROM stepline_schedules
WHERE namespace_id = %(namespace_id)s
    AND (%(after)s::text IS NULL OR schedule_id > %(after)s::text)
ORDER BY schedule_id
LIMIT %(limit)s

-- name: schedule_delete
DELETE FROM stepline_schedules
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s
RETURNING schedule_id

-- name: schedule_pause
UPDATE stepline_schedules SET paused = true, updated_at = now()
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s
RETURNING *

-- name: schedule_resume
-- A paused schedule resumes from its next fire after now; a running one is unchanged.
UPDATE stepline_schedules SET
    next_fire_at = CASE WHEN paused THEN %(next_fire_at)s ELSE next_fire_at END,
    updated_at = CASE WHEN paused THEN now() ELSE updated_at END,
    paused = false
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s
RETURNING *

-- name: schedules_due
-- Unpaused schedules whose next fire has come, oldest fire first (the due index).
SELECT *, now() AS db_now FROM stepline_schedules
WHERE NOT paused AND next_fire_at <= now()
ORDER BY next_fire_at
LIMIT %(limit)s

-- name: schedules_buffered
-- Unpaused schedules holding a buffered fire whose last run has ended (or is gone).
SELECT s.* FROM stepline_schedules AS s
LEFT JOIN stepline_workflow_runs AS r ON r.id = s.last_run_id
WHERE s.buffered_fire_at IS NOT NULL AND NOT s.paused
    AND (r.id IS NULL OR r.status IN ('COMPLETED', 'FAILED', 'CANCELED'))
ORDER BY s.buffered_fire_at
LIMIT %(limit)s

-- name: schedule_next_due
-- The database clock, and how long until the next fire of an unpaused schedule.
SELECT now() AS db_now, min(next_fire_at) - now() AS due_in
FROM stepline_schedules WHERE NOT paused

-- name: run_status_of
-- Whether a schedule's last run is still active (its overlap policy asks).
SELECT status FROM stepline_workflow_runs WHERE id = %(run_id)s

-- name: schedule_record_fire
UPDATE stepline_schedules SET
    next_fire_at = %(next_fire_at)s,
    last_fire_at = %(last_fire_at)s,
    buffered_fire_at = %(buffered_fire_at)s,
    last_run_id = coalesce(%(run_id)s::uuid, last_run_id),
    missed_fires = missed_fires + %(missed)s,
    skipped_fires = skipped_fires + %(skipped)s,
    updated_at = now()
WHERE namespace_id = %(namespace_id)s AND schedule_id = %(schedule_id)s
RETURNING *

-- --- retention --------------------------------------------------------------------------

-- name: retention_lock
-- One server deletes at a time: whoever gets this lock first, for its batch's
-- transaction only, so a server that dies in the middle of a batch leaves no lock behind.
SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS granted

-- name: runs_delete_expired
-- One batch of retention: up to %(limit)s runs of the namespace that ended longer than
-- its retention ago (none while it is zero), oldest end first, except a child whose parent
-- is still active. Rows another transaction holds are skipped, not waited for. A run's
-- steps, signals and waits go by ON DELETE CASCADE; its event links (no foreign key) here.
WITH expired AS (
    SELECT r.id FROM stepline_workflow_runs AS r
    WHERE r.namespace_id = %(namespace_id)s
        AND r.status IN ('COMPLETED', 'FAILED', 'CANCELED')
        AND r.finished_at < now() - (
            SELECT retention FROM stepline_namespaces
            WHERE namespace_id = %(namespace_id)s AND retention > interval '0'
        )
        -- The parent's status by a lookup of its primary key, per child: written as a
        -- (NOT) EXISTS the planner may instead join with, or hash, every live run, reading
        -- the whole table once per batch. A parent gone is no live parent.
        AND coalesce((
            SELECT p.status FROM stepline_workflow_runs AS p WHERE p.id = r.parent_run_id
        ), 'COMPLETED') NOT IN ('PENDING', 'RUNNING', 'SLEEPING', 'WAITING')
    ORDER BY r.finished_at
    LIMIT %(limit)s
    FOR UPDATE OF r SKIP LOCKED
), links AS (
    DELETE FROM stepline_event_runs AS e USING expired WHERE e.run_id = expired.id
), deleted AS (
    DELETE FROM stepline_workflow_runs AS r USING expired WHERE r.id = expired.id
    RETURNING r.id
)
SELECT count(*) AS deleted FROM deleted
