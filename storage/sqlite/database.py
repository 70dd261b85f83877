"""The one SQLite connection and its transactions.

A Database lives in the store's single worker thread: it is opened there and every
method is called there, so the connection never crosses threads and the event loop
never waits on a lock or a disk write.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from storage.errors import StorageUnavailable, StoreError
from storage.events import IGNORED, PendingEvents, StoreEvents
from storage.sqlfile import load_queries
from storage.sqlite.codec import moment

QUERIES = load_queries("storage.sqlite")

T = TypeVar("T")
P = TypeVar("P")


class CommitThenRaise(Exception):
    """Raised inside a write: commit what the transaction did so far, then raise `error`.
    Fencing uses it to fail a run past its deadline before telling the worker so."""

    def __init__(self, error: StoreError) -> None:
        super().__init__(str(error))
        self.error = error


class Tx:
    """One transaction: the connection and the clock reading all its writes use."""

    def __init__(self, connection: sqlite3.Connection, now: int) -> None:
        self._connection = connection
        self.now = now
        """Microseconds since the Unix epoch, read once when the transaction began."""
        self.events = PendingEvents()
        """What the transaction changed, for metrics: delivered only once it commits."""

    @property
    def now_at(self) -> datetime:
        return moment(self.now)

    def rows_sql(self, sql: str, params: Mapping[str, object]) -> list[sqlite3.Row]:
        # fetchall() steps every statement to completion, RETURNING ones included.
        return self._connection.execute(sql, {"now": self.now, **params}).fetchall()

    # Statements are named by their `-- name:` in queries.sql; `query` is positional-only
    # so that a statement may take a parameter called `name`.

    def rows(self, query: str, /, **params: object) -> list[sqlite3.Row]:
        return self.rows_sql(QUERIES[query], params)

    def row(self, query: str, /, **params: object) -> sqlite3.Row | None:
        rows = self.rows(query, **params)
        return rows[0] if rows else None

    def one(self, query: str, /, **params: object) -> sqlite3.Row:
        """The row a statement cannot fail to find under the transaction's write lock."""
        row = self.row(query, **params)
        if row is None:
            raise StoreError(f"query {query} found no row inside its own transaction")
        return row

    def execute(self, query: str, /, **params: object) -> int:
        """Run a statement without result rows; return how many rows it changed."""
        sql = QUERIES[query]
        return self._connection.execute(sql, {"now": self.now, **params}).rowcount

    def execute_sql(self, sql: str) -> None:
        """Run one statement that takes no parameters, e.g. from a migration file."""
        self._connection.execute(sql)

    def each(self, calls: Sequence[P], op: Callable[[Tx, P], T]) -> list[T | Exception]:
        """`op` for each call in this transaction (group commit), each in a savepoint: a
        call that raises (a lost lease, a conflict) keeps nothing of its own and gets its
        error; the others commit. A driver error fails the whole transaction."""
        results: list[T | Exception] = []
        for call in calls:
            batch_events, self.events = self.events, PendingEvents()
            self._connection.execute(QUERIES["savepoint"])
            try:
                results.append(op(self, call))
            except sqlite3.Error:
                raise  # the transaction is rolled back whole
            except CommitThenRaise as deferred:  # e.g. the run failed by its deadline
                batch_events.adopt(self.events)
                results.append(deferred.error)
            except Exception as error:
                self._connection.execute(QUERIES["savepoint_rollback"])
                results.append(error)
            else:
                batch_events.adopt(self.events)
            finally:
                self.events = batch_events
            self._connection.execute(QUERIES["savepoint_release"])
        return results


class Database:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._last_now = 0
        self._woken: set[tuple[str, str]] = set()
        self.tracks_wakes = False
        """Whether the schema has stepline_wakes (migrated to 0003 or later)."""

    def _take_wakes(self) -> None:
        """The queues the transaction woke (stepline_wakes), before it commits."""
        for row in self._connection.execute(QUERIES["wakes_take"]).fetchall():
            self._woken.add((row["namespace_id"], row["task_queue"]))

    def take_woken(self) -> set[tuple[str, str]]:
        """The queues woken by the transactions run since the last call."""
        woken, self._woken = self._woken, set()
        return woken

    def foreign_keys(self, on: bool) -> None:
        """Turn foreign keys on or off; outside a transaction only (migrations)."""
        with driver_errors():
            name = "pragma_foreign_keys_on" if on else "pragma_foreign_keys_off"
            self._connection.execute(QUERIES[name])

    @classmethod
    def open(cls, path: Path) -> Database:
        with driver_errors():
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, cached_statements=256)
            connection.row_factory = sqlite3.Row
            try:
                for pragma in (
                    "pragma_busy_timeout",
                    "pragma_journal_mode_wal",
                    "pragma_synchronous_full",
                    "pragma_foreign_keys_on",
                    "pragma_recursive_triggers_on",
                ):
                    connection.execute(QUERIES[pragma])
                database = cls(connection)
                database.tracks_wakes = bool(connection.execute(QUERIES["wakes_table"]).fetchall())
            except BaseException:
                connection.close()
                raise
            return database

    def close(self) -> None:
        with driver_errors():
            self._connection.close()

    def ping(self) -> None:
        with driver_errors():
            self._connection.execute(QUERIES["ping"]).fetchall()

    def write(self, op: Callable[[Tx], T], events: StoreEvents = IGNORED) -> T:
        """Run `op` in one BEGIN IMMEDIATE transaction: committed, or rolled back on error.
        Once committed, what `op` reported to `tx.events` goes to `events`."""
        return self._transaction("begin_immediate", op, events)

    def read(self, op: Callable[[Tx], T]) -> T:
        """Run `op` in one deferred transaction, so that it reads one snapshot."""
        return self._transaction("begin_deferred", op, IGNORED)

    def _transaction(self, begin: str, op: Callable[[Tx], T], events: StoreEvents) -> T:
        with driver_errors():
            self._connection.execute(QUERIES[begin])
            # The clock is read once the write lock is held, so commit order and time agree.
            tx = Tx(self._connection, self._clock())
            try:
                result = op(tx)
                if begin == "begin_immediate" and self.tracks_wakes:
                    self._take_wakes()
            except CommitThenRaise as deferred:
                if self.tracks_wakes:
                    self._take_wakes()
                self._commit()
                tx.events.deliver(events)
                raise deferred.error from None
            except BaseException:
                self._rollback()
                self._woken.clear()
                raise
            self._commit()
            tx.events.deliver(events)
            return result

    def _clock(self) -> int:
        # Host time in microseconds, kept strictly increasing within this process so
        # that rows created by successive transactions keep their order by created_at.
        self._last_now = max(time.time_ns() // 1000, self._last_now + 1)
        return self._last_now

    def _commit(self) -> None:
        try:
            self._connection.execute(QUERIES["commit"])
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._connection.in_transaction:
            # The error that brought us here matters more than a failed rollback.
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute(QUERIES["rollback"])


@contextlib.contextmanager
def driver_errors() -> Iterator[None]:
    """Turn driver errors into domain errors at the storage edge."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        # Every uniqueness rule is checked before writing, under the write lock.
        raise StoreError(f"SQLite constraint violated: {error}") from error
    except sqlite3.Error as error:
        # Locked past busy_timeout, unable to open, disk I/O, a closed connection...
        raise StorageUnavailable(f"SQLite database unavailable: {error}") from error
    except OSError as error:
        raise StorageUnavailable(f"SQLite database unavailable: {error}") from error
