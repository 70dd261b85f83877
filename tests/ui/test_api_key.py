"""The dashboard's API key: asked for on a 401, kept in sessionStorage, sent as a bearer
header, never put in a URL. The server on main has no auth yet, so the browser's own
request routing stands in for it: a request without the key is answered 401."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, Route, expect

from tests.ui import helpers
from tests.ui.servers import Dashboard

KEY = "sk_test_dashboard_key"
UNAUTHENTICATED = {
    "code": 16,
    "message": "an API key is required",
    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "UNAUTHENTICATED"}],
}


def test_api_key__asked_on_401_kept_in_the_tab_and_sent_as_bearer(
    page: Page, dashboard: Dashboard, rest: httpx.Client, queue: str
) -> None:
    run_id = helpers.start(rest, "ui-steps", queue)
    seen: list[tuple[str, str]] = []

    def require_key(route: Route) -> None:
        request = route.request
        seen.append((request.url, request.headers.get("authorization", "")))
        if request.headers.get("authorization") != f"Bearer {KEY}":
            route.fulfill(status=401, json=UNAUTHENTICATED)
        else:
            route.continue_()

    page.route("**/v1/**", require_key)
    page.goto(helpers.runs_url(dashboard.ui, task_queue=queue))

    dialog = page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("an API key is required")
    helpers.screenshot(page, "api-key-dialog")
    dialog.get_by_label("API key").fill(KEY)
    dialog.get_by_role("button", name="Use key").click()

    expect(page.locator(f'tr[data-run-id="{run_id}"]')).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('stepline.apiKey')") == KEY
    assert page.evaluate("localStorage.getItem('stepline.apiKey')") is None
    assert all(KEY not in url for url, _ in seen)
    assert KEY not in page.url
    assert (f"Bearer {KEY}") in [header for _, header in seen]

    page.get_by_role("button", name="Forget API key").click()
    assert page.evaluate("sessionStorage.getItem('stepline.apiKey')") is None
