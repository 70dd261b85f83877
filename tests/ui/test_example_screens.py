"""The example workflow (examples/order_fulfilment.py) on the dashboard: a retried step
and a durable sleep on the timeline, failures in the list. Its screenshots, taken at a
desktop's size, are the README's and docs/dashboard.md's (docs/images/dashboard-*.png
are copies of docs-runs.png and docs-run.png from the screenshots folder)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.cli import processes
from tests.ui import browser, helpers
from tests.ui.servers import Dashboard

ORDERS = [
    {"id": 41, "amount": 30, "cool_off_seconds": 0.2},
    {"id": 42, "amount": 12, "cool_off_seconds": 0.2},
    {"id": 43, "amount": 99, "card": "declined"},
    {"id": 44, "amount": 5, "address": "unknown", "cool_off_seconds": 0.2},
    {"id": 45, "amount": 70, "cool_off_seconds": 3600},
]


@pytest.fixture
def example_worker(dashboard: Dashboard, queue: str) -> Iterator[None]:
    app = "examples.order_fulfilment:workflows"
    with processes.worker(dashboard.grpc_address, app, "--task-queue", queue):
        yield


def test_example_orders__timeline_shows_the_retry_and_the_sleep(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, example_worker: None
) -> None:
    ids = [helpers.start(rest, "order.fulfil", queue, order) for order in ORDERS]
    done = helpers.TERMINAL
    for run_id in ids[:4]:
        helpers.wait_for_status(rest, run_id, *done)
    helpers.wait_for_status(rest, ids[4], "WORKFLOW_RUN_STATUS_SLEEPING")
    page.set_viewport_size(browser.DESKTOP)

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    expect(page.locator("table.runs tbody tr")).to_have_count(5)
    expect(page.locator("table.runs .badge-failed")).to_have_count(2)
    page.screenshot(path=browser.screenshots_dir() / "docs-runs.png")

    page.goto(helpers.run_url(dashboard.ui, ids[0]))
    steps = page.locator("ol.timeline button.step")
    expect(page.locator("h1 .badge")).to_have_text("completed")
    expect(steps.filter(has_text="reserve-stock #1")).to_have_count(1)
    expect(steps.filter(has_text="reserve-stock #2")).to_have_count(1)
    expect(steps.filter(has_text="cool-off (sleep)")).to_have_count(1)
    expect(page.locator(".bar-failed")).to_have_count(1)  # the first reserve-stock
    steps.filter(has_text="reserve-stock #1").click()
    expect(page.get_by_role("region", name="Selected step")).to_contain_text("warehouse busy")
    page.screenshot(path=browser.screenshots_dir() / "docs-run.png")
