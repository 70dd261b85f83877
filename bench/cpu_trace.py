"""CPU seconds of groups of processes, sampled from /proc on a thread of the measuring
process (which is in none of the groups), so that the CPU of any time window can be read
afterwards: `cpu_between(group, start, end)` with wall-clock (epoch) times, such as the
first start and the last completion of a benchmark read from the database.

A group's CPU at a sample is the sum, over every process ever seen in it, of its last
known CPU time: a process that exits keeps what it used (up to one interval short), and
one born during the window counts whole, since all it used falls in the window.

PostgreSQL is one group: its background processes (checkpointer, WAL writer, ...) and
the backends connected to one database, recognised by their process titles. Backends of
other databases (other people's tests on a shared machine) are left out.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
INTERVAL = 0.05
_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
    "stats collector",
    "archiver",
)

Pids = Callable[[], list[int]]


def cpu_seconds(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found = [pid]
    for child in children(pid):
        found += process_tree(child)
    return found


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def postmaster_pid() -> int | None:
    """The PostgreSQL server's parent process, if it runs on this machine and is visible."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.partition("(")[2].partition(")")[0] != "postgres":
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        try:
            parent_comm = Path(f"/proc/{parent}/comm").read_text().strip()
        except OSError:
            parent_comm = ""
        if parent_comm != "postgres":
            return int(entry.name)
    return None


class PostgresProcesses:
    """The processes of the local PostgreSQL that serve `database` or the whole server."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.postmaster = postmaster_pid()
        self._titles: dict[int, bool] = {}

    def __call__(self) -> list[int]:
        if self.postmaster is None:
            return []
        return [pid for pid in children(self.postmaster) if self._counts(pid)]

    def _counts(self, pid: int) -> bool:
        known = self._titles.get(pid)
        if known is None:
            # "postgres: 15/main: USER DATABASE HOST(PORT) STATE" or "postgres: 15/main: walwriter"
            title = _title(pid)
            tail = title.rsplit(":", 1)[-1].strip() if title.count(":") >= 2 else title
            known = tail.startswith(_BACKGROUND) or self.database in title.split()
            self._titles[pid] = known
        return known


@dataclass
class _Group:
    pids: Pids
    last: dict[int, float] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)


class CpuTrace:
    """`with CpuTrace({"server": lambda: [pid], ...}) as trace:` samples every INTERVAL."""

    def __init__(self, groups: dict[str, Pids], interval: float = INTERVAL) -> None:
        self._groups = {name: _Group(pids) for name, pids in groups.items()}
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="cpu-trace", daemon=True)

    def __enter__(self) -> CpuTrace:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def sample(self) -> None:
        now = time.time()
        with self._lock:
            for group in self._groups.values():
                for pid in group.pids():
                    seconds = cpu_seconds(pid)
                    if seconds is not None:
                        group.last[pid] = seconds
                group.times.append(now)
                group.totals.append(sum(group.last.values()))

    def cpu_between(self, name: str, start: float, end: float) -> float:
        """CPU seconds group `name` used from `start` to `end` (epoch seconds), linearly
        interpolated between samples."""
        with self._lock:
            group = self._groups[name]
            return _at(group, end) - _at(group, start)


def _at(group: _Group, when: float) -> float:
    times, totals = group.times, group.totals
    i = bisect.bisect_left(times, when)
    if i == 0:
        return totals[0]
    if i >= len(times):
        return totals[-1]
    t0, t1 = times[i - 1], times[i]
    share = 0.0 if t1 == t0 else (when - t0) / (t1 - t0)
    return totals[i - 1] + share * (totals[i] - totals[i - 1])
