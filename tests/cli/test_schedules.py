"""`stepline schedules create|get|list|delete|pause|resume|trigger` against a live
server, in both output modes."""

from __future__ import annotations

import secrets

from tests.cli.runner import Cli
from tests.support import namespaces


def fresh_namespace(cli: Cli) -> str:
    """A namespace of this test's own (it must exist before a call names it)."""
    return namespaces.create_through(cli.address, f"cli-{secrets.token_hex(4)}")


def test_schedules__the_whole_life_of_a_schedule(cli: Cli) -> None:
    ns = ("--namespace", fresh_namespace(cli))
    created = cli.ok(
        *ns,
        *("schedules", "create", "nightly", "--workflow", "report", "--cron", "0 3 * * *"),
        *("--timezone", "Europe/Berlin", "--input", '{"full": true}', "--overlap", "buffer-one"),
    )
    assert created.out.startswith("created schedule nightly\n"), created.out
    assert "0 3 * * * (Europe/Berlin)" in created.out and "BUFFER_ONE" in created.out
    got = cli.ok(*ns, "--output", "json", "schedules", "get", "nightly").json()
    assert got["workflowName"] == "report" and got["input"] == {"full": True}
    assert got["overlap"] == "SCHEDULE_OVERLAP_BUFFER_ONE"
    cli.ok(*ns, "schedules", "create", "often", "--workflow", "tick", "--every", "10m")
    listed = cli.ok(*ns, "schedules", "list").out
    assert listed.index("nightly") < listed.index("often") and "every 0:10:00" in listed
    assert "paused" in cli.ok(*ns, "schedules", "pause", "nightly").out
    triggered = cli.ok(*ns, "--output", "json", "schedules", "trigger", "nightly").json()
    run = cli.ok(*ns, "--output", "json", "runs", "get", triggered["runId"]).json()
    assert run["workflowName"] == "report"
    assert "active" in cli.ok(*ns, "schedules", "resume", "nightly").out
    assert cli.ok(*ns, "schedules", "delete", "nightly").out == "deleted schedule nightly\n"
    names = [s["scheduleId"] for s in cli.ok(*ns, "--output", "json", "schedules", "list").json()]
    assert names == ["often"]


def test_schedules__errors_are_one_line(cli: Cli) -> None:
    ns = ("--namespace", fresh_namespace(cli))
    missing = cli(*ns, "schedules", "get", "ghost")
    assert (missing.code, missing.err) == (1, "stepline: schedule not found: ghost\n")
    cli.ok(*ns, "schedules", "create", "s", "--workflow", "w", "--every", "1h")
    taken = cli(*ns, "schedules", "create", "s", "--workflow", "w", "--every", "1h")
    assert taken.code == 1 and "exists already" in taken.err
    bad = cli(*ns, "schedules", "create", "t", "--workflow", "w", "--cron", "nope")
    assert bad.code == 1 and "cron" in bad.err and "Traceback" not in bad.err
