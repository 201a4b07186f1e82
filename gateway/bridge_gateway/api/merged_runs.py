"""One run history over two owners (the catalog's runs and the orders service's), paged as if it were one list.

Each owner pages its own runs newest first. The merged order is created_at descending, the first owner's run
first on a tie, which keeps each owner's own order. Page p of size n is items [(p-1)n, pn) of that merge: it is
made of the next runs of each owner after a split (i of the first owner's, offset - i of the second's) that
lies in a sorted order, so it is found by binary search over single runs rather than by reading every run
before the page. A page within the first MAX_PAGE_SIZE runs, the common case, costs one call per owner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from bridge_gateway.models import MAX_PAGE_SIZE, PageRequest, Run, RunPage

RunLister = Callable[[PageRequest], RunPage]

_UNDATED: Final = datetime.min.replace(tzinfo=UTC)  # a run without a creation time sorts last


def _created(run: Run) -> datetime:
    return run.created_at or _UNDATED


class _Owner:
    """One owner's runs by position, each read at most once per request."""

    def __init__(self, list_runs: RunLister) -> None:
        self._list_runs = list_runs
        self._known: dict[int, Run] = {}
        self.total = 0

    def read(self, page: PageRequest) -> list[Run]:
        answer = self._list_runs(page)
        self.total = answer.total
        start = (page.page - 1) * page.page_size
        for index, run in enumerate(answer.items, start):
            self._known[index] = run
        return answer.items

    def at(self, index: int) -> Run:
        if index not in self._known:
            self.read(PageRequest(page=index + 1, page_size=1))
        return self._known[index]

    def span(self, start: int, count: int) -> list[Run]:
        """Runs [start, start + count) (fewer at the end): at most two pages of `count`."""
        count = min(count, self.total - start)
        if count <= 0:
            return []
        if any(index not in self._known for index in range(start, start + count)):
            first_page = start // count + 1
            self.read(PageRequest(page=first_page, page_size=count))
            if start % count:
                self.read(PageRequest(page=first_page + 1, page_size=count))
        return [self._known[index] for index in range(start, min(start + count, self.total)) if index in self._known]


def _merge(first: list[Run], second: list[Run], count: int) -> list[Run]:
    merged: list[Run] = []
    i = j = 0
    while len(merged) < count and (i < len(first) or j < len(second)):
        if j >= len(second) or (i < len(first) and _created(first[i]) >= _created(second[j])):
            merged.append(first[i])
            i += 1
        else:
            merged.append(second[j])
            j += 1
    return merged


def _split(first: _Owner, second: _Owner, offset: int) -> int:
    """How many of the first owner's runs come before position `offset` of the merge.

    The largest i in [low, high] whose first-owner run i-1 precedes the second owner's run offset-i: that
    test holds for small i and fails from some i on, so the answer is found by bisection."""
    low, high = max(0, offset - second.total), min(offset, first.total)
    while low < high:
        middle = (low + high + 1) // 2
        if _created(first.at(middle - 1)) >= _created(second.at(offset - middle)):
            low = middle
        else:
            high = middle - 1
    return low


def merged_page(first_owner: RunLister, second_owner: RunLister, page: PageRequest) -> RunPage:
    """Page `page` of both owners' runs, newest first; `total` counts both."""
    first, second = _Owner(first_owner), _Owner(second_owner)
    offset, size = (page.page - 1) * page.page_size, page.page_size
    if offset + size <= MAX_PAGE_SIZE:
        head = PageRequest(page=1, page_size=offset + size)
        items = _merge(first.read(head), second.read(head), offset + size)[offset:]
    else:
        first.read(PageRequest(page=1, page_size=1))  # the totals, and each owner's newest run
        second.read(PageRequest(page=1, page_size=1))
        taken = _split(first, second, offset)
        items = _merge(first.span(taken, size), second.span(offset - taken, size), size)
    return RunPage(items=items, total=first.total + second.total, page=page.page, page_size=size)
