"""storage.rows and the backends' codecs: one mapping, each backend's encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.postgres.codec import CODEC as POSTGRES
from storage.postgres.codec import NIL_UUID
from storage.records import Lease
from storage.rows import lease_params
from storage.sqlite.codec import CODEC as SQLITE

AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
RUN_ID = "01a21404-5230-7ebe-9141-a65e5b69f998"


def test_sqlite_codec__times_and_intervals_are_exact_microseconds() -> None:
    assert SQLITE.moment(SQLITE.moment_param(AT)) == AT
    assert SQLITE.moment_param(AT.replace(tzinfo=None)) == SQLITE.moment_param(AT)
    interval = timedelta(days=3, microseconds=7)
    assert SQLITE.interval(SQLITE.interval_param(interval)) == interval
    assert SQLITE.list_param(["a", "b"]) == '["a", "b"]'


def test_postgres_codec__passes_values_through_but_a_malformed_id() -> None:
    assert POSTGRES.moment_param(AT) is AT and POSTGRES.moment(AT) is AT
    assert POSTGRES.list_param(["a"]) == ["a"]
    assert POSTGRES.id_param(RUN_ID) == RUN_ID
    assert POSTGRES.id_param("not-a-uuid") == NIL_UUID


def test_lease_params__the_fence_in_each_backends_encoding() -> None:
    lease = Lease("ns", RUN_ID, "nope", worker_id="w")
    assert lease_params(lease, SQLITE) == {
        "namespace_id": "ns",
        "run_id": RUN_ID,
        "lease_id": "nope",
        "worker_id": "w",
    }
    assert lease_params(lease, POSTGRES)["lease_id"] == NIL_UUID
