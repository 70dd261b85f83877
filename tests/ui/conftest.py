"""Fixtures of the browser tests: one server with the dashboard on a SQLite file, a
worker for its workflows, and the system's headless Chromium through Playwright.

Without a browser the tests skip with a loud notice at the end of the run; with CI=true
they fail instead, so CI can never pass without them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import sqlite_url_for
from tests.ui import browser
from tests.ui.servers import Dashboard, dashboard_server, ui_worker

_SKIPPED = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def chromium_path(request: pytest.FixtureRequest) -> str:
    path = browser.chromium_path()
    if path is not None:
        return path
    message = (
        "no Chromium at /usr/bin/chromium (nor $STEPLINE_CHROMIUM): "
        "the dashboard's browser tests did not run"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires it (.ci/run installs it)", pytrace=False)
    request.config.stash[_SKIPPED] = message
    pytest.skip(message)


# Package scope, not session: Playwright's sync API runs an event loop in this thread
# while it is open, and any asyncio test collected after tests/ui would then fail.
@pytest.fixture(scope="package")
def playwright(chromium_path: str) -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package")
def chromium(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=browser.ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def dashboard(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The server with the dashboard, on a SQLite file, for the whole session."""
    workdir = tmp_path_factory.mktemp("ui-server")
    with dashboard_server(sqlite_url_for(workdir / "stepline.db"), workdir) as started:
        yield started


@pytest.fixture
def queue() -> str:
    """A task queue of this test's own: its runs, filtered by it, never mix with others'.
    (The namespace stays "default", the one namespace that always exists.)"""
    return f"ui-{secrets.token_hex(4)}"


@pytest.fixture
def worker(dashboard: Dashboard, queue: str) -> Iterator[None]:
    """A `stepline worker` running tests/ui/apps.py's workflows on this test's queue."""
    with ui_worker(dashboard.grpc_address, queue):
        yield


@pytest.fixture
def rest(dashboard: Dashboard) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=dashboard.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A desktop-sized page that fails the test on any script error it reports."""
    context = chromium.new_context(viewport=browser.DESKTOP)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    measured = config.stash.get(browser.FIRST_PAINT, None)
    if measured is not None:
        terminalreporter.write_sep("-", "dashboard")
        terminalreporter.write_line(measured)
    message = config.stash.get(_SKIPPED, None)
    if message is None:
        return
    terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
    terminalreporter.write_line(message, red=True, bold=True)
    terminalreporter.write_line(
        "Install Chromium (apt-get install -y chromium) to run them; "
        "with CI=true they fail instead of skipping.",
        red=True,
        bold=True,
    )
    terminalreporter.write_sep("!", red=True, bold=True)
