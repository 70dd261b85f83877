"""Replays, for every backend: which runs a chunk replays and which steps each replay
copies, the replay's context, and the values of the statements that write them
(`run_replay_insert`, `steps_copy` in queries.sql; storage/*/replays.py runs them).

A replay copies, from the original's history, the COMPLETED attempt of every step that
was first recorded before `from_step_id`, in the order the steps were first recorded,
whatever the step's kind: so the worker's deterministic re-execution answers them from
history and runs `from_step_id` and what follows for real. Copies get new IDs that sort
in that order (they share the transaction's created_at) and keep everything else the
original recorded: output, config, times, worker, attempt number, wake-up time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.errors import IdempotencyConflict, RunNotTerminal, StepNotFound, StoreError
from storage.ids import sorted_uuid7s
from storage.records import (
    Json,
    Run,
    RunReplayParams,
    RunReplayResult,
    RunStatus,
    StepStatus,
)
from storage.rows import Row

TRACE_KEY = "trace"
"""The key of a run's context that holds its caller's W3C trace context (written by the
server, services/tracecontext.py): the one key of a context storage reads."""
LINKS_KEY = "links"
"""Inside a replay's "trace": the trace contexts it links to (the original's)."""
_W3C_KEYS = ("traceparent", "tracestate")
_COMPACT = (",", ":")


def steps_to_copy(history: Iterable[Row], from_step_id: str | None) -> list[str] | None:
    """The IDs of the attempts a replay from `from_step_id` copies, in first-recorded
    order of their steps; None when the history has no such step. `history` is the
    original's attempts (`id`, `step_id`, `status`) in (created_at, id) order. With no
    `from_step_id` the replay starts over and copies nothing."""
    if from_step_id is None:
        return []
    first_recorded: dict[str, int] = {}
    completed: dict[str, str] = {}
    for position, attempt in enumerate(history):
        first_recorded.setdefault(attempt["step_id"], position)
        if attempt["status"] == StepStatus.COMPLETED.value:
            completed[attempt["step_id"]] = attempt["id"]
    cutoff = first_recorded.get(from_step_id)
    if cutoff is None:
        return None
    # dicts keep insertion order: first_recorded lists the steps as first recorded.
    return [
        completed[step_id]
        for step_id, position in first_recorded.items()
        if position < cutoff and step_id in completed
    ]


def replay_context(original: Json | None, trace: Json | None) -> Json | None:
    """The replay's context: the original's keys, with "trace" holding the replay's
    caller's trace context (`trace`, when the call carried one) and a link to the
    original's trace (when it had one)."""
    if trace is None and (original is None or f'"{TRACE_KEY}"' not in original):
        return original  # nothing to replace: the original's text as it is
    context: dict[str, Any] = json.loads(original) if original is not None else {}
    stored = context.pop(TRACE_KEY, None)
    new_trace: dict[str, Any] = json.loads(trace) if trace is not None else {}
    if isinstance(stored, dict) and isinstance(stored.get("traceparent"), str):
        new_trace[LINKS_KEY] = [{k: stored[k] for k in _W3C_KEYS if isinstance(stored.get(k), str)}]
    if new_trace:
        context[TRACE_KEY] = new_trace
    if original is None and not context:
        return None
    return json.dumps(context, separators=_COMPACT)


@dataclass(slots=True)
class ReplayPlan:
    """What one chunk replays: the originals (in order), their new runs, and the copies."""

    sources: list[str] = field(default_factory=list)
    """The runs to replay, oldest first."""
    ids: list[str] = field(default_factory=list)
    """The new run of each source; sorted, so that replays list in their originals' order."""
    contexts: list[Json | None] = field(default_factory=list)
    copies: list[tuple[str, str, str]] = field(default_factory=list)
    """(attempt to copy, its copy's ID, the new run)."""
    refused: list[StoreError] = field(default_factory=list)
    """Why each run left out cannot be replayed (RunNotTerminal, StepNotFound)."""


def plan_replays(
    picked: Sequence[Row],
    history: Sequence[Row],
    from_step_id: str | None,
    trace: Json | None,
) -> ReplayPlan:
    """The plan for `picked` runs (`id`, `created_at`, `status`, `context`, oldest first),
    given `history`: their attempts in (workflow_run_id, created_at, id) order."""
    by_run: dict[str, list[Row]] = {}
    for attempt in history:
        by_run.setdefault(attempt["workflow_run_id"], []).append(attempt)
    plan = ReplayPlan()
    chosen: list[tuple[str, Json | None, list[str]]] = []
    for run in picked:
        run_id, status = run["id"], RunStatus(run["status"])
        if not status.is_terminal:
            plan.refused.append(RunNotTerminal(run_id, status))
            continue
        copied = steps_to_copy(by_run.get(run_id, ()), from_step_id)
        if copied is None:
            plan.refused.append(StepNotFound(run_id, from_step_id or ""))
            continue
        chosen.append((run_id, replay_context(run["context"], trace), copied))
    new_runs = sorted_uuid7s(len(chosen))
    new_steps = iter(sorted_uuid7s(sum(len(copied) for _, _, copied in chosen)))
    for (run_id, context, copied), new_run in zip(chosen, new_runs, strict=True):
        plan.sources.append(run_id)
        plan.ids.append(new_run)
        plan.contexts.append(context)
        plan.copies.extend((step, next(new_steps), new_run) for step in copied)
    return plan


def insert_values(
    plan: ReplayPlan,
    *,
    batch_id: str | None = None,
    idempotency_key: str | None = None,
    input: Json | None = None,
) -> dict[str, Any]:
    """The values of run_replay_insert: the plan's new runs (`input` replaces the
    originals' when given)."""
    replays = [
        {"source": source, "id": new, "context": context}
        for source, new, context in zip(plan.sources, plan.ids, plan.contexts, strict=True)
    ]
    return {
        "replays": json.dumps(replays, separators=_COMPACT),
        "batch_id": batch_id,
        "idempotency_key": idempotency_key,
        "has_input": input is not None,
        "input": input,
    }


def copy_values(plan: ReplayPlan, made: set[str]) -> dict[str, Any]:
    """The values of steps_copy: the copies into the new runs in `made`, the ones the
    insert made (a repeated chunk's earlier replays have their copies already)."""
    copies = [
        {"source": source, "id": new, "run": run} for source, new, run in plan.copies if run in made
    ]
    return {"copies": json.dumps(copies, separators=_COMPACT)}


def new_run_ids(
    plan: ReplayPlan, inserted: Iterable[Row], earlier: Callable[[list[str]], Iterable[Row]]
) -> list[str]:
    """The replay of each source, in the plan's order: made by the insert (`inserted`
    rows), or made before by the same batch (`earlier` reads them, given the sources the
    insert skipped: a repeated chunk)."""
    made = {row["replay_of_run_id"]: row["id"] for row in inserted}
    if missing := [source for source in plan.sources if source not in made]:
        made.update((row["replay_of_run_id"], row["id"]) for row in earlier(missing))
    return [made[source] for source in plan.sources if source in made]


def earlier_replay(run: Run, params: RunReplayParams) -> RunReplayResult:
    """What a replay whose idempotency key `run` already holds answers: that run, when
    it replays the same run; IdempotencyConflict otherwise."""
    if run.replay_of_run_id != params.run_id:
        raise IdempotencyConflict(params.idempotency_key or "", run.run_id, run.workflow_name)
    return RunReplayResult(run, existing=True)
