"""Typed workflow inputs: when a workflow function's input parameter is annotated with a
pydantic model, a dataclass or a TypedDict, pydantic's TypeAdapter gives its JSON Schema
(registered with the server, which checks StartWorkflow's input against it) and turns the
run's JSON input into a validated value of that type before the function sees it.

Any other annotation (dict[str, Any], a plain type, none) leaves the input as JSON.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any

import typing_extensions

from stepline._errors import NonRetryableError


class InputType:
    """The input type of one workflow: its schema, and validation of a run's input."""

    def __init__(self, annotation: Any) -> None:
        from pydantic import TypeAdapter  # only workflows with typed inputs pay for it

        self.annotation = annotation
        self._adapter: Any = TypeAdapter(annotation)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self._adapter.json_schema()
        return schema

    def validate(self, value: Any, workflow_name: str) -> Any:
        """The typed value; NonRetryableError when the input does not fit (the server
        checks inputs at start, so only a run started before the schema was registered)."""
        from pydantic import ValidationError

        try:
            return self._adapter.validate_python(value)
        except ValidationError as exc:
            raise NonRetryableError(
                f"the input of workflow {workflow_name!r} is not a valid "
                f"{getattr(self.annotation, '__name__', self.annotation)}: {exc}"
            ) from None


def input_type(fn: Callable[..., Any]) -> InputType | None:
    """The InputType of `fn`'s second parameter, when it is annotated with a pydantic
    model, a dataclass or a TypedDict; else None."""
    parameters = list(inspect.signature(fn).parameters)
    if len(parameters) < 2:
        return None
    try:
        annotation = typing.get_type_hints(fn).get(parameters[1])
    except (NameError, TypeError):
        return None  # an annotation that cannot be resolved is not a typed input
    return InputType(annotation) if _structured(annotation) else None


def _structured(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    # typing_extensions' check knows its own TypedDict (pydantic's on Python < 3.12) too.
    if dataclasses.is_dataclass(annotation) or typing_extensions.is_typeddict(annotation):
        return True
    pydantic = sys.modules.get("pydantic")  # a pydantic model means pydantic is imported
    return pydantic is not None and issubclass(annotation, pydantic.BaseModel)
