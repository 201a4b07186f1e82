"""The merged run history against the obvious answer (read everything, sort, slice), over owners that page like
the services do: random histories with ties, every page size class, shallow and deep pages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bridge_gateway.api.merged_runs import merged_page
from bridge_gateway.models import PageRequest, Run, RunCounts, RunPage, RunProgress

START = datetime(2026, 4, 1, tzinfo=UTC)


def run(run_id: str, minute: int | None) -> Run:
    return Run(
        id=run_id,
        scope="orders",
        state="succeeded",
        trigger="schedule",
        progress=RunProgress(done=0, total=0),
        counts=RunCounts(created=0, updated=0, unchanged=0, failed=0),
        created_at=START + timedelta(minutes=minute) if minute is not None else None,
        started_at=None,
        finished_at=None,
        errors=[],
        planned=[],
    )


class Owner:
    """Runs newest first, paged by page and page_size like ListCatalogRuns and ListOrderRuns; counts its reads."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self.read = 0
        self.calls = 0

    def __call__(self, page: PageRequest) -> RunPage:
        assert 1 <= page.page_size <= 200  # what the services accept
        start = (page.page - 1) * page.page_size
        items = self.runs[start : start + page.page_size]
        self.read += len(items)
        self.calls += 1
        return RunPage(items=items, total=len(self.runs), page=page.page, page_size=page.page_size)


def history(prefix: str, count: int, rng: random.Random, span: int) -> list[Run]:
    minutes = sorted((rng.randrange(span) for _ in range(count)), reverse=True)
    return [run(f"{prefix}{index}", minute) for index, minute in enumerate(minutes)]


def expected_page(first: list[Run], second: list[Run], page: PageRequest) -> list[str]:
    def key(item: tuple[int, int, Run]) -> tuple[float, int, int]:
        owner, position, found = item
        created = found.created_at or datetime.min.replace(tzinfo=UTC)
        return (-created.timestamp() if found.created_at else float("inf"), owner, position)

    everything = [(0, i, r) for i, r in enumerate(first)] + [(1, i, r) for i, r in enumerate(second)]
    ordered = [r.id for _, _, r in sorted(everything, key=key)]
    start = (page.page - 1) * page.page_size
    return ordered[start : start + page.page_size]


@pytest.mark.parametrize("seed", range(40))
def test_every_page_equals_the_sorted_whole(seed: int) -> None:
    rng = random.Random(seed)
    sizes = (rng.randrange(0, 400), rng.randrange(0, 400))
    span = rng.choice((5, 50, 5000))  # few distinct times (many ties) to nearly all distinct
    first, second = history("c", sizes[0], rng, span), history("o", sizes[1], rng, span)
    for _ in range(8):
        page_size = rng.choice((1, 2, 7, 50, 200))
        last_page = (sizes[0] + sizes[1]) // page_size + 2
        page = PageRequest(page=rng.randrange(1, last_page + 1), page_size=page_size)

        answer = merged_page(Owner(first), Owner(second), page)

        assert [found.id for found in answer.items] == expected_page(first, second, page), (page, sizes, span)
        assert answer.total == sizes[0] + sizes[1]
        assert (answer.page, answer.page_size) == (page.page, page.page_size)


def test_runs_without_a_creation_time_come_last() -> None:
    first = [run("c0", 5), run("c1", None)]
    second = [run("o0", 7), run("o1", None)]

    answer = merged_page(Owner(first), Owner(second), PageRequest(page=1, page_size=10))

    assert [found.id for found in answer.items] == ["o0", "c0", "c1", "o1"]


def test_a_deep_page_reads_a_few_runs_per_owner() -> None:
    rng = random.Random(7)
    first, second = history("c", 5000, rng, 10**6), history("o", 5000, rng, 10**6)
    owners = Owner(first), Owner(second)
    page = PageRequest(page=150, page_size=50)

    answer = merged_page(*owners, page)

    assert [found.id for found in answer.items] == expected_page(first, second, page)
    for owner in owners:
        assert owner.read <= 2 * 50 + 20, owner.read  # two pages of the span and single runs while bisecting
        assert owner.calls <= 20, owner.calls


def test_the_first_pages_cost_one_call_per_owner() -> None:
    rng = random.Random(3)
    owners = Owner(history("c", 300, rng, 1000)), Owner(history("o", 300, rng, 1000))

    merged_page(*owners, PageRequest(page=4, page_size=50))

    assert [owner.calls for owner in owners] == [1, 1]
