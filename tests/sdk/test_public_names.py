"""`stepline`'s public names load on first use (PEP 562) and are the very objects their
private modules define; `dir()`, `from stepline import *` and unknown names behave as
for any module."""

from __future__ import annotations

import importlib

import pytest

import stepline


@pytest.mark.parametrize("name", stepline.__all__)
def test_public_name__is_the_object_its_module_defines(name: str) -> None:
    module = importlib.import_module(stepline._HOMES[name])
    assert getattr(stepline, name) is getattr(module, name)
    assert name in dir(stepline)


def test_all__lists_every_lazy_name_once() -> None:
    assert sorted(stepline.__all__) == sorted(stepline._HOMES)
    assert len(set(stepline.__all__)) == len(stepline.__all__)


def test_star_import__binds_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from stepline import *", namespace)
    assert set(stepline.__all__) <= set(namespace)


def test_unknown_name__is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Clinet'"):
        stepline.Clinet  # type: ignore[attr-defined]  # noqa: B018


def test_submodules__still_import_by_name() -> None:
    from stepline import logs, tracing

    assert tracing.TRACE_KEY == "trace"
    assert callable(logs.configure)
