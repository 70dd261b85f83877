"""Integers written as JSON strings, as proto3 JSON allows for every integer field.

The gateway takes a string only in the canonical decimal form (`"12"`, `"-3"`; not `"012"`,
`"1e2"`, `"3.0"` or `" 3"`, which `json_format` would also read), so that the OpenAPI
document can state the accepted strings exactly: `range_pattern` is the regular
expression of the canonical decimals from `low` to `high`.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import FieldDescriptor

_T = FieldDescriptor
INT_RANGES = {
    _T.TYPE_INT32: (-(2**31), 2**31 - 1),
    _T.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _T.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _T.TYPE_UINT32: (0, 2**32 - 1),
    _T.TYPE_FIXED32: (0, 2**32 - 1),
    _T.TYPE_INT64: (-(2**63), 2**63 - 1),
    _T.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _T.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _T.TYPE_UINT64: (0, 2**64 - 1),
    _T.TYPE_FIXED64: (0, 2**64 - 1),
}

CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)")


def integer_rule(field: FieldDescriptor) -> str:
    """The rule of an integer field, in the API's words."""
    low, high = INT_RANGES[field.type]
    return (
        f"must be an integer from {low} to {high} (a JSON number, or a string of its "
        'canonical decimal digits, like "12")'
    )


def canonical(text: str) -> bool:
    """A decimal integer without sign `+`, leading zeros, fraction, exponent or spaces
    (`-0` is no integer's canonical form either)."""
    return CANONICAL.fullmatch(text) is not None and text != "-0"


def range_pattern(low: int, high: int) -> str:
    """An anchored regex of the canonical decimals of the integers from `low` to `high`."""
    parts: list[str] = []
    if low < 0:
        parts.append(f"-({_naturals(max(1, -high), -low)})")
    if high >= 0:
        parts.append(_naturals(max(0, low), high))
    return f"^({'|'.join(parts)})$"


def _naturals(low: int, high: int) -> str:
    alternatives: list[str] = []
    for width in range(len(str(low)), len(str(high)) + 1):
        first = max(low, 10 ** (width - 1) if width > 1 else 0)
        last = min(high, 10**width - 1)
        if first <= last:
            alternatives += _same_width(str(first), str(last))
    return "|".join(alternatives)


def _same_width(low: str, high: str) -> list[str]:
    """Alternatives matching the digit strings from `low` to `high` (of one width)."""
    if low == high:
        return [low]
    common = 0
    while low[common] == high[common]:
        common += 1
    prefix, low, high = low[:common], low[common:], high[common:]
    rest = len(low) - 1
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return [prefix + f"[{low[0]}-{high[0]}]" + _any_digits(rest)]
    out = [prefix + low[0] + tail for tail in _same_width(low[1:], "9" * rest)]
    if int(high[0]) - int(low[0]) > 1:
        out.append(prefix + f"[{int(low[0]) + 1}-{int(high[0]) - 1}]" + _any_digits(rest))
    out += [prefix + high[0] + tail for tail in _same_width("0" * rest, high[1:])]
    return out


def _any_digits(count: int) -> str:
    return "" if count == 0 else ("[0-9]" if count == 1 else f"[0-9]{{{count}}}")
