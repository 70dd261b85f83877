"""The run page in a real browser: summary, step timeline and step details, the trace
link, replay from a chosen step behind a confirm dialog, and cancel of a sleeping run."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.ui import helpers
from tests.ui.servers import TRACE_TEMPLATE, Dashboard, ui_worker

COMPLETED = "WORKFLOW_RUN_STATUS_COMPLETED"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_run_page__shows_summary_timeline_and_step_details(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    answer = rest.post(
        helpers.RUNS,
        json={"workflowName": "ui-steps", "taskQueue": queue, "input": {"n": 3}},
        headers={"traceparent": traceparent},
    )
    run_id = answer.json()["run"]["runId"]
    helpers.wait_for_status(rest, run_id, COMPLETED)

    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    page.get_by_role("link", name=run_id).click()

    summary = page.locator("dl.summary")
    expect(summary).to_contain_text(run_id)
    expect(page.locator("h1 .badge")).to_have_text("completed")
    steps = page.locator("ol.timeline button.step")
    expect(steps).to_have_count(3)
    assert [steps.nth(i).get_attribute("data-step-id") for i in range(3)] == [
        "fetch",
        "transform",
        "store",
    ]
    expect(page.locator(".bar-completed")).to_have_count(3)
    expect(page.locator(".payloads")).to_contain_text('"stored": 24')
    trace = page.get_by_role("link", name="View trace")
    expect(trace).to_have_attribute("href", TRACE_TEMPLATE.replace("{trace_id}", TRACE_ID))

    steps.nth(1).click()
    detail = page.get_by_role("region", name="Selected step")
    expect(detail).to_contain_text("Step transform, attempt 1")
    expect(detail).to_contain_text("12")  # transform doubled 6
    helpers.screenshot(page, "run")


def test_replay_from_a_step__asks_then_opens_the_new_run(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    run_id = helpers.start(rest, "ui-steps", queue, {"n": 1})
    helpers.wait_for_status(rest, run_id, COMPLETED)
    page.goto(helpers.run_url(dashboard.ui, run_id))

    page.get_by_label("Replay from").select_option("transform")
    page.get_by_role("button", name="Replay…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("from step “transform”")
    helpers.screenshot(page, "replay-dialog")
    dialog.get_by_role("button", name="Back").click()
    expect(dialog).to_be_hidden()
    listed = rest.get(helpers.RUNS, params={"replay_of_run_id": run_id}).json()
    assert listed.get("workflowRuns", []) == []  # backing out replays nothing

    page.get_by_role("button", name="Replay…").click()
    dialog.get_by_role("button", name="Replay").click()

    expect(page.get_by_role("link", name=run_id)).to_be_visible()  # "Replay of" the original
    replay_id = page.locator("dl.summary .mono").first.inner_text()
    assert replay_id != run_id
    replay = helpers.wait_for_status(rest, replay_id, COMPLETED)
    assert replay["replayOfRunId"] == run_id
    expect(page.locator("h1 .badge")).to_have_text("completed", timeout=10_000)
    expect(page.locator(".bar-copied")).to_have_count(1)  # fetch, copied from the original


def test_cancel_a_sleeping_run__asks_then_cancels(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str, worker: None
) -> None:
    run_id = helpers.start(rest, "ui-nap", queue)
    helpers.wait_for_status(rest, run_id, "WORKFLOW_RUN_STATUS_SLEEPING")
    page.goto(helpers.run_url(dashboard.ui, run_id))
    expect(page.locator("h1 .badge")).to_have_text("sleeping")
    expect(page.locator('button.step[data-step-id="nap"]')).to_be_visible()

    page.get_by_role("button", name="Cancel run").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel run").click()

    expect(page.locator("h1 .badge")).to_have_text("canceled")
    assert helpers.run(rest, run_id)["status"] == "WORKFLOW_RUN_STATUS_CANCELED"
    expect(page.get_by_role("button", name="Replay…")).to_be_visible()


def test_run_page__refresh_keeps_the_focus_on_its_control(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    run_id = helpers.start(rest, "ui-nap", queue)  # no worker yet: PENDING
    page.goto(helpers.run_url(dashboard.ui, run_id))
    expect(page.locator("h1 .badge")).to_have_text("pending")
    page.get_by_role("button", name="Cancel run").focus()

    with ui_worker(dashboard.grpc_address, queue):
        expect(page.locator("h1 .badge")).to_have_text("sleeping", timeout=20_000)

    expect(page.locator('button.step[data-step-id="nap"]')).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_be_focused()
