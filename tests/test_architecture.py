"""The gateway reaches the core only over gRPC: nothing in gateway/ imports the server
(services) or the database layer (storage)."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway

FORBIDDEN = ("services", "storage")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_gateway_never_imports_services_or_storage() -> None:
    root = Path(next(iter(gateway.__path__)))
    sources = sorted(root.rglob("*.py"))
    assert len(sources) > 5
    offending = {
        f"{path.relative_to(root)}: {name}"
        for path in sources
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offending == set()
