"""Numbered migrations per backend: `<package>/migrations/NNNN_name.sql`, applied in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILENAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    found = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations of {package} are not numbered 1..n: {versions}")
    return found
