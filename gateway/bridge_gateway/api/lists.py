"""What every list of the API takes (product.md §8): `page` from 1, `page_size` 50 by default and 200 at most."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Query

from bridge_gateway.models import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

# The contract carries both as int32; a bigger page is refused here rather than failing in the conversion.
MAX_PAGE: Final = 2**31 - 1


def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page, at most {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    return PageRequest(page=page, page_size=page_size)


Page = Annotated[PageRequest, Depends(page_request)]
