"""The workflows pages in a real browser: a run started from the form generated from the
workflow's input JSON Schema (client-side coercion, the server's error by its JSON path,
then a run that completes), and pause/resume of a workflow (a run started while it is
paused stays pending and completes after the resume)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui import browser, helpers
from tests.ui.servers import Dashboard

COMPLETED = "WORKFLOW_RUN_STATUS_COMPLETED"
PENDING = "WORKFLOW_RUN_STATUS_PENDING"
WORKFLOWS = "/v1/namespaces/default/workflows"


def test_start_form__coerces_shows_server_errors_then_starts_a_run_that_completes(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    page.goto(f"{dashboard.ui}#/default/workflows/ui-order")
    form = page.get_by_role("form", name="Start a run")
    expect(form).to_be_visible()
    form.get_by_label("Task queue").fill(queue)
    form.get_by_label("Customer").fill("Ada")
    form.get_by_label("Quantity").fill("two")
    form.get_by_role("button", name="Start run").click()

    quantity = page.locator('.schema-form [data-path="$.quantity"]')
    city = page.locator('.schema-form [data-path="$.address.city"]')
    expect(quantity.locator(".field-error")).to_have_text("must be a number")
    expect(city.locator(".field-error")).to_have_text("is required")
    expect(form.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_role("alert")).to_contain_text("2 problem(s)")
    assert rest.get(helpers.RUNS, params={"task_queue": queue}).json().get("workflowRuns") is None

    form.get_by_label("Quantity").fill("0")  # a number, but below the schema's minimum
    form.get_by_label("City").fill("Paris")
    form.get_by_role("button", name="Start run").click()
    expect(quantity.locator(".field-error")).to_contain_text("less than the minimum of 1")
    expect(city.locator(".field-error")).to_have_count(0)
    expect(form.get_by_role("alert")).to_contain_text("input.quantity")
    helpers.screenshot(page, "workflow-start-error")
    assert rest.get(helpers.RUNS, params={"task_queue": queue}).json().get("workflowRuns") is None

    form.get_by_label("Quantity").fill("3")
    form.get_by_role("button", name="Add Lines").click()
    form.get_by_label("Sku").fill("A-1")
    form.get_by_label("Qty").fill("0")
    form.get_by_role("button", name="Start run").click()
    line_qty = page.locator('.schema-form [data-path="$.lines[0].qty"]')
    expect(line_qty.locator(".field-error")).to_contain_text("less than the minimum of 1")
    expect(quantity.locator(".field-error")).to_have_count(0)

    form.get_by_label("Qty").fill("2")
    form.get_by_label("Express").check()
    form.get_by_label("Size").select_option("L")
    form.get_by_role("button", name="Add Tags").click()
    form.get_by_label("Tags 1").fill("first")
    form.get_by_role("button", name="Add Tags").click()
    form.get_by_label("Tags 2").fill("gift")
    tags = form.locator("fieldset", has=page.get_by_role("button", name="Add Tags"))
    tags.get_by_role("listitem").first.get_by_role("button", name="Remove").click()
    expect(form.get_by_label("Tags 1")).to_have_value("gift")  # renumbered
    form.get_by_label("Notes (JSON)").fill('{"wrap": true}')
    form.get_by_role("button", name="Start run").click()

    expect(page.locator("h1")).to_contain_text("ui-order")
    expect(page.locator("h1 .badge")).to_have_text("completed", timeout=20_000)
    run_id = page.locator("dl.summary .mono").first.inner_text()
    done = helpers.run(rest, run_id)
    assert done["taskQueue"] == queue
    assert done["input"] == {
        "customer": "Ada",
        "quantity": 3,
        "express": True,
        "size": "L",
        "address": {"city": "Paris"},
        "tags": ["gift"],
        "lines": [{"sku": "A-1", "qty": 2}],
        "notes": {"wrap": True},
    }
    assert done["output"]["total"] == 35
    assert done["output"]["order"]["address"] == {"city": "Paris", "zip_code": None}


def test_start_form__as_raw_json_carries_the_fields_over_and_starts_one_run(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    page.goto(f"{dashboard.ui}#/default/workflows/ui-order")
    form = page.get_by_role("form", name="Start a run")
    form.get_by_label("Customer").fill("Bo")
    form.get_by_label("Edit the input as JSON").check()
    raw = form.get_by_label("Input (JSON)")
    expect(raw).to_have_value(re.compile('"customer": "Bo"'))
    raw.fill('{"customer": "Bo", "quantity": 1, "address": {"city": "Oslo"}, "extra": 1}')
    form.get_by_label("Task queue").fill("two words")
    form.get_by_role("button", name="Start run").click()
    expect(form.get_by_role("alert")).to_contain_text("task_queue")
    expect(form.get_by_label("Task queue")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Task queue").fill(queue)
    form.get_by_role("button", name="Start run").dblclick()  # one click, one run

    expect(page.locator("h1 .badge")).to_have_text("completed", timeout=20_000)
    run_id = page.locator("dl.summary .mono").first.inner_text()
    assert helpers.run(rest, run_id)["input"]["extra"] == 1
    listed = rest.get(helpers.RUNS, params={"task_queue": queue}).json()["workflowRuns"]
    assert [run["runId"] for run in listed] == [run_id]


def test_start_form__without_a_schema_takes_json(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    page.goto(f"{dashboard.ui}#/default/workflows/ui-steps")
    form = page.get_by_role("form", name="Start a run")
    form.get_by_label("Task queue").fill(queue)
    form.get_by_label("Input (JSON)").fill('{"n": ')
    form.get_by_role("button", name="Start run").click()
    expect(page.locator('.schema-form [data-path="$"] .field-error')).to_contain_text(
        "is not valid JSON"
    )

    form.get_by_label("Input (JSON)").fill('{"n": 5}')
    form.get_by_role("button", name="Start run").click()
    expect(page.locator("h1 .badge")).to_have_text("completed", timeout=20_000)
    run_id = page.locator("dl.summary .mono").first.inner_text()
    assert helpers.run(rest, run_id)["output"] == {"fetched": 10, "stored": 40}


@pytest.fixture
def pausable(dashboard: Dashboard) -> Iterator[str]:
    """ui-pausable, never left paused for the tests after this one, whatever happens."""
    yield "ui-pausable"
    httpx.post(f"{dashboard.base_url}{WORKFLOWS}/ui-pausable:resume", json={}, timeout=30)


def test_pause_and_resume__a_run_started_while_paused_waits_then_completes(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None, pausable: str
) -> None:
    page.goto(f"{dashboard.ui}#/default/workflows")
    row = page.locator('tr[data-workflow="ui-pausable"]')
    expect(row.locator(".badge-active")).to_be_visible()
    row.get_by_role("button", name="Pause…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("deploy freeze")
    dialog.get_by_role("button", name="Pause workflow").click()
    expect(row.locator(".badge-paused")).to_be_visible()
    expect(row).to_contain_text("deploy freeze")
    # The row was redrawn; the keyboard stays on its action, now "Resume…".
    expect(row.get_by_role("button", name="Resume…")).to_be_focused()
    assert rest.get(f"{WORKFLOWS}/ui-pausable").json()["workflow"]["paused"] is True
    helpers.screenshot(page, "workflows")

    held = helpers.start(rest, "ui-pausable", queue)
    # The worker claims the oldest available run first: once a later run of another
    # workflow on the same queue has completed, the paused one was passed over.
    later = helpers.start(rest, "ui-steps", queue)
    helpers.wait_for_status(rest, later, COMPLETED)
    assert helpers.run(rest, held)["status"] == PENDING

    row.get_by_role("link", name="ui-pausable").click()
    expect(page.locator("h1 .badge-paused")).to_be_visible()
    expect(page.locator("dl.summary")).to_contain_text("deploy freeze")
    page.get_by_role("button", name="Resume…").click()
    page.get_by_role("dialog").get_by_role("button", name="Resume workflow").click()
    expect(page.locator("h1 .badge-active")).to_be_visible()
    helpers.wait_for_status(rest, held, COMPLETED)
    page.reload()
    expect(page.get_by_role("link", name="completed").first).to_be_visible()  # run counts
    helpers.screenshot(page, "workflow")


def test_workflow_page__at_phone_width_fits_the_screen(
    chromium: Browser, dashboard: Dashboard, worker: None
) -> None:
    context = chromium.new_context(viewport=browser.PHONE)
    try:
        phone = context.new_page()
        phone.goto(f"{dashboard.ui}#/default/workflows/ui-order")
        expect(phone.get_by_role("form", name="Start a run")).to_be_visible()
        expect(phone.get_by_label("Customer")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= browser.PHONE["width"]
    finally:
        context.close()
