"""What a Store reports once it has committed a change: the facts metrics count.

Only the transaction that makes a change knows it made it (an idempotent cancel, a
memoized step completion or a deadline already enforced by another server change
nothing), so the backends report here, after commit, and the server counts. Every
method does nothing by default; `services.metrics` overrides them.
"""

from __future__ import annotations

from collections.abc import Callable

from storage.records import RunStatus, StepStatus


class StoreEvents:
    """Receives committed changes. Called on the event loop (PostgreSQL) or on the
    SQLite store's worker thread, so implementations must be cheap and thread-safe."""

    def run_ended(self, namespace_id: str, workflow_name: str, status: RunStatus) -> None:
        """A run became COMPLETED, FAILED or CANCELED."""

    def run_replayed(self, namespace_id: str, workflow_name: str) -> None:
        """A run was made by replaying another (ReplayWorkflowRun, a batch replay)."""

    def run_claimed(self, namespace_id: str, task_queue: str, waited: float) -> None:
        """A run was claimed `waited` seconds (database clock) after it became claimable:
        its start, retry or wake-up time, or the expiry of its previous lease."""

    def lease_expired(self, namespace_id: str, workflow_name: str) -> None:
        """A run's expired lease was taken from its worker (by a new claim)."""

    def step_ended(self, namespace_id: str, status: StepStatus) -> None:
        """A worker closed a step attempt as COMPLETED or FAILED."""

    def run_poisoned(self, namespace_id: str, workflow_name: str) -> None:
        """A run was FAILED with WORKER_CRASHED: its leases expired max_crashes times in a
        row with no progress (reported besides run_ended)."""

    def run_poison_paused(self, namespace_id: str, workflow_name: str) -> None:
        """A poison run of a definition with on_poison PAUSE went back to PENDING and its
        workflow was paused."""


IGNORED = StoreEvents()
"""The default receiver: every event dropped."""


class PendingEvents(StoreEvents):
    """The events of one transaction, held until it commits (a rollback drops them)."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: list[Callable[[StoreEvents], None]] = []

    def run_ended(self, namespace_id: str, workflow_name: str, status: RunStatus) -> None:
        self._calls.append(lambda to: to.run_ended(namespace_id, workflow_name, status))

    def run_replayed(self, namespace_id: str, workflow_name: str) -> None:
        self._calls.append(lambda to: to.run_replayed(namespace_id, workflow_name))

    def run_claimed(self, namespace_id: str, task_queue: str, waited: float) -> None:
        self._calls.append(lambda to: to.run_claimed(namespace_id, task_queue, waited))

    def lease_expired(self, namespace_id: str, workflow_name: str) -> None:
        self._calls.append(lambda to: to.lease_expired(namespace_id, workflow_name))

    def step_ended(self, namespace_id: str, status: StepStatus) -> None:
        self._calls.append(lambda to: to.step_ended(namespace_id, status))

    def run_poisoned(self, namespace_id: str, workflow_name: str) -> None:
        self._calls.append(lambda to: to.run_poisoned(namespace_id, workflow_name))

    def run_poison_paused(self, namespace_id: str, workflow_name: str) -> None:
        self._calls.append(lambda to: to.run_poison_paused(namespace_id, workflow_name))

    def adopt(self, other: PendingEvents) -> None:
        """Take `other`'s events as this transaction's own (a savepoint released)."""
        self._calls.extend(other._calls)

    def deliver(self, receiver: StoreEvents) -> None:
        for call in self._calls:
            call(receiver)
        self._calls.clear()
