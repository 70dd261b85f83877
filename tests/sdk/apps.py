"""Workflows for the process-level tests. Their side effects are lines appended to files
in a directory named by the run's input, tagged with the process id that made them."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from stepline import Workflow, WorkflowContext, workflow

GATE_TIMEOUT = 60.0


def effect(directory: str, line: str) -> str:
    """Append one line to `directory`/effects: the side effect the tests count."""
    with open(Path(directory) / "effects", "a") as out:
        out.write(f"{line}\n")
    return line


def effects(directory: Path) -> list[str]:
    path = directory / "effects"
    return path.read_text().splitlines() if path.exists() else []


def gate(directory: str, line: str) -> str:
    """Say the step started, then block until the test creates `directory`/release."""
    effect(directory, f"{line} started")
    release = Path(directory) / "release"
    deadline = time.monotonic() + GATE_TIMEOUT
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return effect(directory, line)


@workflow(name="gated")
async def gated(ctx: WorkflowContext, job: dict[str, Any]) -> dict[str, str]:
    """Three steps; the second waits for the test's signal."""
    directory, pid = job["dir"], os.getpid()
    one = await ctx.step.run("one", effect, directory, f"one {pid}")
    two = await ctx.step.run("two", gate, directory, f"two {pid}")
    three = await ctx.step.run("three", effect, directory, f"three {pid}")
    return {"one": one, "two": two, "three": three}


async def _work(directory: str, name: str, seconds: float) -> str:
    effect(directory, f"{name} started")
    await asyncio.sleep(seconds)
    return effect(directory, f"{name} done")


@workflow(name="slow")
async def slow(ctx: WorkflowContext, job: dict[str, Any]) -> str:
    """One step that takes `seconds`."""
    return await ctx.step.run("work", _work, job["dir"], job["name"], job["seconds"])


@workflow(name="awaiting")
async def awaiting(ctx: WorkflowContext, job: dict[str, Any]) -> dict[str, Any]:
    """A step, a child run and a signal wait; every side effect is tagged with its pid."""
    directory, pid = job["dir"], os.getpid()
    before = await ctx.step.run("before", effect, directory, f"before {pid}")
    child, approval = await asyncio.gather(
        ctx.step.invoke("child", awaited_child, directory),
        ctx.step.wait_for_signal("approval", "approved"),
    )
    after = await ctx.step.run("after", effect, directory, f"after {pid}")
    return {"before": before, "child": child, "approval": approval, "after": after}


@workflow(name="awaited_child")
async def awaited_child(ctx: WorkflowContext, directory: str) -> str:
    return await ctx.step.run("work", effect, directory, f"child {os.getpid()}")


WORKFLOWS: list[Workflow[Any, Any]] = [gated, slow, awaiting, awaited_child]
