"""UUIDv7 identifiers, one at a time or a sorted batch."""

from __future__ import annotations

import uuid

from storage.ids import sorted_uuid7s, uuid7


def test_uuid7__is_a_version_7_uuid_in_canonical_form() -> None:
    value = uuid7()
    parsed = uuid.UUID(value)
    assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, value)


def test_sorted_uuid7s__are_distinct_version_7_uuids_in_ascending_order() -> None:
    ids = sorted_uuid7s(500)
    assert ids == sorted(ids) and len(set(ids)) == 500
    assert {uuid.UUID(value).version for value in ids} == {7}
    assert sorted_uuid7s(0) == []
