"""The dashboard against a server that requires API keys (`--auth required`), with real
keys made by `stepline-server keys create`: refused without a key, working once one is
entered; a reader key sees no actions; the namespace list for a key allowed to list
namespaces, the free text box for one that is refused (403)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import sqlite_url_for
from tests.ui import helpers
from tests.ui.servers import Dashboard, create_key, dashboard_server

TEAM = "ui-auth-team"
SCHEDULE = "ui-auth-hourly"


@dataclass(frozen=True)
class Secured:
    server: Dashboard
    operator: str
    client: str
    reader: str
    run_id: str


@pytest.fixture(scope="module")
def secured(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    workdir: Path = tmp_path_factory.mktemp("ui-auth")
    url = sqlite_url_for(workdir / "stepline.db")
    keys = {role: create_key(url, "default", role) for role in ("client", "reader")}
    operator = create_key(url, "*", "admin")
    with dashboard_server(url, workdir, auth="required") as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as rest:
            bearer = {"authorization": f"Bearer {operator}"}
            made = rest.post("/v1/namespaces", json={"namespaceId": TEAM}, headers=bearer)
            assert made.status_code == 200, made.text
            started = rest.post(
                "/v1/namespaces/default/runs",
                json={"workflowName": "ui-nap", "taskQueue": "nobody"},
                headers={"authorization": f"Bearer {keys['client']}"},
            )
            assert started.status_code == 200, started.text
            # A paused workflow and a schedule: the new pages have something to act on.
            paused = rest.post(
                "/v1/namespaces/default/workflows/ui-nap:pause",
                json={"reason": "audit"},
                headers=bearer,
            )
            assert paused.status_code == 200, paused.text
            scheduled = rest.post(
                "/v1/namespaces/default/schedules",
                json={
                    "scheduleId": SCHEDULE,
                    "interval": "3600s",
                    "workflowName": "ui-nap",
                    "taskQueue": "nobody",
                },
                headers=bearer,
            )
            assert scheduled.status_code == 200, scheduled.text
        yield Secured(
            server, operator, keys["client"], keys["reader"], started.json()["run"]["runId"]
        )


def _enter_key(page: Page, key: str) -> None:
    dialog = page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    dialog.get_by_label("API key").fill(key)
    dialog.get_by_role("button", name="Use key").click()


def test_without_a_key__refused_then_a_client_key_works_and_acts(
    page: Page, secured: Secured
) -> None:
    page.goto(f"{secured.server.ui}#/default/runs")
    dialog = page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("table.runs td.error")).to_contain_text("key")
    expect(page.locator("tr[data-run-id]")).to_have_count(0)

    page.reload()
    _enter_key(page, secured.client)
    expect(page.locator(f'tr[data-run-id="{secured.run_id}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Cancel matching runs…")).to_be_visible()
    expect(page.locator("#namespace-id")).to_be_visible()  # a client may not list namespaces
    expect(page.locator("#namespace-select")).to_be_hidden()

    page.get_by_role("link", name=secured.run_id).click()
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    expect(page.get_by_role("button", name="Send signal…")).to_be_visible()

    # The same actions the reader does not see (test below), shown to a client key.
    page.locator("#nav").get_by_role("link", name="Workflows").click()
    paused = page.locator('tr[data-workflow="ui-nap"]')
    expect(paused.get_by_role("button", name="Resume…")).to_be_visible()
    page.get_by_role("link", name="ui-nap").click()
    expect(page.get_by_role("form", name="Start a run")).to_be_visible()
    page.locator("#nav").get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("button", name="Trigger…")).to_be_visible()


def test_a_reader_key__sees_runs_and_events_but_no_actions(page: Page, secured: Secured) -> None:
    page.goto(f"{secured.server.ui}#/default/runs/{secured.run_id}")
    _enter_key(page, secured.reader)
    expect(page.locator("h1 .badge")).to_have_text("pending")
    expect(page.locator("body")).to_have_attribute("data-can-write", "false")
    expect(page.get_by_role("button", name="Cancel run")).to_be_hidden()
    expect(page.get_by_role("button", name="Send signal…")).to_be_hidden()
    helpers.screenshot(page, "run-reader-key")

    page.goto(f"{secured.server.ui}#/default/runs")
    expect(page.locator(f'tr[data-run-id="{secured.run_id}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel matching runs…")).to_be_hidden()

    page.locator("#nav").get_by_role("link", name="Events").click()
    expect(page.get_by_role("form", name="Filter events")).to_be_visible()
    expect(page.get_by_role("form", name="Send an event")).to_be_hidden()


def test_a_reader_key__sees_workflows_schedules_and_workers_but_no_actions(
    page: Page, secured: Secured
) -> None:
    page.goto(f"{secured.server.ui}#/default/workflows")
    _enter_key(page, secured.reader)
    row = page.locator('tr[data-workflow="ui-nap"]')
    expect(row.locator(".badge-paused")).to_be_visible()
    expect(row).to_contain_text("audit")
    expect(page.locator("body")).to_have_attribute("data-can-write", "false")
    expect(row.locator("button")).to_have_count(1)  # there, but hidden
    expect(row.locator("button")).to_be_hidden()
    helpers.screenshot(page, "workflows-reader-key")

    row.get_by_role("link", name="ui-nap").click()
    expect(page.locator("h1")).to_contain_text("ui-nap")
    expect(page.locator("dl.summary")).to_contain_text("audit")
    expect(page.locator("form.start-form")).to_have_count(1)
    expect(page.locator("form.start-form")).to_be_hidden()
    expect(page.get_by_role("button", name="Resume…")).to_be_hidden()

    page.locator("#nav").get_by_role("link", name="Schedules").click()
    schedule = page.locator(f'tr[data-schedule-id="{SCHEDULE}"]')
    expect(schedule).to_contain_text("ui-nap")
    expect(schedule.locator("button")).to_have_count(2)
    expect(schedule.locator("button").first).to_be_hidden()
    expect(schedule.locator("button").last).to_be_hidden()

    page.locator("#nav").get_by_role("link", name="Workers").click()
    expect(page.locator("table.workers")).to_contain_text("No workers match.")


def test_an_operator_key__switches_namespaces_from_the_list(page: Page, secured: Secured) -> None:
    page.goto(f"{secured.server.ui}#/default/runs")
    _enter_key(page, secured.operator)
    select = page.locator("#namespace-select")
    expect(select).to_be_visible()
    expect(select.locator("option")).to_have_text(["default", TEAM])
    select.select_option(TEAM)
    expect(page).to_have_url(f"{secured.server.ui}#/{TEAM}/runs")
    expect(page.locator("table.runs")).to_contain_text("No runs match.")
    expect(page.get_by_role("button", name="Cancel matching runs…")).to_be_visible()
