"""Command-line helpers shared by the benchmarks: argument types and progress lines."""

from __future__ import annotations

import argparse
import sys

from bench.targets import BACKENDS


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def backends(text: str) -> tuple[str, ...]:
    """A comma-separated list of backend names."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names or any(name not in BACKENDS for name in names):
        raise argparse.ArgumentTypeError(f"choose from {','.join(BACKENDS)}")
    return names


def progress(message: str, tag: str = "bench") -> None:
    """A progress line on stderr; results go to stdout."""
    print(f"[{tag}] {message}", file=sys.stderr, flush=True)
