"""Fakes of the orders run's ports (feed, marks, wake-ups, read side, ledger), small classes with behaviour."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge_orders.app.ports import FortnoxOrderSummary, OrderFilter, RunRecord, WakeUp
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft
from bridge_orders.domain.order_record import OrderRecord
from bridge_platform.errors import UpstreamRejected
from bridge_upstreams.auth_tokens import ConnectionPaused


class FakeOrderFeed:
    """IkasOrderFeed over a FakeIkasOrders' orders; `paused` plays a connection that needs reconnecting."""

    def __init__(self, ikas: Any) -> None:
        self._ikas = ikas  # the export tests' FakeIkasOrders; tests replace its `orders`
        self.paused = False
        self.walks: list[datetime] = []
        self.reads: list[int] = []  # the size of each batch read by id

    def updated_since(self, tenant_id: str, since: datetime) -> Iterator[IkasOrder]:
        if self.paused:
            raise ConnectionPaused("ikas", "needs_reauth")
        self.walks.append(since)
        found = [o for o in self._ikas.orders.values() if o.updated_at is not None and o.updated_at >= since]
        yield from sorted(found, key=lambda o: (o.updated_at or since, o.id))

    def by_ids(self, tenant_id: str, ikas_order_ids: Sequence[str]) -> Iterator[IkasOrder]:
        if self.paused:
            raise ConnectionPaused("ikas", "needs_reauth")
        self.reads.append(len(ikas_order_ids))
        yield from (self._ikas.orders[i] for i in ikas_order_ids if i in self._ikas.orders)

    def placed_between(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[IkasOrder]:
        found = [o for o in self._ikas.orders.values() if start <= o.ordered_at < end]
        yield from sorted(found, key=lambda o: (o.ordered_at, o.id))


class FakeMarks:
    def __init__(self) -> None:
        self.marks: dict[tuple[str, str], datetime] = {}

    def get(self, tenant_id: str, name: str) -> datetime | None:
        return self.marks.get((tenant_id, name))

    def set(self, tenant_id: str, name: str, at: datetime) -> None:
        self.marks[(tenant_id, name)] = at


class FakeWakeUps:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], int] = {}

    def add(self, tenant_id: str, ikas_order_id: str, scope: str, at: datetime) -> None:
        self.rows[(tenant_id, ikas_order_id)] = self.rows.get((tenant_id, ikas_order_id), 0) + 1

    def pending(self, tenant_id: str, limit: int) -> list[WakeUp]:
        return [WakeUp(order, wakes) for (tenant, order), wakes in self.rows.items() if tenant == tenant_id][:limit]

    def done(self, tenant_id: str, wake_up: WakeUp) -> None:
        if self.rows.get((tenant_id, wake_up.ikas_order_id)) == wake_up.wakes:
            del self.rows[(tenant_id, wake_up.ikas_order_id)]


class FakeOrderReads:
    """The read side over a FakeDatabase's committed records."""

    def __init__(self, database: Any) -> None:
        self._database = database  # the export tests' FakeDatabase

    def _of(self, tenant_id: str) -> list[OrderRecord]:
        return [copy.deepcopy(r) for (tenant, _), r in self._database.orders.items() if tenant == tenant_id]

    def page(self, tenant_id: str, filters: OrderFilter, page: int, page_size: int) -> tuple[list[OrderRecord], int]:
        needle = filters.query.strip().lower()
        found = [
            r
            for r in self._of(tenant_id)
            if (not filters.status or r.status == filters.status)
            and (filters.ordered_from is None or r.ordered_at >= filters.ordered_from)
            and (filters.ordered_to is None or r.ordered_at < filters.ordered_to)
            and (
                not needle
                or any(needle in (t or "").lower() for t in (r.ikas_order_number, r.customer_name, r.customer_email))
            )
        ]
        found.sort(key=lambda r: (-r.ordered_at.timestamp(), r.id))
        return found[(page - 1) * page_size : page * page_size], len(found)

    def by_id(self, tenant_id: str, record_id: str) -> OrderRecord | None:
        return next((r for r in self._of(tenant_id) if r.id == record_id), None)

    def unfinished(self, tenant_id: str, except_waiting: Sequence[str], limit: int) -> list[OrderRecord]:
        found = [
            r
            for r in self._of(tenant_id)
            if r.intent is not None
            or r.status == "error"
            or (r.status == "outgoing" and r.fortnox_order_number is None and r.waiting_reason not in except_waiting)
        ]
        return sorted(found, key=lambda r: (r.updated_at, r.id))[:limit]


