"""The layers import one another only one way (DESIGN.md "Layout"), read from the source:

- storage/ imports no other layer: not services, not the gateway, not the SDK;
- the gateway reaches the core only over gRPC: it imports neither services nor storage;
- services/ imports the gateway in one module only, `services/rest.py`, where the server
  hosts the gateway's app;
- the SDK (stepline/) imports none of services, storage and the gateway;
- services and the gateway import of the SDK only what the two sides share: the
  generated `stepline.v1`, `stepline.tracing`, `stepline.logs` and `stepline.tls` (the
  channel TLS of the standalone gateway), which import nothing
  else of the SDK themselves. So a server process never loads the client, the worker or
  the execution engine, which a fresh interpreter proves at the end.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("services", "storage", "gateway", "stepline")
# The SDK's modules a server may import: its side of the contract, tracing, log lines.
SHARED = ("stepline.v1", "stepline.tracing", "stepline.logs", "stepline.tls")
# The one module of services/ that imports the gateway.
GATEWAY_HOST = "services/rest.py"
# What a server process must never load.
SDK_ENGINE = ("stepline._client", "stepline._worker", "stepline._execution")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it, as a dotted name; `from a import b`
    counts as `a.b` (b may be a module or a name in a)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; the rules read absolute ones"
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _sources(package: str) -> list[Path]:
    sources = sorted((ROOT / package).rglob("*.py"))
    assert len(sources) > 5, package  # the walk found the package
    return sources


def _layer(name: str) -> str:
    return name.split(".")[0]


def _shared(name: str) -> bool:
    return any(name == module or name.startswith(f"{module}.") for module in SHARED)


def _offending(package: str, allowed: Callable[[str, str], bool]) -> set[str]:
    """`file: import` for each import of another layer that `allowed(file, name)` refuses."""
    return {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources(package)
        for name in _imports(path)
        if _layer(name) in LAYERS
        and _layer(name) != package
        and not allowed(path.relative_to(ROOT).as_posix(), name)
    }


def test_storage__imports_no_other_layer() -> None:
    assert _offending("storage", lambda path, name: False) == set()


def test_gateway__imports_only_the_sdks_shared_modules() -> None:
    assert _offending("gateway", lambda path, name: _shared(name)) == set()


def test_services__import_the_gateway_only_where_the_server_hosts_it() -> None:
    def allowed(path: str, name: str) -> bool:
        if _layer(name) == "gateway":
            return path == GATEWAY_HOST
        return _layer(name) == "storage" or _shared(name)

    assert _offending("services", allowed) == set()
    hosts = {
        path.relative_to(ROOT).as_posix()
        for path in _sources("services")
        if any(_layer(name) == "gateway" for name in _imports(path))
    }
    assert hosts == {GATEWAY_HOST}


def test_sdk__imports_no_server_side_layer() -> None:
    assert _offending("stepline", lambda path, name: False) == set()


def test_shared_modules__import_nothing_else_of_the_sdk() -> None:
    shared = [
        ROOT / "stepline/tracing.py",
        ROOT / "stepline/logs.py",
        ROOT / "stepline/tls.py",
        *_sources("stepline/v1"),
    ]
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in shared
        for name in _imports(path)
        if _layer(name) == "stepline" and not _shared(name)
    }
    assert offending == set()


def _loaded_after(statement: str) -> set[str]:
    """The stepline modules a fresh interpreter has loaded after `statement`."""
    script = (
        f"import json, sys\n{statement}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'stepline')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


def test_a_server_process__loads_no_client_worker_or_execution_engine() -> None:
    loaded = _loaded_after("import services.cli, services.server, gateway.app")
    assert loaded & set(SDK_ENGINE) == set()
    assert {name for name in loaded if name != "stepline" and not _shared(name)} == set()
    assert {"stepline.v1", "stepline.tracing", "stepline.logs"} <= loaded


def test_import_stepline__loads_nothing_until_a_name_is_used() -> None:
    assert _loaded_after("import stepline") == {"stepline"}
    # The same check sees the engine once a user's program asks for it.
    assert set(SDK_ENGINE) <= _loaded_after("import stepline; stepline.Worker; stepline.Client")
