"""The two queries.sql files: one name per statement, the same sections in both, each
rule written once (a fragment) and the lease fence in every write under a lease.

A statement both backends run has the same name in both files, so that a reader who
finds it in one finds it in the other. The statements only one backend has are listed
here, each with the reason, and the list cannot go stale: every name in it must exist
in its own file and not in the other.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from storage.sqlfile import load_queries

# name -> why only this backend runs it.
POSTGRES_ONLY = {
    "migrations_lock": "serializes servers migrating at once (SQLite: BEGIN IMMEDIATE)",
    "run_lock": "the locked transaction's row lock (SQLite's write lock holds the whole "
    "database, so its fence reads run_get)",
    "run_lease_state": "why a fenced single statement changed nothing (SQLite checks the "
    "lease before it writes)",
    "run_recorded": "why a fenced single statement that ends an execution changed nothing, "
    "to compare a repeat with (SQLite's fence reads run_get, the whole run, anyway)",
    "run_lock_any": "a signal's row lock, taking turns with RegisterWaits (SQLite's write "
    "lock holds the whole database)",
    "run_cancel_lock_tree": "a cancel locks the runs it cancels before the run, in the "
    "order of a child's end (SQLite's write lock holds the whole database)",
    "run_active_descendants": "whether a child appeared while a cancel took its locks "
    "(SQLite's write lock holds the whole database)",
    "event_lock_exclusive": "an event wait and an event take turns per event name (SQLite's "
    "write lock holds the whole database)",
    "event_lock_shared": "an event wait and an event take turns per event name (SQLite's "
    "write lock holds the whole database)",
    "step_begin": "the hot path as one fenced statement (SQLite: steps_of_step_id, then "
    "step_insert, under its write lock)",
    "step_complete_by_step_id": "the hot path as one fenced statement (SQLite: "
    "steps_of_step_id, then step_complete_attempt or step_insert)",
    "runs_insert": "group commit as one statement over arrays (SQLite: run_insert for each "
    "start, in one transaction)",
    "steps_complete_by_step_id": "group commit as one statement over arrays (SQLite: the "
    "single completion for each call, in one transaction)",
    "runs_complete": "group commit as one statement over arrays (SQLite: run_complete for "
    "each call, in one transaction)",
    "retention_lock": "one server deletes at a time (SQLite's write lock holds the whole database)",
    "runs_delete_expired": "a retention batch as one statement (SQLite: runs_pick_expired, "
    "then event_runs_delete_of_runs and runs_delete_by_ids)",
    "runs_hold_for_replay": "a replay holds its originals against retention (SQLite's "
    "write lock holds the whole database)",
}
SQLITE_ONLY = {
    "pragma_busy_timeout": "connection settings",
    "pragma_journal_mode_wal": "connection settings",
    "pragma_synchronous_full": "connection settings",
    "pragma_foreign_keys_on": "connection settings",
    "pragma_foreign_keys_off": "connection settings (a migration rebuilding a table)",
    "pragma_recursive_triggers_on": "connection settings",
    "wakes_table": "whether the schema has stepline_wakes yet (PostgreSQL: NOTIFY)",
    "wakes_take": "the queues a write woke, taken before it commits (PostgreSQL: NOTIFY)",
    "workflow_runs_hold_slots": "the second half of workflow_slots_adopt (PostgreSQL marks "
    "the runs and takes their slots in one statement, under the runs' row locks)",
    "run_slot_take": "a claim takes a concurrency slot per run under its write lock "
    "(PostgreSQL: stepline_slot_take, a function called inside run_claim)",
    "foreign_key_check": "a migration rebuilding a table checks the foreign keys it kept",
    "begin_immediate": "transactions (psycopg's own on PostgreSQL)",
    "begin_deferred": "transactions (psycopg's own on PostgreSQL)",
    "commit": "transactions (psycopg's own on PostgreSQL)",
    "rollback": "transactions (psycopg's own on PostgreSQL)",
    "run_claim_overdue": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "run_claim_candidates": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "steps_complete_open_sleep": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "run_fail_crashed": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "run_put_back_poisoned": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "workflow_pause_poisoned": "the claim in steps (PostgreSQL's run_claim does it all at once)",
    "savepoint": "group commit: each call of a batch in a savepoint (PostgreSQL: one "
    "statement over arrays)",
    "savepoint_release": "group commit (PostgreSQL: one statement over arrays)",
    "savepoint_rollback": "group commit (PostgreSQL: one statement over arrays)",
    "steps_close_open_of_runs": "a batch cancel in steps (PostgreSQL's run_batch_cancel does it "
    "all at once)",
    "runs_pick_expired": "a retention batch in steps (PostgreSQL's runs_delete_expired does "
    "it all at once)",
    "event_runs_delete_of_runs": "a retention batch in steps (PostgreSQL's "
    "runs_delete_expired does it all at once)",
    "runs_delete_by_ids": "a retention batch in steps (PostgreSQL's runs_delete_expired does "
    "it all at once)",
}

_SECTION = re.compile(r"^-- --- (.+?) -+$", re.MULTILINE)


def _names(package: str) -> set[str]:
    return set(load_queries(package))


def _sections(package: str) -> list[str]:
    return _SECTION.findall(resources.files(package).joinpath("queries.sql").read_text())


def test_queries__a_statement_has_one_name_in_both_backends() -> None:
    postgres, sqlite = _names("storage.postgres"), _names("storage.sqlite")
    assert postgres - POSTGRES_ONLY.keys() == sqlite - SQLITE_ONLY.keys()


def test_queries__each_backend_only_statement_exists_in_its_file_alone() -> None:
    postgres, sqlite = _names("storage.postgres"), _names("storage.sqlite")
    assert POSTGRES_ONLY.keys() <= postgres - sqlite
    assert SQLITE_ONLY.keys() <= sqlite - postgres


def test_queries__both_files_have_the_same_sections_in_the_same_order() -> None:
    sections = _sections("storage.postgres")
    assert sections == _sections("storage.sqlite")
    assert len(sections) == len(set(sections)) > 1


def test_queries__each_section_names_a_module_of_both_backends() -> None:
    for package in ("storage.postgres", "storage.sqlite"):
        modules = {entry.name for entry in resources.files(package).iterdir()}
        for section in _sections(package):
            assert f"{section}.py" in modules, (package, section)


# Statements that write a run under a worker's lease, in each backend.
FENCED = {"run_heartbeat", "run_complete", "run_release", "run_end_execution"}
POSTGRES_FENCED = {
    "step_begin",
    "step_complete_attempt",
    "step_complete_by_step_id",
    "steps_complete_by_step_id",
    "runs_complete",
}
FENCED_BY_BACKEND = {"storage.postgres": FENCED | POSTGRES_FENCED, "storage.sqlite": FENCED}
# Per file: a fragment, and a phrase it holds that nothing else in the file writes.
RULES = {
    "storage.postgres": {
        "lease_fence": "lease_expires_at >",
        "close_open_steps": "IN (SELECT id FROM ended)",
    },
    "storage.sqlite": {"lease_fence": "lease_expires_at >"},
}


@pytest.mark.parametrize("package", RULES)
def test_queries__each_rule_is_written_once_per_file(package: str) -> None:
    text = resources.files(package).joinpath("queries.sql").read_text()
    for fragment, phrase in RULES[package].items():
        assert f"-- fragment: {fragment}\n" in text
        assert text.count(phrase) == 1, (fragment, phrase)


@pytest.mark.parametrize("package", FENCED_BY_BACKEND)
def test_queries__every_write_under_a_lease_carries_the_fence(package: str) -> None:
    queries = load_queries(package)
    fenced = {name for name, statement in queries.items() if "lease_expires_at >" in statement}
    assert fenced == FENCED_BY_BACKEND[package]
