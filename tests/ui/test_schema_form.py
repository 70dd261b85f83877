"""The start form's generator (gateway/ui_assets/schema_form.js) in a real browser, on
schemas the workflows of tests/ui/apps.py do not have: what each kind renders as, what
it reads back, and recursive schemas (unfolded once, then JSON)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.ui.servers import Dashboard

# Builds the form of `schema` in the page (replacing <main>) and exposes it as window.form.
_BUILD = """async ([schema, initial]) => {
  const { schemaForm } = await import("/ui/static/schema_form.js");
  window.form = schemaForm(schema, initial === null ? undefined : initial);
  document.getElementById("main").replaceChildren(window.form.node);
}"""
_READ = "() => window.form.read()"


@pytest.fixture
def form_page(page: Page, dashboard: Dashboard) -> Page:
    page.goto(f"{dashboard.ui}#/default/workers")
    expect(page.locator("h1")).to_have_text("Workers")
    return page


def _build(page: Page, schema: Any, initial: Any = None) -> None:
    page.evaluate(_BUILD, [schema, initial])


def _read(page: Page) -> dict[str, Any]:
    read: dict[str, Any] = page.evaluate(_READ)
    return read


def test_kinds__render_as_their_controls_and_read_back_typed(form_page: Page) -> None:
    schema = {
        "type": "object",
        "required": ["count", "level"],
        "properties": {
            "count": {"type": "integer", "title": "Count"},
            "ratio": {"type": ["number", "null"]},
            "level": {"enum": [1, 2, 3]},
            "kind": {"const": "v1"},
            "when": {"type": "string", "format": "date"},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
        },
    }
    _build(form_page, schema)
    main = form_page.locator("main")
    expect(main.locator("select")).to_have_count(1)
    expect(main.get_by_label("when")).to_have_attribute("type", "date")
    expect(main.get_by_label("pair (JSON)")).to_be_visible()  # a tuple: JSON
    expect(main).to_contain_text('kind: "v1"')

    main.get_by_label("Count").fill("2.5")
    assert _read(form_page)["errors"] == [
        {"path": "$.count", "message": "must be a whole number"},
        {"path": "$.level", "message": "is required"},
    ]
    main.get_by_label("Count").fill("7")
    main.get_by_label("ratio").fill("0.25")
    main.get_by_label("level").select_option("3")
    main.get_by_label("pair (JSON)").fill('["a"]')
    assert _read(form_page) == {
        "value": {"count": 7, "level": 3, "ratio": 0.25, "kind": "v1", "pair": ["a"]},
        "errors": [],
    }


def test_initial_values__fill_the_fields_and_an_empty_optional_group_is_left_out(
    form_page: Page,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "flags": {"type": "array", "items": {"type": "boolean"}},
            "extra": {
                "type": "object",
                "required": ["note"],
                "properties": {"note": {"type": "string"}},
            },
        },
    }
    _build(form_page, schema, {"name": "x", "flags": [True, False]})
    assert _read(form_page) == {"value": {"name": "x", "flags": [True, False]}, "errors": []}

    form_page.locator("main").get_by_label("note").fill("hi")
    assert _read(form_page)["value"]["extra"] == {"note": "hi"}


def test_recursive_schema__unfolds_once_then_takes_json(form_page: Page) -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
            }
        },
        "$ref": "#/$defs/Node",
    }
    _build(form_page, schema)
    main = form_page.locator("main")
    main.get_by_label("name").fill("head")
    main.get_by_label("next (JSON)").fill('{"name": "tail"}')
    assert _read(form_page) == {"value": {"name": "head", "next": {"name": "tail"}}, "errors": []}


def test_server_error__lands_under_the_nearest_field_of_its_path(form_page: Page) -> None:
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    }
    _build(form_page, schema, {"items": ["a"]})
    _read(form_page)  # stamps the fields' paths
    shown = form_page.evaluate(
        "() => [window.form.showError('$.items[0]', 'too short'),"
        " window.form.showError('$.items[5].x', 'no such item'),"
        " window.form.showError('$.other', 'unknown key')]"
    )
    assert shown == [True, True, True]
    main = form_page.locator("main")
    expect(main.get_by_label("items 1")).to_have_attribute("aria-invalid", "true")
    errors = main.locator(".field-error")
    expect(errors).to_have_text(["too short", "no such item", "unknown key"])
    form_page.evaluate("() => window.form.clearErrors()")
    expect(errors).to_have_count(0)
    expect(main.get_by_label("items 1")).not_to_have_attribute("aria-invalid", "true")
