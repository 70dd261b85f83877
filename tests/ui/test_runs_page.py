"""The runs page in a real browser: the list with status badges, filters, keyset paging,
the search box, live refresh, and batch cancel through the filters."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.ui import helpers
from tests.ui.servers import Dashboard


def test_runs_list__shows_started_runs_with_status_badges(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    done = helpers.start(rest, "ui-steps", queue, {"n": 2})
    helpers.wait_for_status(rest, done, "WORKFLOW_RUN_STATUS_COMPLETED")
    napping = helpers.start(rest, "ui-nap", queue)
    helpers.wait_for_status(rest, napping, "WORKFLOW_RUN_STATUS_SLEEPING")

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))

    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f'tr[data-run-id="{done}"] .badge')).to_have_text("completed")
    expect(page.locator(f'tr[data-run-id="{napping}"] .badge')).to_have_text("sleeping")
    expect(page.locator(f'tr[data-run-id="{done}"]')).to_contain_text("ui-steps")
    helpers.screenshot(page, "runs")


def test_runs_list__filters_by_status_and_pages_with_keyset_tokens(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    # No worker: the runs stay PENDING, and five of them make three pages of two.
    started = [helpers.start(rest, "ui-steps", queue, {"n": i}) for i in range(5)]
    canceled = helpers.start(rest, "ui-steps", queue)
    assert rest.post(f"{helpers.RUNS}/{canceled}:cancel", json={}).status_code == 200

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    expect(page.locator("table.runs tbody tr")).to_have_count(6)

    page.get_by_label("pending").check()
    page.get_by_label("Page size").select_option("20")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.runs tbody tr")).to_have_count(5)
    expect(page.locator(f'tr[data-run-id="{canceled}"]')).to_have_count(0)

    page.goto(
        helpers.runs_url(
            dashboard.ui, task_queue=queue, statuses="WORKFLOW_RUN_STATUS_PENDING", page_size=2
        )
    )
    seen: list[str] = []
    for expected in (started[0:2], started[2:4], started[4:5]):
        rows = page.locator("table.runs tbody tr")
        expect(rows).to_have_count(len(expected))
        ids = [str(rows.nth(i).get_attribute("data-run-id")) for i in range(len(expected))]
        assert ids == expected
        seen += ids
        if len(expected) == 2:
            page.get_by_role("link", name="Next").click()
    assert seen == started
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    page.get_by_role("link", name="Previous").click()
    expect(page.locator(f'tr[data-run-id="{started[2]}"]')).to_be_visible()

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    page.get_by_label("Created in the last").select_option("hour")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"created_after=20"))
    expect(page.locator("table.runs tbody tr")).to_have_count(6)
    page.get_by_label("Created before").fill("2020-01-01T00:00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No runs match.")).to_be_visible()


def test_runs_list__refreshes_visible_rows_while_runs_change(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    run_id = helpers.start(rest, "ui-steps", queue)
    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    badge = page.locator(f'tr[data-run-id="{run_id}"] .badge')
    expect(badge).to_have_text("pending")

    assert rest.post(f"{helpers.RUNS}/{run_id}:cancel", json={}).status_code == 200

    expect(badge).to_have_text("canceled", timeout=10_000)


def test_search_box__opens_a_run_by_id(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    run_id = helpers.start(rest, "ui-steps", queue)
    page.goto(helpers.runs_url(dashboard.ui))

    page.get_by_label("Open run").fill(run_id)
    page.get_by_label("Open run").press("Enter")

    expect(page.locator("dl.summary")).to_contain_text(run_id)
    page.get_by_label("Open run").fill("0190abcd-0000-7000-8000-000000000000")
    page.get_by_label("Open run").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("No run 0190abcd-0000-7000-8000-000000000000")


def test_cancel_matching_runs__asks_then_cancels_every_match(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    started = [helpers.start(rest, "ui-steps", queue) for _ in range(3)]
    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    expect(page.locator("table.runs tbody tr")).to_have_count(3)

    page.get_by_role("button", name="Cancel matching runs…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cancels 3 unfinished run(s)")
    dialog.get_by_role("button", name="Cancel 3 run(s)").click()

    expect(page.get_by_role("status")).to_have_text("Canceled 3 run(s).")
    for run_id in started:
        assert helpers.run(rest, run_id)["status"] == "WORKFLOW_RUN_STATUS_CANCELED"


def test_run_data_is_shown_as_text__never_as_markup(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    hostile = "<img/src=x/onerror=document.title='owned'>"
    run_id = helpers.start(
        rest, hostile, queue, {"note": "<script>document.title='owned'</script>"}
    )

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    expect(page.locator(f'tr[data-run-id="{run_id}"]')).to_contain_text(hostile)
    page.goto(helpers.run_url(dashboard.ui, run_id))
    expect(page.locator(".payloads")).to_contain_text("<script>document.title='owned'</script>")

    assert page.locator("main img, main script").count() == 0
    assert "owned" not in page.title()
