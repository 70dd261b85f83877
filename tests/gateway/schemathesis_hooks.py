"""schemathesis hooks for tests/gateway/test_schemathesis_all.py (loaded through
SCHEMATHESIS_HOOKS): `positive_data_acceptance`, refined for what no schema can state.

A schema-valid request can still be refused for the state it finds, and the document
lists these 400s for the operations that answer them: a page token the server never
issued (INVALID_PAGE_TOKEN: tokens are sealed, so no pattern tells a real one from a
forged one), a cancel of a run already COMPLETED or FAILED (RUN_ALREADY_TERMINAL), a
replay of a run not yet ended (RUN_NOT_TERMINAL) or from a step it does not have
(STEP_NOT_FOUND). Any other refusal of valid data, INVALID_ARGUMENT above all (the
document and the server disagreeing on a field), still fails the check.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

STATE_REASONS = frozenset(
    {"INVALID_PAGE_TOKEN", "RUN_ALREADY_TERMINAL", "RUN_NOT_TERMINAL", "STEP_NOT_FOUND"}
)


def _reason(response: Any) -> str:
    try:
        details = response.json().get("details", [])
    except ValueError:
        return ""
    return next((d.get("reason", "") for d in details if "reason" in d), "")


@schemathesis.check
def positive_data_acceptance_of_stateless_rules(ctx: Any, response: Any, case: Any) -> Any:
    """Valid data is accepted, unless refused for the state it found (STATE_REASONS)."""
    if response.status_code == 400 and _reason(response) in STATE_REASONS:
        return None
    return positive_data_acceptance(ctx, response, case)
