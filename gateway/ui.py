"""GET /ui: the web dashboard, hand-written HTML, CSS and JavaScript modules served from
this package (no CDN, no build step). It is one more client of the public REST API: the
page's scripts call /v1/… like any other client and get nothing the API does not give.

Every /ui response carries a strict Content-Security-Policy: scripts and styles from this
origin only (no inline script, no eval), no framing, no form posts, no other origins.
The one setting the server passes to the page, the trace-link template, travels in a
<meta> element, HTML-escaped.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import grpc
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.errors import GatewayError

ASSETS_DIR = Path(__file__).parent / "ui_assets"
UI_PREFIX = "/ui"
STATIC_PREFIX = "/ui/static"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# An asset name: a file of ui_assets/ or of one of its sub-folders (pages/…), no dots
# in folder names, so no "..", and only the suffixes above.
_ASSET_NAME = re.compile(r"(?:[a-z0-9_-]+/)?[a-z0-9_-]+\.(?:js|css|svg)")
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Run IDs appear in /ui URLs (after the #, which browsers never send, but still).
    "Referrer-Policy": "no-referrer",
}
# Assets change with the package: revalidate each time (cheap, and never stale after an
# upgrade); the page itself is never cached.
_ASSET_CACHE = "no-cache"


def ui_page(trace_url_template: str = "") -> str:
    page = (ASSETS_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace("{trace_url_template}", html.escape(trace_url_template, quote=True))


def ui_routes(trace_url_template: str = "") -> list[BaseRoute]:
    """GET /ui (the page) and its assets under /ui/static/."""
    page = ui_page(trace_url_template)
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}

    async def index(_request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = ASSETS_DIR / name
        if not _ASSET_NAME.fullmatch(name) or not path.is_file():
            missing = GatewayError(
                grpc.StatusCode.NOT_FOUND,
                "ROUTE_NOT_FOUND",
                f"no dashboard asset {name!r}",
                metadata={"path": request.url.path},
            )
            return Response(
                missing.body(),
                status_code=404,
                media_type="application/json",
                headers=SECURITY_HEADERS,
            )
        return FileResponse(
            path,
            media_type=_MEDIA_TYPES[path.suffix],
            headers={**SECURITY_HEADERS, "Cache-Control": _ASSET_CACHE},
        )

    return [
        Route(UI_PREFIX, index, methods=["GET"], name="ui"),
        Route(UI_PREFIX + "/", index, methods=["GET"], name="ui_slash"),
        Route(STATIC_PREFIX + "/{name:path}", asset, methods=["GET"], name="ui_asset"),
    ]
