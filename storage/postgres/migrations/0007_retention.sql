-- Retention (tracker issue 16): the maintenance loop deletes the runs that ended longer
-- ago than their namespace's retention; mirrors storage/sqlite/migrations/0007_retention.sql.

-- Which runs are due for deletion: one range scan per namespace, oldest end first.
-- Partial: live runs (the claim's) are not in it, and the claim's partial indexes do not
-- hold ended runs, so a large history costs a claim nothing.
CREATE INDEX stepline_workflow_runs_retention
    ON stepline_workflow_runs (namespace_id, finished_at)
    WHERE status IN ('COMPLETED', 'FAILED', 'CANCELED');

-- A deleted run's signals go by ON DELETE CASCADE and its event links by the deleting
-- statement, each looked up by run: the partial indexes of 0003 cannot serve that, and
-- without these each deleted run would scan the whole table.
CREATE INDEX stepline_signals_by_run ON stepline_signals (run_id);
CREATE INDEX stepline_event_runs_by_run ON stepline_event_runs (run_id);
