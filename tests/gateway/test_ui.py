"""GET /ui: the dashboard's page and assets over real HTTP, each with a strict
Content-Security-Policy, nothing from another origin, no file outside ui_assets/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.serve import HttpServer
from gateway.ui import ASSETS_DIR, CONTENT_SECURITY_POLICY
from tests.gateway.conftest import RestApi

_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')
_IMPORT = re.compile(r'from "(\.{1,2}/[^"]+)"|import\("(\.{1,2}/[^"]+)"\)')


async def test_ui_page__is_served_with_a_strict_content_security_policy(
    rest_api_sqlite: RestApi,
) -> None:
    response = await rest_api_sqlite.http.get("/ui")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in response.text  # no inline script: the policy would refuse it


async def test_every_asset_and_module_loads_from_the_gateway(rest_api_sqlite: RestApi) -> None:
    page = (await rest_api_sqlite.http.get("/ui")).text
    references = [ref for ref in _REFERENCE.findall(page) if not ref.startswith("#")]
    pending = [ref for ref in references if ref.startswith("/ui/static/")]
    assert pending == references, references  # nothing from elsewhere
    loaded: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in loaded:
            continue
        asset = await rest_api_sqlite.http.get(ref)
        assert asset.status_code == 200, ref
        assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        loaded.add(ref)
        if ref.endswith(".js"):
            assert asset.headers["content-type"].startswith("text/javascript")
            base = ref.rsplit("/", 1)[0]
            for found in _IMPORT.findall(asset.text):
                pending.append(_join(base, found[0] or found[1]))
    assert {"/ui/static/app.js", "/ui/static/api.js", "/ui/static/pages/runs.js"} <= loaded
    assert "/ui/static/pages/run.js" in loaded and "/ui/static/app.css" in loaded
    pages = ("workflows", "workflow", "workflow_start", "schedules", "workers")
    assert {f"/ui/static/pages/{name}.js" for name in pages} <= loaded
    assert "/ui/static/schema_form.js" in loaded


def _join(base: str, relative: str) -> str:
    parts = base.split("/")
    for piece in relative.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/index.html",
        "/ui/static/../ui.py",
        "/ui/static/%2e%2e/ui.py",
        "/ui/static/pages/../../ui.py",
        "/ui/static/missing.js",
        "/ui/static/app.JS",
    ],
)
async def test_files_outside_the_assets_are_not_served(rest_api_sqlite: RestApi, path: str) -> None:
    response = await rest_api_sqlite.http.get(path)

    assert response.status_code == 404
    assert b"def ui_routes" not in response.content


def test_no_asset_puts_markup_from_strings_into_the_page() -> None:
    """Run data reaches the DOM as text nodes only (dom.js's h()), never as markup."""
    for script in ASSETS_DIR.rglob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.relative_to(ASSETS_DIR)} uses {sink}"


async def test_trace_url_template__reaches_the_page_escaped(rest_api_sqlite: RestApi) -> None:
    template = 'http://jaeger/trace/{trace_id}"><script>alert(1)</script>'
    app = create_app(rest_api_sqlite.grpc_address, trace_url_template=template)
    server = HttpServer(app, "127.0.0.1:0", shutdown_grace=1)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{server.address}") as http:
            page = (await http.get("/ui")).text
    finally:
        await server.stop()

    assert "<script>alert(1)" not in page
    assert (
        'content="http://jaeger/trace/{trace_id}&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'
        in page
    )


def test_assets_are_package_data() -> None:
    """pyproject.toml ships every asset folder (a new folder needs a line there too)."""
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    folders = {p.parent.relative_to(ASSETS_DIR.parent) for p in ASSETS_DIR.rglob("*.*")}
    for folder in folders:
        assert f'"{folder.as_posix()}/*.*"' in pyproject, folder
