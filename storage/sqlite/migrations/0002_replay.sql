-- Replays (ReplayWorkflowRun, BatchReplayWorkflowRuns); mirrors
-- storage/postgres/migrations/0002_replay.sql.

-- The run a replay replays, and the batch that made it. No foreign key: an original may
-- one day be deleted by retention while its replays stay.
ALTER TABLE stepline_workflow_runs ADD COLUMN replay_of_run_id TEXT;
ALTER TABLE stepline_workflow_runs ADD COLUMN replay_batch_id TEXT;

-- The replays of a run: the replay_of_run_id list filter in keyset order, and a run's
-- replay_count. Partial: most runs are no replay.
CREATE INDEX stepline_workflow_runs_list_replay_of
    ON stepline_workflow_runs (namespace_id, replay_of_run_id, created_at, id)
    WHERE replay_of_run_id IS NOT NULL;

-- A batch replays each run at most once, however often a chunk is repeated.
CREATE UNIQUE INDEX stepline_workflow_runs_replay_batch
    ON stepline_workflow_runs (replay_of_run_id, replay_batch_id)
    WHERE replay_batch_id IS NOT NULL;

-- A step attempt copied into a replay names the attempt it was copied from.
ALTER TABLE stepline_step_attempts ADD COLUMN copied_from_step_attempt_id TEXT;
