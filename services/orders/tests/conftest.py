"""Fakes for the orders service's unit tests: small classes with behaviour, not mocks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from bridge_orders.app.ports import ConcurrentWrite, FortnoxOrderSummary
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft
from bridge_orders.domain.order_record import OrderRecord
from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.errors import UpstreamRejected
from bridge_platform.settings import BridgeSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeSettingsRepository:
    def __init__(self, store: dict[str, TenantOrderSettings], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.pending: TenantOrderSettings | None = None

    def get(self) -> TenantOrderSettings | None:
        return self.pending or self._store.get(self._tenant_id)

    def add(self, settings: TenantOrderSettings) -> None:
        self.pending = settings


class FakeOrderRecords:
    """Hands out copies of what is committed, so an uncommitted change is lost as in a real rollback."""

    def __init__(self, store: dict[tuple[str, str], OrderRecord], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.loaded: dict[str, tuple[OrderRecord, int]] = {}  # ikas order id -> (copy, version read)
        self.added: list[OrderRecord] = []

    def get(self, ikas_order_id: str) -> OrderRecord | None:
        stored = self._store.get((self._tenant_id, ikas_order_id))
        if stored is None:
            return None
        record = copy.deepcopy(stored)
        self.loaded[ikas_order_id] = (record, getattr(stored, "_fake_version", 0))
        return record

    def add(self, record: OrderRecord) -> None:
        self.added.append(record)


class FakeUnitOfWork:
    """Keeps what was committed per tenant; the database counts commits across all units of work."""

    def __init__(self, database: FakeDatabase, tenant_id: str) -> None:
        self._database, self.tenant_id = database, tenant_id
        self.settings = FakeSettingsRepository(database.settings, tenant_id)
        self.orders = FakeOrderRecords(database.orders, tenant_id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        pass

    def commit(self) -> None:
        store = self._database.orders
        for record in self.orders.added:  # the unique key (tenant, ikas order id)
            if (self.tenant_id, record.ikas_order_id) in store:
                raise ConcurrentWrite("listed twice")
        for order_id, (_record, version) in self.orders.loaded.items():  # the version check
            if getattr(store[(self.tenant_id, order_id)], "_fake_version", 0) != version:
                raise ConcurrentWrite("changed since read")
        for record in [*self.orders.added, *(r for r, _ in self.orders.loaded.values())]:
            saved = copy.deepcopy(record)
            saved._fake_version = getattr(record, "_fake_version", 0) + 1  # type: ignore[attr-defined]
            store[(self.tenant_id, record.ikas_order_id)] = saved
        self.orders.added, self.orders.loaded = [], {}
        if self.settings.pending is not None:
            self._database.settings[self.tenant_id] = self.settings.pending
        self._database.commits += 1


class FakeDatabase:
    def __init__(self) -> None:
        self.settings: dict[str, TenantOrderSettings] = {}
        self.orders: dict[tuple[str, str], OrderRecord] = {}
        self.commits = 0

    def unit_of_work(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


class FakeIkasOrders:
    def __init__(self) -> None:
        self.orders: dict[str, IkasOrder] = {}
        self.gross = True

    def get_order(self, tenant_id: str, ikas_order_id: str) -> IkasOrder | None:
        return self.orders.get(ikas_order_id)

    def prices_include_vat(self, tenant_id: str) -> bool:
        return self.gross


class FakeArticleNumbers:
    """Relations by SKU, like the stand-in adapter."""

    def __init__(self, articles: set[str]) -> None:
        self.articles = articles

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]:
        return {v: sku for v, sku in variants.items() if sku in self.articles}


@dataclass
class FakeFortnox:
    """Orders and customers in one Fortnox company. `after_create` runs just after an order is stored (to
    lose the answer, or to crash the caller); `reject` refuses every create."""

    orders: dict[str, OrderDraft] = field(default_factory=dict)  # number -> draft
    customers: dict[str, CustomerDraft] = field(default_factory=dict)
    vat_types: dict[str, str] = field(default_factory=dict)
    finds: int = 0
    after_create: Callable[[], None] | None = None
    reject: bool = False

    def find(self, tenant_id: str, key: str) -> FortnoxOrderSummary | None:
        self.finds += 1
        for number, draft in self.orders.items():
            if draft.external_invoice_reference1 == key:
                return self._summary(number, draft)
        return None

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        if self.reject:
            raise UpstreamRejected("fortnox", "The article was not found in Fortnox", 400, "2001302", {"hint": "h"})
        number = str(len(self.orders) + 1)
        self.orders[number] = draft
        if self.after_create is not None:
            after, self.after_create = self.after_create, None
            after()
        return self._summary(number, draft)

    @staticmethod
    def _summary(number: str, draft: OrderDraft) -> FortnoxOrderSummary:
        total = sum((r.price * r.quantity for r in draft.rows), Decimal(0)) + (draft.freight or 0)
        return FortnoxOrderSummary(number, draft.currency, total, None, Decimal(0), None)

    def find_by_email(self, tenant_id: str, email: str) -> tuple[str, str | None] | None:
        for number, customer in self.customers.items():
            if customer.email == email:
                return number, self.vat_types[number]
        return None

    def find_by_organisation_number(self, tenant_id: str, number: str) -> tuple[str, str | None] | None:
        for customer_number, customer in self.customers.items():
            if customer.organisation_number == number:
                return customer_number, self.vat_types[customer_number]
        return None

    def create_customer(self, tenant_id: str, draft: CustomerDraft) -> str:
        number = str(100 + len(self.customers))
        self.customers[number], self.vat_types[number] = draft, draft.vat_type
        return number

    def set_vat_type(self, tenant_id: str, number: str, vat_type: str) -> None:
        self.vat_types[number] = vat_type


class FakeCustomers:
    """FortnoxCustomers over a FakeFortnox (its `create` is the order create)."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox
        self.find_by_email = fortnox.find_by_email
        self.find_by_organisation_number = fortnox.find_by_organisation_number
        self.create = fortnox.create_customer
        self.set_vat_type = fortnox.set_vat_type


@pytest.fixture
def ikas() -> FakeIkasOrders:
    return FakeIkasOrders()


@pytest.fixture
def fortnox() -> FakeFortnox:
    return FakeFortnox()


@pytest.fixture
def services(
    database: FakeDatabase, clock: FixedClock, tmp_path: Path, ikas: FakeIkasOrders, fortnox: FakeFortnox
) -> Services:
    settings = BridgeSettings(data_dir=tmp_path)
    return build(
        settings,
        uow_for=database.unit_of_work,
        clock=clock,
        ikas_orders=ikas,
        article_numbers=FakeArticleNumbers({"SKU-1", "SKU-2"}),
        fortnox_orders=fortnox,
        fortnox_customers=FakeCustomers(fortnox),
    )


@pytest.fixture
def commits(database: FakeDatabase) -> Callable[[], int]:
    """How many units of work committed so far (test modules cannot import the fake's class to type it)."""
    return lambda: database.commits


@pytest.fixture
def stored(database: FakeDatabase) -> Callable[[str], TenantOrderSettings | None]:
    """What is committed for a tenant."""
    return database.settings.get
