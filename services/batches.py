"""What the batch calls share: a request's chunk (filters, size, where the batch goes on)
and the answer's counts and token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services import batch_tokens, filters, page_tokens
from services import validation as v
from stepline.v1 import workflow_service_pb2 as pb
from storage.records import RunBatchParams, RunBatchResult

BatchRequest = pb.BatchCancelWorkflowRunsRequest | pb.BatchReplayWorkflowRunsRequest


@dataclass(frozen=True, slots=True)
class Chunk:
    params: RunBatchParams
    scope: str
    """The batch's token scope: its operation, namespace, filters and `scoped` values."""
    position: batch_tokens.Position


def chunk_of(request: BatchRequest, operation: str, *scoped: object) -> Chunk:
    """The chunk a batch request asks for; INVALID_ARGUMENT for a bad field or token."""
    namespace_id = v.namespace(request.namespace_id)
    run_filter = filters.run_filter(request)
    scope = page_tokens.scope_of(
        operation, namespace_id, *filters.scope_parts(run_filter), *scoped, request.dry_run
    )
    position = batch_tokens.decode(request.page_token, scope)
    params = RunBatchParams(
        namespace_id=namespace_id,
        filter=run_filter,
        limit=v.page_size(request.page_size, v.DEFAULT_BATCH_SIZE),
        after=position.after,
        as_of=position.as_of,
        dry_run=request.dry_run,
    )
    return Chunk(params, scope, position)


def answer(result: RunBatchResult, chunk: Chunk, batch_id: str | None = None) -> dict[str, Any]:
    """The response fields every batch call answers."""
    return {
        "affected_count": result.affected,
        "skipped_count": result.skipped,
        "run_ids": result.run_ids,
        "next_page_token": batch_tokens.next_token(result, batch_id, chunk.scope),
        "has_more": result.has_more,
    }
