"""What the orders use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft
from bridge_orders.domain.order_record import OrderRecord
from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.errors import Conflict


class OrderSettingsRepository(Protocol):
    """The stored order settings of the unit of work's tenant."""

    def get(self) -> TenantOrderSettings | None: ...
    def add(self, settings: TenantOrderSettings) -> None: ...


class OrderRecordRepository(Protocol):
    """The order records of the unit of work's tenant, one per ikas order (unique by ikas order id)."""

    def get(self, ikas_order_id: str) -> OrderRecord | None: ...
    def add(self, record: OrderRecord) -> None: ...


class ConcurrentWrite(Conflict):
    """`commit()` lost a race: another transaction changed or inserted the same record first."""


class OrdersUnitOfWork(Protocol):
    """One transaction for one tenant; nothing is written unless `commit()` is called. `commit()` raises
    ConcurrentWrite when another transaction claimed or inserted the same order record first."""

    # Read-only, so an implementation may hold a more specific repository (a mutable protocol
    # attribute would have to match its type exactly).
    @property
    def settings(self) -> OrderSettingsRepository: ...
    @property
    def orders(self) -> OrderRecordRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[str], OrdersUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class IkasOrders(Protocol):
    """Orders of one tenant's ikas store. Raises UpstreamUnavailable, UpstreamRejected, or a Conflict whose
    details name reason needs_reauth|disconnected when the connection is paused."""

    def get_order(self, tenant_id: str, ikas_order_id: str) -> IkasOrder | None: ...
    def prices_include_vat(self, tenant_id: str) -> bool: ...


class ArticleNumbers(Protocol):
    """The Fortnox article numbers of related ikas variants (the catalog's product relations).

    `variants` maps variant id -> the SKU the order line carries; the answer maps the related variant ids
    to their article numbers and leaves the unrelated ones out."""

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]: ...


@dataclass(frozen=True)
class FortnoxOrderSummary:
    number: str
    currency: str | None
    total: Decimal | None
    total_vat: Decimal | None
    round_off: Decimal | None
    freight_vat: Decimal | None


class FortnoxOrders(Protocol):
    """Orders in one tenant's Fortnox. `create` is never repeated by the adapter: a lost answer is
    OutcomeUnknown, and the caller looks up by the key before it writes again."""

    def find(self, tenant_id: str, key: str) -> FortnoxOrderSummary | None:
        """The order whose ExternalInvoiceReference1 is exactly `key`, looked up in orders and then in
        invoices (an invoiced order is found through the invoice's order reference)."""
        ...

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary: ...


class FortnoxCustomers(Protocol):
    """Customers in one tenant's Fortnox; finds compare exactly (Fortnox searches match substrings)."""

    def find_by_email(self, tenant_id: str, email: str) -> tuple[str, str | None] | None:
        """(customer number, VATType) of the customer with exactly this e-mail."""
        ...

    def find_by_organisation_number(self, tenant_id: str, number: str) -> tuple[str, str | None] | None: ...
    def create(self, tenant_id: str, draft: CustomerDraft) -> str: ...
    def set_vat_type(self, tenant_id: str, number: str, vat_type: str) -> None: ...
