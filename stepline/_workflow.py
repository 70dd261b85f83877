"""`@workflow`: names an async function `(ctx, input) -> result` as a workflow."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from stepline._context import WorkflowContext

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
WorkflowFn = Callable[["WorkflowContext", InputT], Awaitable[OutputT]]


@dataclass(frozen=True, slots=True)
class Workflow(Generic[InputT, OutputT]):
    """A workflow a Worker can run: its `name`, `version` and function `fn`."""

    name: str
    version: str
    fn: WorkflowFn[InputT, OutputT]


def workflow(
    name: str | None = None, *, version: str = ""
) -> Callable[[WorkflowFn[InputT, OutputT]], Workflow[InputT, OutputT]]:
    """Declare a workflow: `@workflow(name="order.fulfil", version="1")` over
    `async def fulfil(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]`.

    The name defaults to the function's name. The function receives the run's input as
    its second argument and must be `async`; its result must be JSON-serialisable."""

    def wrap(fn: WorkflowFn[InputT, OutputT]) -> Workflow[InputT, OutputT]:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"workflow {fn.__qualname__} must be an async function")
        return Workflow(name=name or fn.__name__, version=version, fn=fn)

    return wrap


AnyWorkflow = Workflow[Any, Any]
