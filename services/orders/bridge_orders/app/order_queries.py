"""Reading order records (product.md §5 statuses, §8 list and single order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bridge_orders.app.order_runs import check_page
from bridge_orders.app.ports import OrderFilter, OrderMarks, OrderReads
from bridge_orders.domain.order_record import STATUSES, OrderRecord
from bridge_platform.errors import FieldViolation, InvalidInput, NotFound

LAST_ORDER_SYNC: Final = "last_order_sync"
MAX_QUERY_LENGTH: Final = 200


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderRecord]
    total: int
    page: int
    page_size: int
    last_order_sync_at: datetime | None


class ListOrders:
    """Newest ordered_at first; `filters.query` matches order number, customer name or e-mail."""

    def __init__(self, reads: OrderReads, marks: OrderMarks) -> None:
        self._reads, self._marks = reads, marks

    def __call__(self, tenant_id: str, filters: OrderFilter, page: int, page_size: int) -> OrderPage:
        page, page_size = check_page(page, page_size)
        violations = []
        if filters.status is not None and filters.status not in STATUSES:
            violations.append(FieldViolation("status", "invalid_choice", f"must be one of {', '.join(STATUSES)}"))
        if len(filters.query) > MAX_QUERY_LENGTH:
            violations.append(FieldViolation("q", "invalid_value", f"must be at most {MAX_QUERY_LENGTH} characters"))
        start, end = filters.ordered_from, filters.ordered_to
        if start is not None and end is not None and start >= end:
            violations.append(FieldViolation("ordered_to", "invalid_value", "must be later than ordered_from"))
        if violations:
            raise InvalidInput("invalid order filters", violations)
        orders, total = self._reads.page(tenant_id, filters, page, page_size)
        return OrderPage(orders, total, page, page_size, self._marks.get(tenant_id, LAST_ORDER_SYNC))


class GetOrder:
    """One order record of the tenant by Bridge's id, with its timeline; another tenant's id is NotFound."""

    def __init__(self, reads: OrderReads) -> None:
        self._reads = reads

    def __call__(self, tenant_id: str, record_id: str) -> OrderRecord:
        record = self._reads.by_id(tenant_id, record_id) if record_id.strip() else None
        if record is None:
            raise NotFound("no such order")
        return record

    def ikas_order_id(self, tenant_id: str, record_id: str) -> str:
        """The ikas order behind Bridge's id (what the per-order actions take)."""
        return self(tenant_id, record_id).ikas_order_id
