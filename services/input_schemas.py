"""Input schemas: a workflow version's JSON Schema, checked when a worker registers it
and enforced on StartWorkflow's input, by the `jsonschema` library.

A schema is compiled once (per distinct schema text, for the life of the process) and
reused by every start of the version.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from services.errors import ApiError, invalid

# Distinct schemas kept compiled; far above the versions a namespace registers.
_MAX_COMPILED = 1000


def check_schema(schema: dict[str, Any], field: str) -> None:
    """INVALID_ARGUMENT unless `schema` is a valid JSON Schema (of the draft it names,
    2020-12 by default)."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise invalid(field, f"is not a valid JSON Schema: {exc.message}") from None


class InputValidators:
    def __init__(self) -> None:
        self._compiled: dict[str, Validator] = {}

    def check(self, schema_text: str, input_text: str | None) -> None:
        """INVALID_ARGUMENT naming the JSON path of the first error in the input."""
        validator = self._validator(schema_text)
        value = None if input_text is None else json.loads(input_text)
        first = next(iter(validator.iter_errors(value)), None)
        if first is not None:
            raise _input_error(first.json_path, first.message)

    def _validator(self, schema_text: str) -> Validator:
        validator = self._compiled.get(schema_text)
        if validator is None:
            schema = json.loads(schema_text)
            cls = jsonschema.validators.validator_for(
                schema, default=jsonschema.Draft202012Validator
            )
            validator = cls(schema)
            if len(self._compiled) >= _MAX_COMPILED:
                self._compiled.clear()
            self._compiled[schema_text] = validator
        return validator


def _input_error(json_path: str, message: str) -> ApiError:
    # "$.items[0].sku" -> field "input.items[0].sku"
    field = "input" + json_path[1:]
    return invalid(field, f"does not match the workflow's input schema: {message}")
