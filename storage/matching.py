"""Which events an EVENT wait matches: the event's data contains the wait's `match`
(jsonb's @> rule: every field of the match is in the data with an equal value, nested
objects compared the same way, an array containing the match's elements).

Finding the waits an event may resolve must stay cheap with 100,000 open waits, so
each wait is stored with one key of its match (`match_key`): one scalar field, as the
JSON text of its path and value. Every event lists the keys of all its scalar fields
(`event_keys`), and the waits whose key is among them (or that have no key) are the only
candidates, found by the (namespace_id, name, match_key) index; `contains` then decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

NO_KEY = ""
"""The key of a match with no scalar field: such a wait is a candidate for every event."""


def contains(data: Any, match: Any) -> bool:
    """Whether `data` contains `match` (PostgreSQL's jsonb @>)."""
    if isinstance(match, dict):
        return isinstance(data, dict) and all(
            key in data and contains(data[key], value) for key, value in match.items()
        )
    if isinstance(match, list):
        if not isinstance(data, list):
            return False
        return all(any(contains(item, wanted) for item in data) for wanted in match)
    return _scalar(data) == _scalar(match) and type(_scalar(data)) is type(_scalar(match))


def match_key(match: Any) -> str:
    """The one key a wait is indexed by: its longest scalar field (IDs are more selective
    than flags), or NO_KEY."""
    keys = sorted(_keys(match, ()), key=lambda key: (-len(key), key))
    return keys[0] if keys else NO_KEY


def event_keys(data: Any) -> list[str]:
    """Every key an event can be found by: those of its scalar fields, and NO_KEY."""
    return [NO_KEY, *sorted(set(_keys(data, ())))]


def _keys(value: Any, path: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _keys(item, (*path, key))
    elif not isinstance(value, list) and path:
        # Arrays have no key: containment within them is checked by `contains` alone.
        yield json.dumps([*path, _scalar(value)], separators=(",", ":"), ensure_ascii=False)


def _scalar(value: Any) -> Any:
    """Numbers compare by value, as in jsonb: 1 and 1.0 are one number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
