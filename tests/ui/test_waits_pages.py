"""Runs that wait, in a real browser: the WAITING badge, a signal sent from the run page,
an event sent from the events page and shown with the runs it resumed, what each wait
step received on the timeline, and a parent with its child runs (links both ways, and
the runs page's parent filter)."""

from __future__ import annotations

import secrets

import httpx
from playwright.sync_api import Page, expect

from tests.ui import helpers
from tests.ui.servers import Dashboard

COMPLETED = "WORKFLOW_RUN_STATUS_COMPLETED"
WAITING = "WORKFLOW_RUN_STATUS_WAITING"


def _wait_step_note(page: Page, step_id: str, note: str) -> None:
    expect(page.locator(f'button.step[data-step-id="{step_id}"]')).to_contain_text(note)


def test_signal_then_event__sent_from_the_pages_resume_the_run(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    order = f"o-{secrets.token_hex(4)}"
    run_id = helpers.start(rest, "ui-waiter", queue, {"order": order})
    helpers.wait_for_status(rest, run_id, WAITING)
    page.goto(helpers.run_url(dashboard.ui, run_id))
    expect(page.locator("h1 .badge")).to_have_text("waiting")
    expect(page.locator('button.step[data-step-id="approval"]')).to_contain_text(
        "approval (signal “approve”)"
    )
    _wait_step_note(page, "approval", "waiting")

    page.get_by_role("button", name="Send signal…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Signal name").fill("approve")
    dialog.get_by_label("Payload (JSON)").fill('{"by": "<b>ops</b>"}')
    helpers.screenshot(page, "signal-dialog")
    dialog.get_by_role("button", name="Send signal").click()

    _wait_step_note(page, "approval", "signal received")
    _wait_step_note(page, "payment", "waiting")  # the run parked again, for the event
    expect(page.locator("h1 .badge")).to_have_text("waiting")
    page.locator('button.step[data-step-id="approval"]').click()
    detail = page.get_by_role("region", name="Selected step")
    expect(detail).to_contain_text("<b>ops</b>")  # as text: nothing a run carries is markup
    expect(detail.locator("b")).to_have_count(0)

    page.locator("#nav").get_by_role("link", name="Events").click()
    send = page.get_by_role("form", name="Send an event")
    send.get_by_label("Event name").fill("payment.received")
    send.get_by_label("Data (a JSON object)").fill(f'{{"order": "{order}", "amount": 5}}')
    send.get_by_role("button", name="Send event").click()

    expect(page.locator("h1")).to_have_text("payment.received")
    resumed = page.locator(f'li[data-run-id="{run_id}"]')
    expect(resumed).to_contain_text("resumed by it")
    helpers.screenshot(page, "event")
    event_id = page.locator("dl.summary .mono").first.inner_text()
    helpers.wait_for_status(rest, run_id, COMPLETED)

    resumed.get_by_role("link", name=run_id).click()
    expect(page.locator("h1 .badge")).to_have_text("completed")
    _wait_step_note(page, "payment", "event received")
    page.locator('button.step[data-step-id="payment"]').click()
    detail.get_by_role("link", name=event_id).click()
    expect(page.locator("h1")).to_have_text("payment.received")


def test_events_page__filters_by_name_and_pages(
    page: Page, dashboard: Dashboard, rest: httpx.Client
) -> None:
    name = f"ui.ping.{secrets.token_hex(4)}"
    sent = []
    for i in range(3):
        answer = rest.post(
            "/v1/namespaces/default/events", json={"eventName": name, "data": {"i": i}}
        )
        assert answer.status_code == 200, answer.text
        sent.append(answer.json()["event"]["eventId"])
    rest.post("/v1/namespaces/default/events", json={"eventName": f"{name}.other", "data": {}})

    page.goto(f"{dashboard.ui}#/default/events")
    filters = page.get_by_role("form", name="Filter events")
    filters.get_by_label("Event name").fill(name)
    filters.get_by_role("button", name="Apply filters").click()
    rows = page.locator("tr[data-event-id]")
    expect(rows).to_have_count(3)
    helpers.screenshot(page, "events")

    page.goto(f"{dashboard.ui}#/default/events?event_name={name}&page_size=2")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-event-id") for i in range(2)] == sent[:2]
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-event-id") == sent[2]
    page.get_by_role("link", name="Previous").click()
    expect(rows).to_have_count(2)

    rows.first.get_by_role("link").click()
    expect(page.locator("dl.summary")).to_contain_text(sent[0])
    expect(page.locator("pre.json")).to_contain_text('"i": 0')
    expect(page.get_by_text("It started and resumed no run.")).to_be_visible()


def test_parent_and_child__linked_both_ways_and_filtered(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    parent_id = helpers.start(rest, "ui-parent", queue)
    helpers.wait_for_status(rest, parent_id, COMPLETED)
    listed = rest.get(helpers.RUNS, params={"parent_run_id": parent_id}).json()
    (child,) = listed["workflowRuns"]

    page.goto(helpers.run_url(dashboard.ui, parent_id))
    children = page.get_by_role("region", name="Child runs")
    expect(children.locator(f'li[data-run-id="{child["runId"]}"]')).to_contain_text("ui-steps")
    _wait_step_note(page, "child", "child done")
    children.get_by_role("link", name=child["runId"]).click()

    expect(page.locator("h1")).to_contain_text("ui-steps")
    page.locator("dl.summary").get_by_role("link", name=parent_id).click()
    expect(page.locator("h1")).to_contain_text("ui-parent")

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    expect(page.locator("tr[data-run-id]")).to_have_count(2)
    page.get_by_label("Parent run").fill(parent_id)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tr[data-run-id]")).to_have_count(1)
    expect(page.locator(f'tr[data-run-id="{child["runId"]}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Cancel matching runs…")).to_have_count(0)
