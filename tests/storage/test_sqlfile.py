"""storage.sqlfile: named statements and the fragments they include."""

from __future__ import annotations

import pytest

from storage.sqlfile import load_queries, parse_queries

FENCED = """
-- fragment: fence
-- Only the lease holder writes.
status = 'RUNNING'
    AND lease_id = :lease_id

-- name: heartbeat
-- Extends the lease.
UPDATE runs SET expires = :expires
WHERE id = :id AND {{fence}}

-- name: complete
UPDATE runs SET status = 'COMPLETED'
WHERE id = :id
    AND {{ fence }}
"""


def test_parse__statements_by_name_with_their_comments() -> None:
    queries = parse_queries("-- name: ping\n-- Is it there?\nSELECT 1\n\n-- name: two\nSELECT 2\n")
    assert queries == {"ping": "-- Is it there?\nSELECT 1", "two": "SELECT 2"}


def test_parse__comments_after_a_statement_belong_to_what_follows() -> None:
    text = "-- name: one\nSELECT 1\n\n-- --- section two ---\n\n-- name: two\nSELECT 2\n"
    assert parse_queries(text) == {"one": "SELECT 1", "two": "SELECT 2"}


def test_parse__fragments_are_expanded_into_each_statement_and_not_listed() -> None:
    queries = parse_queries(FENCED)
    assert set(queries) == {"heartbeat", "complete"}
    assert queries["heartbeat"] == (
        "-- Extends the lease.\n"
        "UPDATE runs SET expires = :expires\n"
        "WHERE id = :id AND status = 'RUNNING'\n"
        "    AND lease_id = :lease_id"
    )


def test_parse__continuation_lines_take_the_including_lines_indentation() -> None:
    assert parse_queries(FENCED)["complete"].splitlines()[-2:] == [
        "    AND status = 'RUNNING'",
        "        AND lease_id = :lease_id",
    ]


def test_parse__a_fragment_may_follow_the_statements_that_include_it() -> None:
    text = "-- name: q\nSELECT {{cols}} FROM t\n\n-- fragment: cols\na, b\n"
    assert parse_queries(text) == {"q": "SELECT a, b FROM t"}


def test_parse__fragments_may_include_fragments() -> None:
    text = (
        "-- fragment: live\nlive = 1\n\n"
        "-- fragment: fence\nid = :id\nAND {{live}}\n\n"
        "-- name: q\nSELECT 1 WHERE {{fence}}\n\n"
        "-- name: r\nSELECT 2 WHERE {{live}}\n"
    )
    assert parse_queries(text) == {
        "q": "SELECT 1 WHERE id = :id\nAND live = 1",
        "r": "SELECT 2 WHERE live = 1",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: q\nSELECT 1\n-- name: q\nSELECT 2\n", "defined twice"),
        ("-- fragment: q\n1\n-- name: q\nSELECT {{q}}\n", "defined twice"),
        ("-- name: q\nSELECT {{nope}}\n", "'q' includes unknown fragment 'nope'"),
        ("-- fragment: f\n1\n-- name: q\nSELECT 2\n", "included by nothing: f"),
        ("-- fragment: f\n-- only a comment\n-- name: q\nSELECT {{f}}\n", "'f' is empty"),
        (
            "-- fragment: f\n{{g}}\n-- fragment: g\n({{f}})\n-- name: q\nSELECT {{f}}\n",
            "include each other: f -> g -> f",
        ),
    ],
)
def test_parse__mistakes_fail_at_load_time(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_queries(text)


@pytest.mark.parametrize("package", ["storage.postgres", "storage.sqlite"])
def test_load__no_include_is_left_unexpanded(package: str) -> None:
    for name, statement in load_queries(package).items():
        assert "{{" not in statement and "}}" not in statement, name
