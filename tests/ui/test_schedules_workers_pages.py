"""The schedules and workers pages in a real browser: a schedule triggered (its run
completes and is linked as the last run), paused and resumed; the workers of a queue
with their workflows, online, then gone once unseen for 3 lease periods."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import sqlite_url_for
from tests.ui import helpers
from tests.ui.servers import Dashboard, dashboard_server, ui_worker

SCHEDULES = "/v1/namespaces/default/schedules"


@pytest.fixture
def schedule(rest: httpx.Client, queue: str) -> Iterator[str]:
    """A schedule of ui-steps on this test's queue, firing hourly (so never during it)."""
    schedule_id = f"nightly-{queue}"
    made = rest.post(
        SCHEDULES,
        json={
            "scheduleId": schedule_id,
            "interval": "3600s",
            "workflowName": "ui-steps",
            "taskQueue": queue,
            "input": {"n": 2},
        },
    )
    assert made.status_code == 200, made.text
    yield schedule_id
    rest.delete(f"{SCHEDULES}/{schedule_id}")


def test_schedules_page__trigger_links_the_run_then_pause_and_resume(
    page: Page, dashboard: Dashboard, rest: httpx.Client, worker: None, schedule: str
) -> None:
    page.goto(f"{dashboard.ui}#/default/schedules")
    row = page.locator(f'tr[data-schedule-id="{schedule}"]')
    expect(row).to_contain_text("every 1 h 0 m")
    expect(row).to_contain_text("ui-steps")
    expect(row.locator(".badge-active")).to_be_visible()
    expect(row).to_contain_text("never")  # no fire yet, no last run

    row.get_by_role("button", name="Trigger…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("One run of ui-steps starts now")
    dialog.get_by_role("button", name="Start run").click()
    last_run = row.locator("a.last-run")
    expect(last_run).to_be_visible()
    run_id = last_run.inner_text()
    assert rest.get(f"{SCHEDULES}/{schedule}").json()["schedule"]["lastRunId"] == run_id
    helpers.screenshot(page, "schedules")

    last_run.click()
    expect(page.locator("h1 .badge")).to_have_text("completed", timeout=20_000)
    assert helpers.run(rest, run_id)["output"] == {"fetched": 4, "stored": 16}

    page.go_back()
    row.get_by_role("button", name="Pause…").click()
    page.get_by_role("dialog").get_by_role("button", name="Pause schedule").click()
    expect(row.locator(".badge-paused")).to_be_visible()
    expect(row).to_contain_text("— (paused)")
    assert rest.get(f"{SCHEDULES}/{schedule}").json()["schedule"]["paused"] is True

    row.get_by_role("button", name="Resume…").click()
    page.get_by_role("dialog").get_by_role("button", name="Resume schedule").click()
    expect(row.locator(".badge-active")).to_be_visible()
    assert rest.get(f"{SCHEDULES}/{schedule}").json()["schedule"].get("paused", False) is False


def test_schedules_page__backing_out_of_a_trigger_starts_nothing(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, schedule: str
) -> None:
    page.goto(f"{dashboard.ui}#/default/schedules")
    row = page.locator(f'tr[data-schedule-id="{schedule}"]')
    row.get_by_role("button", name="Trigger…").click()
    page.get_by_role("dialog").get_by_role("button", name="Back").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert rest.get(helpers.RUNS, params={"task_queue": queue}).json().get("workflowRuns") is None
    expect(row.locator("a.last-run")).to_have_count(0)


@pytest.fixture(scope="module")
def short_leases(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """A server of its own with 1 s leases: a stopped worker is gone after 3 s."""
    workdir: Path = tmp_path_factory.mktemp("ui-workers")
    url = sqlite_url_for(workdir / "stepline.db")
    with dashboard_server(url, workdir, extra=("--lease-duration", "1s")) as server:
        yield server


def test_workers_page__lists_a_queue_s_workers_online_then_gone(
    page: Page, short_leases: Dashboard, queue: str
) -> None:
    url = f"{short_leases.ui}#/default/workers?task_queue={queue}"
    rows = page.locator("tr[data-worker-id]")
    with ui_worker(short_leases.grpc_address, queue):
        page.goto(f"{short_leases.ui}#/default/workers")
        filters = page.get_by_role("form", name="Filter workers")
        filters.get_by_label("Task queue").fill(queue)
        filters.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(url)
        expect(rows).to_have_count(1)
        expect(rows.first.locator(".badge-online")).to_be_visible()
        expect(rows.first).to_contain_text(queue)
        for name in ("ui-steps", "ui-order", "ui-waiter"):
            expect(rows.first.get_by_role("link", name=name)).to_be_visible()
        expect(page.locator("#workers-summary")).to_have_text("1 online, 0 gone.")
        helpers.screenshot(page, "workers")

    # Stopped: unseen for 3 lease periods it is shown as gone (the page refreshes itself).
    expect(rows.first.locator(".badge-gone")).to_be_visible(timeout=30_000)
    expect(page.locator("#workers-summary")).to_have_text("0 online, 1 gone.")
    rows.first.get_by_role("link", name="ui-steps").click()
    expect(page.locator("h1")).to_contain_text("ui-steps")
    online = page.locator("dl.summary dt", has_text="Workers online")
    expect(online.locator("xpath=following-sibling::dd[1]")).to_have_text("0")