class FakeRunLedger:
    """Runs kept in memory: one active run per tenant and scope; `finish` ends one as a worker would."""

    def __init__(self, now: Any) -> None:
        self._now = now
        self.runs: dict[str, RunRecord] = {}
        self.payloads: dict[str, Mapping[str, Any]] = {}

    def _active(self, tenant_id: str, scope: str) -> RunRecord | None:
        return next(
            (
                r
                for r in self.runs.values()
                if (r.tenant_id, r.scope) == (tenant_id, scope)
                and r.state in ("queued", "running")
                and not r.id.endswith("-after")
            ),
            None,
        )

    def _add(self, run_id: str, tenant_id: str, scope: str, trigger: str) -> None:
        self.runs[run_id] = RunRecord(
            run_id, tenant_id, scope, trigger, "queued", 0, None, {}, [], {}, self._now(), None, None
        )

    def submit(self, tenant_id: str, scope: str, trigger: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        active = self._active(tenant_id, scope)
        if active is not None:
            return active.id, False
        run_id = f"run-{len(self.runs) + 1}"
        self._add(run_id, tenant_id, scope, trigger)
        self.payloads[run_id] = dict(payload)
        return run_id, True

    def follow_up(self, tenant_id: str, scope: str, after_run_id: str, trigger: str) -> str:
        run_id = f"{after_run_id}-after"
        if run_id not in self.runs:
            self._add(run_id, tenant_id, scope, trigger)
        return run_id

    def set_state(self, run_id: str, state: str) -> None:
        self.runs[run_id] = dataclasses.replace(self.runs[run_id], state=state)

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        run = self.runs.get(run_id)
        return run if run is not None and run.tenant_id == tenant_id else None

    def list(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[RunRecord], int]:
        found = [r for r in self.runs.values() if r.tenant_id == tenant_id and (not scope or r.scope == scope)]
        return found[(page - 1) * page_size : page * page_size], len(found)


class FakeDueTenants:
    def __init__(self, settings: dict[str, Any]) -> None:
        self._settings = settings

    def due(self) -> list[str]:
        return sorted(t for t, s in self._settings.items() if s.settings.sync_automatically)


class Progress:
    """What a run handler reports about itself (the ledger's RunContext in production)."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int | None]] = []
        self.lost = False

    def progress(self, done: int, total: int | None = None) -> None:
        self.reports.append((done, total))

    def lease_lost(self) -> bool:
        return self.lost


class FakeStoreNames:
    def store_name(self, tenant_id: str) -> str:
        return f"store-of-{tenant_id}"


class PausableFortnox:
    """The Fortnox of the export tests' FakeFortnox, whose connection can be paused (the auth service then
    refuses a token) and which can refuse the orders of one customer e-mail."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paused = False
        self.refuse_email: str | None = None

    def find(self, tenant_id: str, key: str, *, in_invoices: bool) -> FortnoxOrderSummary | None:
        if self.paused:
            raise ConnectionPaused("fortnox", "needs_reauth")
        found: FortnoxOrderSummary | None = self.inner.find(tenant_id, key, in_invoices=in_invoices)
        return found

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        customer: CustomerDraft = self.inner.customers[draft.customer_number]
        if self.refuse_email is not None and customer.email == self.refuse_email:
            raise UpstreamRejected("fortnox", "The customer was refused", 400, "2000433", {"hint": "fix it"})
        created: FortnoxOrderSummary = self.inner.create(tenant_id, draft)
        return created


class Customers:
    """FortnoxCustomers over the FakeFortnox."""

    def __init__(self, inner: Any) -> None:
        self.find_by_email = inner.find_by_email
        self.find_by_organisation_number = inner.find_by_organisation_number
        self.create = inner.create_customer
        self.set_vat_type = inner.set_vat_type


class Relations:
    """The catalog's relations: variants whose SKU is in `skus` are related, with the SKU as article number."""

    def __init__(self, skus: set[str]) -> None:
        self.skus = skus

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]:
        return {variant: sku for variant, sku in variants.items() if sku in self.skus}
