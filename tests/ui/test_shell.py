"""The dashboard's shell: keyboard moves in the runs table, the namespace switcher, and
pages left out of the navigation when the server has no route for them."""

from __future__ import annotations

import secrets

import httpx
from playwright.sync_api import Browser, Page, Route, expect

from tests.ui import browser, helpers
from tests.ui.servers import Dashboard


def test_runs_table__up_and_down_move_between_runs(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    first, second = (helpers.start(rest, "ui-steps", queue) for _ in range(2))
    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))
    page.get_by_role("link", name=first).focus()

    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("link", name=second)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("link", name=first)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("dl.summary")).to_contain_text(first)


def test_namespace_box__when_listing_is_refused_switches_every_page_to_the_namespace(
    page: Page, dashboard: Dashboard
) -> None:
    # A key that may not list namespaces gets 403 (tests/ui/test_auth.py has the real
    # one); the free text box stays instead of the list.
    page.route("**/v1/namespaces?page_size=1000", _refuse)
    page.goto(helpers.runs_url(dashboard.ui))
    box = page.locator("#namespace-id")
    expect(box).to_have_value("default")
    expect(page.locator("#namespace-select")).to_be_hidden()

    box.fill("tenant-2")
    box.press("Enter")

    expect(page).to_have_url(f"{dashboard.ui}#/tenant-2/runs")
    expect(page.get_by_role("link", name="Runs", exact=True)).to_have_attribute(
        "href", "#/tenant-2/runs"
    )
    box.fill("not a name")
    box.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("A namespace is 1 to 63")
    expect(page).to_have_url(f"{dashboard.ui}#/tenant-2/runs")


def _refuse(route: Route) -> None:
    denied = {"code": 7, "message": "the key's role does not allow this call", "details": []}
    route.fulfill(status=403, json=denied)


def test_namespace_list__when_permitted_switches_by_choice(
    page: Page, dashboard: Dashboard, rest: httpx.Client
) -> None:
    name = f"ui-team-{secrets.token_hex(3)}"
    assert rest.post("/v1/namespaces", json={"namespaceId": name}).status_code == 200
    page.goto(helpers.runs_url(dashboard.ui))
    select = page.locator("#namespace-select")
    expect(select).to_be_visible()
    expect(select).to_have_value("default")
    expect(page.locator("#namespace-id")).to_be_hidden()

    select.select_option(name)
    expect(page).to_have_url(f"{dashboard.ui}#/{name}/runs")
    expect(page.locator("#nav").get_by_role("link", name="Events")).to_have_attribute(
        "href", f"#/{name}/events"
    )


def test_a_page_whose_route_the_server_lacks__is_left_out_of_the_navigation(
    page: Page, dashboard: Dashboard
) -> None:
    missing = {
        "code": 5,
        "message": "no route",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ROUTE_NOT_FOUND"}
        ],
    }

    def no_runs_route(route: Route) -> None:
        route.fulfill(status=404, json=missing)

    page.route("**/v1/namespaces/default/runs?page_size=1", no_runs_route)
    page.goto(helpers.runs_url(dashboard.ui))

    expect(page.locator("h1")).to_have_text("Runs")  # the page itself still opens by URL
    expect(page.locator('#nav[data-namespace="default"]')).to_be_attached()  # nav built
    expect(page.locator('#nav a[data-page="runs"]')).to_have_count(0)
    expect(page.locator('#nav a[data-page="events"]')).to_have_count(1)  # the server has it


def test_phone_width__filters_fold_away_and_the_runs_come_first(
    chromium: Browser, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    helpers.start(rest, "ui-steps", queue)  # at least one run in the list
    context = chromium.new_context(viewport=browser.PHONE)
    try:
        phone = context.new_page()
        phone.goto(helpers.runs_url(dashboard.ui))
        expect(phone.locator("table.runs tbody a").first).to_be_in_viewport()
        expect(phone.get_by_label("Workflow")).to_be_hidden()

        phone.get_by_text("Filters", exact=True).click()
        expect(phone.get_by_label("Workflow")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= browser.PHONE["width"]  # the table scrolls inside its box
    finally:
        context.close()
