"""Named SQL from .sql files, loaded once into a dict of statements.

- `-- name: <name>` starts a statement, loaded under its name.
- `-- fragment: <name>` starts a piece of SQL that statements include as `{{name}}`:
  a rule several statements share (the lease fence, closing a run's open attempts)
  is written once. Includes are expanded here, at load time, so a statement sent to
  the database is plain SQL and costs nothing per call. The fragment's leading
  comment lines document it in the file and are left out of the expansion; its
  continuation lines take the indentation of the line that includes it.

A fragment nothing includes, an include of an unknown fragment and a name defined
twice are errors, raised when the file is loaded.
"""

from __future__ import annotations

import re
from importlib import resources

_HEADER = re.compile(r"^--\s*(name|fragment):\s*(\w+)\s*$", re.MULTILINE)
_INCLUDE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_INDENT = re.compile(r"[ \t]*")


def parse_queries(text: str) -> dict[str, str]:
    """The statements of `text` by name, every fragment include expanded."""
    statements: dict[str, str] = {}
    fragments: dict[str, str] = {}
    parts = _HEADER.split(text)
    for kind, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        if name in statements or name in fragments:
            raise ValueError(f"query {name!r} is defined twice")
        if kind == "name":
            statements[name] = body.strip()
        else:
            fragments[name] = _fragment_body(name, body)
    used: set[str] = set()
    expanded = {name: _expand(name, body, fragments, used) for name, body in statements.items()}
    if unused := sorted(fragments.keys() - used):
        raise ValueError(f"fragments included by no statement: {', '.join(unused)}")
    return expanded


def load_queries(package: str, filename: str = "queries.sql") -> dict[str, str]:
    return parse_queries(resources.files(package).joinpath(filename).read_text())


def _fragment_body(name: str, body: str) -> str:
    lines = body.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    text = "\n".join(lines).strip()
    if not text:
        raise ValueError(f"fragment {name!r} is empty")
    if _INCLUDE.search(text):
        raise ValueError(f"fragment {name!r} includes another fragment; only statements may")
    return text


def _expand(name: str, body: str, fragments: dict[str, str], used: set[str]) -> str:
    def include(match: re.Match[str]) -> str:
        fragment = match[1]
        if fragment not in fragments:
            raise ValueError(f"query {name!r} includes unknown fragment {fragment!r}")
        used.add(fragment)
        line_start = body.rfind("\n", 0, match.start()) + 1
        indent = _INDENT.match(body, line_start)
        return fragments[fragment].replace("\n", "\n" + (indent[0] if indent else ""))

    return _INCLUDE.sub(include, body)
