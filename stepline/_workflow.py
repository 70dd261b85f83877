"""`@workflow`: names an async function `(ctx, input) -> result` as a workflow."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from stepline._inputs import InputType, input_type

if TYPE_CHECKING:
    from stepline._context import WorkflowContext

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
WorkflowFn = Callable[["WorkflowContext", InputT], Awaitable[OutputT]]
OnPoison = Literal["fail", "pause"]


@dataclass(frozen=True, slots=True)
class Workflow(Generic[InputT, OutputT]):
    """A workflow a Worker can run: its `name`, `version` and function `fn`; the worker
    registers it with the server, with its event trigger when it has one."""

    name: str
    version: str
    fn: WorkflowFn[InputT, OutputT]
    on_event: str = ""
    """The event that starts a run of it (SendEvent), e.g. "order.created"; "" for none."""
    match: Mapping[str, Any] | None = field(default=None)
    """Top-level values the event's data must hold for the trigger to fire."""
    input_type: InputType | None = field(default=None, compare=False, repr=False)
    """The typed input (a pydantic model, dataclass or TypedDict annotation), if any."""
    max_concurrency: int = 0
    """The most runs of the workflow RUNNING at once, across all workers and servers; 0 for
    no limit. Runs beyond it stay PENDING until a slot frees."""
    max_concurrency_per_key: int = 0
    """The most RUNNING runs with one `concurrency_key` (given at start); 0 for no limit."""
    priority: int = 0
    """The priority of runs started without one, 1 (highest) to 5; 0 for the server's (3)."""
    max_crashes: int | None = None
    """Crashes in a row (lease expiries, no step completed) that make a run a poison run;
    None: the server's --max-crashes; 0: no limit."""
    on_poison: OnPoison = "fail"
    """What a poison run becomes: "fail" (FAILED, WORKER_CRASHED) or "pause" (the
    workflow is paused and the run waits, PENDING, for ResumeWorkflow)."""
    schedule: str = ""
    """A cron expression: the worker keeps the schedule "workflow:<name>" at it."""
    timezone: str = ""
    """The IANA time zone `schedule` is read in; "" for UTC."""

    @property
    def schedule_id(self) -> str:
        """The ID of the schedule `schedule=` keeps: "workflow:<name>"."""
        return f"workflow:{self.name}"


def workflow(
    name: str | None = None,
    *,
    version: str = "",
    on_event: str = "",
    match: Mapping[str, Any] | None = None,
    max_concurrency: int = 0,
    max_concurrency_per_key: int = 0,
    priority: int = 0,
    max_crashes: int | None = None,
    on_poison: OnPoison = "fail",
    schedule: str = "",
    timezone: str = "",
) -> Callable[[WorkflowFn[InputT, OutputT]], Workflow[InputT, OutputT]]:
    """Declare a workflow: `@workflow(name="order.fulfil", version="1")` over
    `async def fulfil(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]`.

    The name defaults to the function's name. The function receives the run's input as
    its second argument and must be `async`; its result must be JSON-serialisable.
    Give every deployment of changed code a new `version`: a worker claims only runs of
    the versions it registered, and a run started without a version is pinned to the
    newest one (see "Deploy a new version safely" in the docs). `on_event` (with an
    optional `match`) is registered as the workflow's event trigger.

    `max_concurrency` caps the runs of the workflow running at once across every worker
    and server, `max_concurrency_per_key` the running runs sharing one `concurrency_key`
    (given at start, e.g. a customer ID); 0 means no limit. The server holds the runs
    beyond a limit PENDING and starts them, oldest first, as slots free; sleeping and
    waiting runs hold no slot. The newest registered version's limits apply. `priority`
    (1 highest to 5) is given to the runs started without one (0: the server's default, 3).

    When the input parameter is annotated with a pydantic model, a dataclass or a
    TypedDict, its JSON Schema is registered (the server refuses starts whose input does
    not match it) and the function receives a validated value of that type.

    A run whose workers crash `max_crashes` times in a row (lease expiries with no step
    completed; default: the server's --max-crashes, 0 for no limit) is a poison run:
    `on_poison="fail"` fails it with WORKER_CRASHED, `on_poison="pause"` pauses the
    workflow and keeps the run PENDING until `stepline workflows resume`.

    `schedule="0 * * * *"` (with an optional IANA `timezone`) makes the worker create the
    schedule "workflow:<name>" when it registers, and update it when the expression
    changes; each fire starts a run with no input and no version (any worker serving the
    workflow takes it)."""
    if on_poison not in ("fail", "pause"):
        raise ValueError(f'on_poison must be "fail" or "pause", not {on_poison!r}')
    if max_crashes is not None and max_crashes < 0:
        raise ValueError("max_crashes must be 0 (no limit) or more")
    if timezone and not schedule:
        raise ValueError("timezone is the schedule's: give schedule= too")

    for label, limit in (
        ("max_concurrency", max_concurrency),
        ("max_concurrency_per_key", max_concurrency_per_key),
    ):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"{label} must be an int >= 0 (0: no limit), not {limit!r}")
    if isinstance(priority, bool) or priority not in range(6):
        raise ValueError(
            f"priority must be 1 (highest) to 5, or 0 for the default, not {priority!r}"
        )

    def wrap(fn: WorkflowFn[InputT, OutputT]) -> Workflow[InputT, OutputT]:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"workflow {fn.__qualname__} must be an async function")
        return Workflow(
            name=name or fn.__name__,
            version=version,
            fn=fn,
            on_event=on_event,
            match=match,
            input_type=input_type(fn),
            max_concurrency=max_concurrency,
            max_concurrency_per_key=max_concurrency_per_key,
            priority=priority,
            max_crashes=max_crashes,
            on_poison=on_poison,
            schedule=schedule.strip(),
            timezone=timezone,
        )

    return wrap


AnyWorkflow = Workflow[Any, Any]
