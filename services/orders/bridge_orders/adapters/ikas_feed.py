"""IkasOrderFeed over the shared ikas client: the run's listOrder walks, mapped like a single order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from bridge_orders.adapters.upstreams import ikas_order_of
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_upstreams.ikas.client import IkasClient


class HttpIkasOrderFeed:
    def __init__(self, client: IkasClient) -> None:
        self._client = client

    def updated_since(self, tenant_id: str, since: datetime) -> Iterator[IkasOrder]:
        for order in self._client.iter_orders_updated_since(tenant_id, since):
            yield ikas_order_of(order)

    def placed_between(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[IkasOrder]:
        for order in self._client.iter_orders(tenant_id, ordered_from=start, ordered_before=end):
            yield ikas_order_of(order)

    def by_ids(self, tenant_id: str, ikas_order_ids: Sequence[str]) -> Iterator[IkasOrder]:
        if not ikas_order_ids:
            return
        for order in self._client.iter_orders(tenant_id, ids=list(ikas_order_ids)):
            yield ikas_order_of(order)
