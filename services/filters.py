"""The list filters, which ListWorkflowRuns and the batch calls take alike."""

from __future__ import annotations

from services import convert
from services import validation as v
from stepline.v1 import workflow_service_pb2 as pb
from storage.records import RunFilter

FilteredRequest = (
    pb.ListWorkflowRunsRequest
    | pb.BatchCancelWorkflowRunsRequest
    | pb.BatchReplayWorkflowRunsRequest
)


def run_filter(request: FilteredRequest) -> RunFilter:
    return RunFilter(
        statuses=tuple(v.enum_values(request.statuses, convert.RUN_STATUS_FROM_PROTO, "statuses")),
        workflow_name=v.optional_name(request.workflow_name, "workflow_name"),
        task_queue=v.optional_name(request.task_queue, "task_queue"),
        created_after=v.timestamp(request, "created_after"),
        created_before=v.timestamp(request, "created_before"),
        replay_of_run_id=v.optional_identifier(request.replay_of_run_id, "replay_of_run_id"),
        parent_run_id=(
            v.optional_identifier(request.parent_run_id, "parent_run_id")
            if isinstance(request, pb.ListWorkflowRunsRequest)
            else None
        ),
    )


def scope_parts(wanted: RunFilter) -> list[object]:
    """What a token's scope holds of the filters: a token works with the same filters only."""
    return [
        sorted(s.value for s in wanted.statuses),
        wanted.workflow_name,
        wanted.task_queue,
        wanted.created_after,
        wanted.created_before,
        wanted.replay_of_run_id,
        *([wanted.parent_run_id] if wanted.parent_run_id else []),
    ]
