"""Records of retention: deleting the runs that ended longer ago than their namespace's
retention (services/retention.py runs it from the maintenance loop)."""

from __future__ import annotations

from dataclasses import dataclass

# Statuses a run can be deleted in. Live runs are never deleted, whatever their age.
TERMINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELED")

# The PostgreSQL advisory lock held, per batch transaction, by the one server deleting:
# an arbitrary constant the same on every server (the ASCII of "steplin").
RETENTION_LOCK_KEY = 0x737465706C696E


@dataclass(frozen=True, slots=True)
class RunDeleteExpiredParams:
    """One batch: up to `limit` runs of `namespace_id`."""

    namespace_id: str
    limit: int


@dataclass(frozen=True, slots=True)
class RunDeleteExpiredResult:
    deleted: int
    """Runs deleted (with their steps, signals, waits and event links)."""
    busy: bool = False
    """Another server was deleting (PostgreSQL: it held the retention lock): nothing was
    deleted, and the caller should leave the work to it until its next pass."""
