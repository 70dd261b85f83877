"""Batch tokens: where a batch (BatchCancelWorkflowRuns, BatchReplayWorkflowRuns) goes on.

A token holds the last run the previous chunk looked at, the batch's bound on created_at
(runs created after its first chunk began are not part of it) and the batch's id, sealed
with the batch's scope (operation, namespace, filters, from_step_id, dry_run) exactly as
a page token is (services/page_tokens.py). Repeating a call with the same token repeats
the same chunk, which the store makes harmless: a canceled run is not canceled again, a
batch replays a run once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services import page_tokens
from services.errors import invalid
from storage.records import Cursor, RunBatchResult


@dataclass(frozen=True, slots=True)
class Position:
    """Where a batch goes on: nothing on its first call."""

    after: Cursor | None = None
    as_of: datetime | None = None
    batch_id: str | None = None


def decode(token: str, scope: str) -> Position:
    doc = page_tokens.unseal(token, scope)
    if doc is None:
        return Position()
    after = Cursor(page_tokens.moment(doc["t"]), doc["i"], forward=True)
    return Position(after, page_tokens.moment(doc["a"]), doc.get("b"))


def next_token(result: RunBatchResult, batch_id: str | None, scope: str) -> str:
    """The token of the chunk after `result`'s; empty when it was the last."""
    if not result.has_more or result.last is None or result.as_of is None:
        return ""
    doc = {
        "t": page_tokens.micros(result.last.created_at),
        "i": result.last.id,
        "a": page_tokens.micros(result.as_of),
    }
    if batch_id is not None:
        doc["b"] = batch_id
    return page_tokens.seal(doc, scope)


def batch_id_of(position: Position, requested: str | None, minted: str) -> str:
    """The batch's id: the token's; else the request's; else `minted` (a first call with
    none). A request naming another batch than its token's is INVALID_ARGUMENT."""
    if position.batch_id is not None:
        if requested is not None and requested != position.batch_id:
            raise invalid("batch_id", "does not match the batch of page_token")
        return position.batch_id
    return requested or minted
