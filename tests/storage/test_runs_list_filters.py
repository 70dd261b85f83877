"""run_list filters, alone and combined, on the first page and through cursors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from storage import Store
from storage.records import Run, RunFilter, RunStatus
from tests.storage.helpers import HOUR, utcnow
from tests.storage.listing import fetcher, ids, list_runs, ordered, run_key
from tests.storage.paging import walk_backward, walk_forward
from tests.storage.states import make_run

S = RunStatus
STATUS_CYCLE = [S.PENDING, S.RUNNING, S.COMPLETED, S.CANCELED, S.FAILED, S.SLEEPING, S.WAITING]


@dataclass(frozen=True)
class Population:
    """Twelve runs of one namespace: workflows a/b, queues q1/q2, every status."""

    ns: str
    runs: list[Run]
    q1: str
    q2: str


@pytest.fixture
async def population(store: Store, ns: str, queue: str) -> Population:
    q1, q2 = f"{queue}-1", f"{queue}-2"
    runs = []
    for i in range(12):
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        runs.append(
            await make_run(
                store,
                ns,
                status,
                queue=q1 if i % 4 < 2 else q2,
                workflow_name="a" if (i // 3) % 2 == 0 else "b",
                # Pending runs wait, so that later claims in the queue only see their own run.
                start_at=utcnow() + HOUR if status is S.PENDING else None,
            )
        )
    return Population(ns, runs, q1, q2)


def matches(run: Run, f: RunFilter) -> bool:
    return (
        (not f.statuses or run.status in f.statuses)
        and (f.workflow_name is None or run.workflow_name == f.workflow_name)
        and (f.task_queue is None or run.task_queue == f.task_queue)
        and (f.created_after is None or run.created_at >= f.created_after)
        and (f.created_before is None or run.created_at < f.created_before)
    )


def nth(p: Population, i: int) -> Run:
    return sorted(p.runs, key=run_key)[i]


FILTERS: dict[str, Callable[[Population], RunFilter]] = {
    "no_filter": lambda p: RunFilter(),
    "one_status": lambda p: RunFilter(statuses=(S.COMPLETED,)),
    "several_statuses": lambda p: RunFilter(statuses=(S.PENDING, S.SLEEPING, S.FAILED)),
    "workflow_name": lambda p: RunFilter(workflow_name="b"),
    "task_queue": lambda p: RunFilter(task_queue=p.q2),
    "created_after_is_inclusive": lambda p: RunFilter(created_after=nth(p, 4).created_at),
    "created_before_is_exclusive": lambda p: RunFilter(created_before=nth(p, 7).created_at),
    "created_window": lambda p: RunFilter(
        created_after=nth(p, 2).created_at, created_before=nth(p, 9).created_at
    ),
    "combined": lambda p: RunFilter(
        statuses=(S.RUNNING, S.COMPLETED, S.CANCELED, S.SLEEPING),
        workflow_name="a",
        task_queue=p.q1,
        created_after=nth(p, 0).created_at,
        created_before=nth(p, 11).created_at,
    ),
    "unknown_workflow": lambda p: RunFilter(workflow_name="nope"),
    "status_absent_from_the_queue": lambda p: RunFilter(
        statuses=(S.PENDING,), task_queue=f"{p.q1}-nope"
    ),
}


EMPTY = {"unknown_workflow", "status_absent_from_the_queue"}


def expected_ids(p: Population, f: RunFilter) -> list[str]:
    return ordered([r for r in p.runs if matches(r, f)])


@pytest.mark.parametrize("name", FILTERS)
async def test_list_filter__first_page_holds_exactly_the_matches(
    store: Store, population: Population, name: str
) -> None:
    run_filter = FILTERS[name](population)
    expected = expected_ids(population, run_filter)
    assert name == "no_filter" or len(expected) < len(population.runs)
    assert bool(expected) is (name not in EMPTY)
    page = await list_runs(store, population.ns, run_filter=run_filter)
    assert ids(page) == expected
    assert (page.has_prev, page.has_next) == (False, False)


@pytest.mark.parametrize(
    "name", ["one_status", "several_statuses", "workflow_name", "task_queue", "created_window"]
)
async def test_list_filter__applies_on_pages_after_a_cursor(
    store: Store, population: Population, name: str
) -> None:
    run_filter = FILTERS[name](population)
    fetch = fetcher(store, population.ns, run_filter)
    forward = await walk_forward(fetch, 1, run_key)
    backward = await walk_backward(fetch, 1, run_key, forward[-1])
    assert [i for p in forward for i in ids(p)] == expected_ids(population, run_filter)
    assert [ids(p) for p in backward] == [ids(p) for p in forward]


async def test_list_filter__population_has_every_status(population: Population) -> None:
    assert {r.status for r in population.runs} == set(RunStatus)
