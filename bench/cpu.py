"""CPU used during a measurement, from /proc (Linux): the server process, this benchmark
process, the local PostgreSQL processes, and the whole machine. None where unavailable."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class CpuSample:
    wall: float
    server: float | None
    bench: float
    postgres: float | None
    machine_busy: float | None


@dataclass(frozen=True, slots=True)
class CpuUsage:
    """Average cores busy over the interval."""

    server: float | None
    bench: float
    postgres: float | None
    machine: float | None

    def describe(self) -> str:
        def cores(value: float | None) -> str:
            return "?" if value is None else f"{value:.2f}"

        return (
            f"server {cores(self.server)}, benchmark {cores(self.bench)}, "
            f"postgres {cores(self.postgres)}, "
            f"whole machine {cores(self.machine)} of {os.cpu_count()}"
        )


def sample(server_pid: int) -> CpuSample:
    return CpuSample(
        wall=time.perf_counter(),
        server=_process_seconds(server_pid),
        bench=time.process_time(),
        postgres=_command_seconds("postgres"),
        machine_busy=_machine_busy_seconds(),
    )


def usage(before: CpuSample, after: CpuSample) -> CpuUsage:
    wall = after.wall - before.wall

    def rate(start: float | None, end: float | None) -> float | None:
        return None if start is None or end is None or wall <= 0 else (end - start) / wall

    return CpuUsage(
        server=rate(before.server, after.server),
        bench=(after.bench - before.bench) / wall if wall > 0 else 0.0,
        postgres=rate(before.postgres, after.postgres),
        machine=rate(before.machine_busy, after.machine_busy),
    )


def _process_seconds(pid: int | str) -> float | None:
    stat = _stat(pid)
    return None if stat is None else stat[1]


def _stat(pid: int | str) -> tuple[str, float] | None:
    """(command name, CPU seconds) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    head, _, tail = text.rpartition(")")
    # Fields after the command name (which may contain spaces) start at field 3.
    fields = tail.split()
    return head.partition("(")[2], (int(fields[11]) + int(fields[12])) / _TICKS


def _command_seconds(command: str) -> float | None:
    """CPU seconds of every live process named `command` (visible to this user)."""
    try:
        pids = [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    total = 0.0
    for pid in pids:
        stat = _stat(pid)
        if stat is not None and stat[0] == command:
            total += stat[1]
    return total


def _machine_busy_seconds() -> float | None:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in first[1:9]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / _TICKS
