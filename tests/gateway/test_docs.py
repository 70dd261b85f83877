"""GET /docs: Swagger UI from the installed package, over real HTTP, nothing from a CDN."""

from __future__ import annotations

import re

from gateway.docs import docs_page
from tests.gateway.conftest import RestApi

_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


async def test_docs_page_points_swagger_ui_at_the_document(rest_api_sqlite: RestApi) -> None:
    response = await rest_api_sqlite.http.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle({" in response.text
    assert 'url: "/openapi.json"' in response.text


async def test_every_asset_of_the_page_loads_from_the_gateway(rest_api_sqlite: RestApi) -> None:
    page = (await rest_api_sqlite.http.get("/docs")).text
    references = _REFERENCE.findall(page)

    assert references, page
    assert all(ref.startswith("/docs/static/") for ref in references), references
    for ref in references:
        asset = await rest_api_sqlite.http.get(ref)
        assert asset.status_code == 200, ref
        assert asset.content, ref
    bundle = await rest_api_sqlite.http.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in bundle.content
    css = await rest_api_sqlite.http.get("/docs/static/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")


async def test_files_outside_the_asset_list_are_not_served(rest_api_sqlite: RestApi) -> None:
    for path in (
        "/docs/static/swagger-editor-bundle.js",
        "/docs/static/..%2F__init__.py",
        "/docs/static/nope.js",
    ):
        response = await rest_api_sqlite.http.get(path)
        assert response.status_code == 404, path


def test_openapi_url_cannot_break_out_of_the_script() -> None:
    page = docs_page('/x"</script><script>alert(1)</script>')

    assert "</script><script>alert" not in page
    assert page.count("</script>") == 3
