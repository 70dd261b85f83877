"""Every storage error reaches a client as a status with its own reason, never INTERNAL."""

from __future__ import annotations

import grpc
import pytest

from services import errors
from stepline.v1 import error_reason_pb2 as reasons
from storage import errors as store_errors
from storage.records import RunStatus, StepKind, StepStatus


def _all_store_errors() -> list[type[store_errors.StoreError]]:
    found: list[type[store_errors.StoreError]] = []
    pending = list(store_errors.StoreError.__subclasses__())
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


@pytest.mark.parametrize("kind", _all_store_errors(), ids=lambda kind: kind.__name__)
def test_every_storage_error_has_a_mapping(kind: type[store_errors.StoreError]) -> None:
    assert kind is store_errors.StorageUnavailable or any(
        base in errors._STORE_ERRORS for base in kind.__mro__
    ), f"{kind.__name__} has no row in services/errors.py _STORE_ERRORS"


@pytest.mark.parametrize(
    ("error", "code", "reason", "metadata", "field"),
    [
        (
            store_errors.RunNotFound("default", "r1"),
            grpc.StatusCode.NOT_FOUND,
            reasons.ERROR_REASON_RUN_NOT_FOUND,
            {"namespace_id": "default", "run_id": "r1"},
            None,
        ),
        (
            store_errors.LeaseLost("r1", RunStatus.COMPLETED),
            grpc.StatusCode.FAILED_PRECONDITION,
            reasons.ERROR_REASON_LEASE_LOST,
            {"run_id": "r1", "run_status": "COMPLETED"},
            None,
        ),
        (
            store_errors.StepNotRunning("a1", StepStatus.FAILED),
            grpc.StatusCode.FAILED_PRECONDITION,
            reasons.ERROR_REASON_STEP_NOT_RUNNING,
            {"step_attempt_id": "a1", "step_status": "FAILED"},
            None,
        ),
        (
            store_errors.StepKindMismatch("s", StepKind.SLEEP, StepKind.FUNCTION),
            grpc.StatusCode.FAILED_PRECONDITION,
            reasons.ERROR_REASON_STEP_KIND_MISMATCH,
            {"step_id": "s", "recorded_kind": "SLEEP"},
            None,
        ),
        (
            store_errors.StepNotFound("r1", "charge"),
            grpc.StatusCode.INVALID_ARGUMENT,
            reasons.ERROR_REASON_STEP_NOT_FOUND,
            {"run_id": "r1", "step_id": "charge", "field": "from_step_id"},
            "from_step_id",
        ),
        (
            store_errors.StorageUnavailable(),
            grpc.StatusCode.UNAVAILABLE,
            reasons.ERROR_REASON_STORAGE_UNAVAILABLE,
            {},
            None,
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_a_storage_error_keeps_its_code_reason_and_ids(
    error: store_errors.StoreError,
    code: grpc.StatusCode,
    reason: int,
    metadata: dict[str, str],
    field: str | None,
) -> None:
    api = errors.from_store_error(error)
    assert (api.code, api.reason, api.metadata, api.field) == (code, reason, metadata, field)
