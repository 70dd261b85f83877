"""Named SQL from .sql files, loaded once into a dict of statements.

- `-- name: <name>` starts a statement, loaded under its name.
- `-- fragment: <name>` starts a piece of SQL that statements include as `{{name}}`:
  a rule several statements share (the lease fence, closing a run's open attempts)
  is written once. Includes are expanded here, at load time, so a statement sent to
  the database is plain SQL and costs nothing per call. The fragment's leading
  comment lines document it in the file and are left out of the expansion; its
  continuation lines take the indentation of the line that includes it. A fragment
  may include other fragments.
- Comment lines after the SQL of a statement or fragment (a section header) are not
  part of it.

A fragment nothing includes, an include of an unknown fragment, a cycle of includes
and a name defined twice are errors, raised when the file is loaded.
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
            statements[name] = "\n".join(_without_trailing_comments(body.strip().splitlines()))
        else:
            fragments[name] = _fragment_body(name, body)
    expander = _Expander(fragments)
    expanded = {name: expander.expand(name, body) for name, body in statements.items()}
    if unused := sorted(fragments.keys() - expander.used):
        raise ValueError(f"fragments included by nothing: {', '.join(unused)}")
    return expanded


def load_queries(package: str, filename: str = "queries.sql") -> dict[str, str]:
    return parse_queries(resources.files(package).joinpath(filename).read_text())


def _without_trailing_comments(lines: list[str]) -> list[str]:
    """Comments after the SQL (a section header) belong to what follows."""
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("--")):
        lines.pop()
    return lines


def _fragment_body(name: str, body: str) -> str:
    lines = _without_trailing_comments(body.strip().splitlines())
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    text = "\n".join(lines).strip()
    if not text:
        raise ValueError(f"fragment {name!r} is empty")
    return text


class _Expander:
    """Expands includes, each fragment once (its own includes first)."""

    def __init__(self, fragments: dict[str, str]) -> None:
        self._raw = fragments
        self._done: dict[str, str] = {}
        self._pending: list[str] = []
        self.used: set[str] = set()

    def expand(self, name: str, body: str) -> str:
        def include(match: re.Match[str]) -> str:
            line_start = body.rfind("\n", 0, match.start()) + 1
            indent = _INDENT.match(body, line_start)
            text = self._fragment(name, match[1])
            return text.replace("\n", "\n" + (indent[0] if indent else ""))

        return _INCLUDE.sub(include, body)

    def _fragment(self, includer: str, name: str) -> str:
        if name not in self._raw:
            raise ValueError(f"{includer!r} includes unknown fragment {name!r}")
        self.used.add(name)
        if name in self._pending:
            cycle = " -> ".join([*self._pending[self._pending.index(name) :], name])
            raise ValueError(f"fragments include each other: {cycle}")
        if name not in self._done:
            self._pending.append(name)
            self._done[name] = self.expand(name, self._raw[name])
            self._pending.pop()
        return self._done[name]
