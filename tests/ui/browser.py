"""The system's Chromium (Debian's `chromium` package) driven by Playwright for Python.

Nothing is installed at run time: without /usr/bin/chromium (or $STEPLINE_CHROMIUM) the
browser tests skip with a loud notice, and fail under CI=true (.ci/run installs the
browser with apt-get first).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import ViewportSize

CHROMIUM_ENV = "STEPLINE_CHROMIUM"
SCREENSHOTS_ENV = "STEPLINE_UI_SCREENSHOTS"
ROOT = Path(__file__).resolve().parents[2]
# Written by the tests, never committed (.gitignore).
SCREENSHOTS = ROOT / ".artifacts" / "ui-screenshots"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
# The first-paint measurement (tests/ui/test_first_paint.py), printed at the end of the run.
FIRST_PAINT = pytest.StashKey[str]()
# Sessions and CI run as root, where Chromium starts only without its sandbox.
ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]


def chromium_path() -> str | None:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def screenshots_dir() -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
