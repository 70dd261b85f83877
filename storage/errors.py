"""Domain errors raised by every Store; driver errors never cross the storage edge."""

from __future__ import annotations

from storage.records import RunStatus, StepKind, StepStatus


class StoreError(Exception):
    """Root of every storage error."""


class RunNotFound(StoreError):
    def __init__(self, namespace_id: str, run_id: str) -> None:
        super().__init__(f"workflow run {run_id} not found in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.run_id = run_id


class ScheduleNotFound(StoreError):
    def __init__(self, namespace_id: str, schedule_id: str) -> None:
        super().__init__(f"schedule {schedule_id} not found in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.schedule_id = schedule_id


class ScheduleAlreadyExists(StoreError):
    def __init__(self, namespace_id: str, schedule_id: str) -> None:
        super().__init__(f"schedule {schedule_id} already exists in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.schedule_id = schedule_id


class EventNotFound(StoreError):
    def __init__(self, namespace_id: str, event_id: str) -> None:
        super().__init__(f"event {event_id} not found in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.event_id = event_id


class WorkflowNotFound(StoreError):
    """No worker registered the workflow and nothing paused it."""

    def __init__(self, namespace_id: str, workflow_name: str) -> None:
        super().__init__(f"workflow {workflow_name!r} not found in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.workflow_name = workflow_name


class StepAttemptNotFound(StoreError):
    def __init__(self, run_id: str, step_attempt_id: str) -> None:
        super().__init__(f"step attempt {step_attempt_id} not found in workflow run {run_id}")
        self.run_id = run_id
        self.step_attempt_id = step_attempt_id


class LeaseLost(StoreError):
    """The lease is not the run's current, unexpired lease; nothing was changed."""

    def __init__(self, run_id: str, status: RunStatus) -> None:
        super().__init__(
            f"lease on workflow run {run_id} is not current (run is {status.value}); "
            "nothing was changed"
        )
        self.run_id = run_id
        self.status = status


class ExecutionAlreadyEnded(StoreError):
    """A call that ends an execution, under the lease whose execution already ended with
    another result (rules.repeats_ending): the first result stands; nothing was changed."""

    def __init__(self, run_id: str, status: RunStatus) -> None:
        super().__init__(
            f"the execution under this lease already ended with another result "
            f"(run is {status.value}); nothing was changed"
        )
        self.run_id = run_id
        self.status = status


class IdempotencyConflict(StoreError):
    def __init__(self, idempotency_key: str, run_id: str, workflow_name: str) -> None:
        super().__init__(
            f"idempotency key {idempotency_key!r} already started workflow run {run_id} "
            f"of workflow {workflow_name!r}"
        )
        self.idempotency_key = idempotency_key
        self.run_id = run_id
        self.workflow_name = workflow_name


class RunAlreadyTerminal(StoreError):
    def __init__(self, run_id: str, status: RunStatus) -> None:
        super().__init__(f"workflow run {run_id} is already {status.value}")
        self.run_id = run_id
        self.status = status


class RunNotTerminal(StoreError):
    """Only a COMPLETED, FAILED or CANCELED run can be replayed."""

    def __init__(self, run_id: str, status: RunStatus) -> None:
        super().__init__(
            f"workflow run {run_id} is {status.value}; only a COMPLETED, FAILED or CANCELED "
            "run can be replayed"
        )
        self.run_id = run_id
        self.status = status


class StepNotFound(StoreError):
    """The run recorded no step with this step_id."""

    def __init__(self, run_id: str, step_id: str) -> None:
        super().__init__(f"workflow run {run_id} has no step {step_id!r}")
        self.run_id = run_id
        self.step_id = step_id


class RunDeadlineExceeded(StoreError):
    """The run passed its deadline; it is FAILED now (if it was not already)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"workflow run {run_id} passed its deadline and failed")
        self.run_id = run_id


class StepNotRunning(StoreError):
    def __init__(self, step_attempt_id: str, status: StepStatus) -> None:
        super().__init__(f"step attempt {step_attempt_id} is {status.value}, not RUNNING")
        self.step_attempt_id = step_attempt_id
        self.status = status


class StepKindMismatch(StoreError):
    def __init__(self, step_id: str, recorded: StepKind, requested: StepKind) -> None:
        super().__init__(f"step {step_id!r} is recorded as {recorded.value}, not {requested.value}")
        self.step_id = step_id
        self.recorded = recorded
        self.requested = requested


class StepAlreadyCompleted(StoreError):
    def __init__(self, step_id: str, step_attempt_id: str) -> None:
        super().__init__(f"step {step_id!r} already completed (attempt {step_attempt_id})")
        self.step_id = step_id
        self.step_attempt_id = step_attempt_id


class StorageUnavailable(StoreError):
    """The database cannot be reached."""


class NamespaceNotFound(StoreError):
    def __init__(self, namespace_id: str) -> None:
        super().__init__(f"namespace {namespace_id} not found")
        self.namespace_id = namespace_id


class NamespaceAlreadyExists(StoreError):
    def __init__(self, namespace_id: str) -> None:
        super().__init__(f"namespace {namespace_id} already exists")
        self.namespace_id = namespace_id


class ApiKeyNotFound(StoreError):
    def __init__(self, namespace_id: str, key_id: str) -> None:
        super().__init__(f"API key {key_id} not found in namespace {namespace_id}")
        self.namespace_id = namespace_id
        self.key_id = key_id
