"""Starting and waiting for runs over REST, and the dashboard's URLs."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page

from tests.ui import browser

RUNS = "/v1/namespaces/default/runs"
TERMINAL = {
    "WORKFLOW_RUN_STATUS_COMPLETED",
    "WORKFLOW_RUN_STATUS_FAILED",
    "WORKFLOW_RUN_STATUS_CANCELED",
}


def start(rest: httpx.Client, workflow: str, queue: str, job: Any = None) -> str:
    answer = rest.post(
        RUNS, json={"workflowName": workflow, "taskQueue": queue, "input": job or {}}
    )
    assert answer.status_code == 200, answer.text
    run_id: str = answer.json()["run"]["runId"]
    return run_id


def run(rest: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = rest.get(f"{RUNS}/{run_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["run"]
    return found


def wait_for_status(rest: httpx.Client, run_id: str, *statuses: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found = run(rest, run_id)
        if found["status"] in statuses:
            return found
        assert time.monotonic() < deadline, f"run {run_id} is {found['status']}, not {statuses}"
        time.sleep(0.1)


def runs_url(base: str, **filters: Any) -> str:
    query = urlencode(filters, doseq=True)
    return f"{base}#/default/runs" + (f"?{query}" if query else "")


def run_url(base: str, run_id: str) -> str:
    return f"{base}#/default/runs/{run_id}"


def screenshot(page: Page, name: str) -> None:
    """`name`-desktop.png at the page's size, and `name`-phone.png at a phone's width."""
    folder = browser.screenshots_dir()
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    size = page.viewport_size
    page.set_viewport_size(browser.PHONE)
    page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
    if size is not None:
        page.set_viewport_size(size)
