"""schemathesis hooks for tests/gateway/test_schemathesis_all.py (loaded through
SCHEMATHESIS_HOOKS): `positive_data_acceptance`, refined for what no schema can state.

A schema-valid request can still be refused for the state it finds, and the document
lists these 400s for the operations that answer them: a page token the server never
issued (INVALID_PAGE_TOKEN: tokens are sealed, so no pattern tells a real one from a
forged one), a cancel of a run already COMPLETED or FAILED (RUN_ALREADY_TERMINAL), a
replay of a run not yet ended (RUN_NOT_TERMINAL) or from a step it does not have
(STEP_NOT_FOUND). One rule relates two fields, which JSON Schema cannot state: a retry
policy's maximumInterval must be at least its initialInterval (documented on the field).
A schedule's timing has rules that its fields' descriptions state but JSON Schema cannot:
exactly one of cron and interval, a cron expression that parses and fires, an interval of
at least 1 second, an IANA time zone (SCHEDULE_RULES, matched by message prefix).
Any other refusal of valid data, INVALID_ARGUMENT above all (the document and the server
disagreeing on a field), still fails the check.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

STATE_REASONS = frozenset(
    {"INVALID_PAGE_TOKEN", "RUN_ALREADY_TERMINAL", "RUN_NOT_TERMINAL", "STEP_NOT_FOUND"}
)


CROSS_FIELD_RULES = frozenset({"retry_policy.maximum_interval: must be at least initial_interval"})

SCHEDULE_RULES = (
    "cron: ",
    "interval: must be at least 1 second",
    "timezone: must be an IANA time zone",
)


def _body(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(body: dict[str, Any]) -> str:
    return next((d.get("reason", "") for d in body.get("details", []) if "reason" in d), "")


@schemathesis.check
def positive_data_acceptance_of_stateless_rules(ctx: Any, response: Any, case: Any) -> Any:
    """Valid data is accepted, unless refused for the state it found (STATE_REASONS) or
    by the one rule across fields (CROSS_FIELD_RULES)."""
    if response.status_code == 400:
        body = _body(response)
        message = str(body.get("message", ""))
        if _reason(body) in STATE_REASONS or message in CROSS_FIELD_RULES:
            return None
        if case.operation.path.endswith("/schedules") and message.startswith(SCHEDULE_RULES):
            return None
    return positive_data_acceptance(ctx, response, case)
