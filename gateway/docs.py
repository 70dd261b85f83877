"""GET /docs: Swagger UI for /openapi.json, its assets served from the swagger-ui-py package.

No CDN: the gateway often runs where there is no internet. Only the files the page
needs are served (an allow-list, not the package directory), with a long cache life
since they change only with the package version.
"""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

import grpc
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.errors import GatewayError


def _static_dir() -> Path:
    # Located, not imported: importing swagger_ui pulls in its web-framework adapters.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(spec.origin).parent / "static"


STATIC_DIR = _static_dir()
STATIC_PREFIX = "/docs/static"
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
_CACHE = "public, max-age=86400"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
  <script src="{static}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: {openapi_url},
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""


def docs_page(openapi_url: str, title: str = "stepline API") -> str:
    return _PAGE.format(
        title=html.escape(title),
        static=STATIC_PREFIX,
        # JSON is a valid JS literal; escaping "<" keeps "</script>" out of the page.
        openapi_url=json.dumps(openapi_url).replace("<", "\\u003c"),
    )


def docs_routes(openapi_url: str = "/openapi.json") -> list[BaseRoute]:
    """GET /docs and its assets under /docs/static/."""
    page = docs_page(openapi_url)

    async def docs(_request: Request) -> Response:
        return HTMLResponse(page)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        if media_type is None:
            missing = GatewayError(
                grpc.StatusCode.NOT_FOUND,
                "ROUTE_NOT_FOUND",
                f"no docs asset {name!r}",
                metadata={"path": request.url.path},
            )
            return Response(missing.body(), status_code=404, media_type="application/json")
        return FileResponse(
            STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": _CACHE}
        )

    return [
        Route("/docs", docs, methods=["GET"], name="docs"),
        Route(STATIC_PREFIX + "/{name}", asset, methods=["GET"], name="docs_asset"),
    ]
