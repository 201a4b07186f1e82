"""The orders database: tables and their imperative mapping onto domain classes (style.md rule 5)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import composite, registry

from bridge_orders.domain.customers import CachedCustomer
from bridge_orders.domain.order_record import Attempt, Money, OrderError, OrderRecord
from bridge_orders.domain.settings import (
    MAX_ARTICLE_NUMBER_LENGTH,
    MAX_UNIT_ATTRIBUTE_LENGTH,
    OrderSettings,
    TenantOrderSettings,
)
from bridge_platform.db import UtcDateTime, new_metadata
from bridge_platform.jobs import define_runs_table

metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

# One column per OrderSettings field, named like it (the composite below relies on that).
order_settings = Table(
    "order_settings",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("sync_automatically", Boolean, nullable=False),
    Column("sync_from", UtcDateTime(), nullable=True),
    Column("create_orders", Boolean, nullable=False),
    Column("create_invoice", Boolean, nullable=False),
    Column("sync_items_without_relation", Boolean, nullable=False),
    Column("send_invoice_email", Boolean, nullable=False),
    Column("unit_source", String(32), nullable=False),
    Column("unit_attribute", String(MAX_UNIT_ATTRIBUTE_LENGTH), nullable=True),
    Column("language", String(32), nullable=False),
    Column("shipping", String(32), nullable=False),
    Column("shipping_article_number", String(MAX_ARTICLE_NUMBER_LENGTH), nullable=True),
    Column("sales_accounts", JSON, nullable=False),  # {"25": 3001, "12.5": 3002}: canonical VAT rate -> account
    Column("send_when", String(32), nullable=False),
    Column("register_payments", Boolean, nullable=False),
    Column("modes_of_payment", JSON, nullable=False),  # {"CREDIT_CARD": "KORT"}
    Column("follow_cancellations", Boolean, nullable=False),
    Column("follow_refunds", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

runs = define_runs_table(metadata)


class MoneyText(TypeDecorator[Money]):
    """Money as "149.50 SEK": an exact decimal and its currency in one column on every engine.

    Migrations spell it `sa.String(length=64)`."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Money | None, dialect: Any) -> str | None:
        return None if value is None else f"{value.amount:f} {value.currency}"

    def process_result_value(self, value: str | None, dialect: Any) -> Money | None:
        if value is None:
            return None
        amount, currency = value.split(" ", 1)
        return Money(Decimal(amount), currency)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class OrderErrorJson(TypeDecorator[OrderError]):
    """The §8 error object as JSON. Migrations spell it `sa.JSON()`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: OrderError | None, dialect: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        return {**dataclasses.asdict(value), "at": value.at.isoformat()}

    def process_result_value(self, value: dict[str, Any] | None, dialect: Any) -> OrderError | None:
        if value is None:
            return None
        at = _time(value.get("at"))
        assert at is not None
        return OrderError(value["message"], value.get("upstream_code"), value.get("hint"), at)


class TimelineJson(TypeDecorator[tuple[Attempt, ...]]):
    """The attempts of one order, oldest first, as a JSON list. Migrations spell it `sa.JSON()`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: tuple[Attempt, ...] | None, dialect: Any) -> list[dict[str, Any]]:
        return [{**dataclasses.asdict(a), "at": a.at.isoformat()} for a in value or ()]

    def process_result_value(self, value: list[dict[str, Any]] | None, dialect: Any) -> tuple[Attempt, ...]:
        # Attempts stored before the timeline kept exchanges have no request/response: they load as "".
        return tuple(
            Attempt(
                datetime.fromisoformat(a["at"]),
                a["step"],
                a["outcome"],
                a.get("detail", ""),
                a.get("request", ""),
                a.get("response", ""),
            )
            for a in value or ()
        )


# One row per ikas order known to Bridge (product.md §5). The unique key (tenant_id, ikas_order_id) makes
# listing an order happen once; `version` makes every update conditional on the row being unchanged since it
# was read, so of two workers claiming the same order only one commits its intent.
order_records = Table(
    "order_records",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ikas_order_id", String(64), nullable=False),
    Column("ikas_order_number", String(64), nullable=False),
    Column("ordered_at", UtcDateTime(), nullable=False),
    Column("customer_name", Text, nullable=False),
    Column("customer_email", String(320), nullable=True),
    Column("package_status", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("waiting_reason", Text, nullable=True),
    Column("error", OrderErrorJson(), nullable=True),
    Column("fortnox_state", String(32), nullable=True),
    Column("fortnox_order_number", String(32), nullable=True),
    Column("fortnox_invoice_number", String(32), nullable=True),
    Column("invoice_email_state", String(16), nullable=False),
    Column("invoice_email_at", UtcDateTime(), nullable=True),
    Column("invoice_attached_at", UtcDateTime(), nullable=True),
    Column("ikas_total", MoneyText(), nullable=True),
    Column("fortnox_total", MoneyText(), nullable=True),
    Column("totals_match", Boolean, nullable=True),
    Column("totals_explanation", Text, nullable=True),
    Column("intent", String(64), nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("claim_expires_at", UtcDateTime(), nullable=True),
    Column("timeline", TimelineJson(), nullable=False),
    Column("followed", JSON, nullable=True),  # after_transfer.Followed: what the Fortnox documents agree with
    Column("edited_after_invoice", Boolean, nullable=False, server_default=sa_false()),
    Column("edit_advice", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("tenant_id", "ikas_order_id"),
    Index("ix_order_records_tenant_ordered_at", "tenant_id", "ordered_at"),
    Index("ix_order_records_tenant_status", "tenant_id", "status"),
)


# Named instants of one tenant (product.md §5, §6): the updatedAt watermark of the orders run and the end of
# the last successful one (last_order_sync_at).
order_marks = Table(
    "order_marks",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
)

# Orders an ikas webhook woke up that no run has processed yet: committed before the webhook is answered, so a
# crash or a run already going loses none. One row per order (created+updated collapse into one); `wakes`
# counts the webhooks, so a run deletes only the wake-up it processed, never one that came in meanwhile.
order_wake_ups = Table(
    "order_wake_ups",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("ikas_order_id", String(64), primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("wakes", Integer, nullable=False),
    Column("woken_at", UtcDateTime(), nullable=False),
)

# The Fortnox customer of each buyer key (product.md §5, "cached per tenant"; domain/customers.py): one row per
# e-mail or organisation number, as normalised for the match. Personal data: the personal-data purge deletes it.
cached_customers = Table(
    "cached_customers",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("customer_number", String(32), nullable=False),
    Column("vat_type", String(32), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_cached_customers_tenant_customer_number", "tenant_id", "customer_number"),
)


def map_tables() -> None:
    """Maps the domain classes once per process (idempotent, so tests may call it freely)."""
    if mapper_registry.mappers:
        return
    # The composite builds OrderSettings positionally, so the columns go in the order of its fields.
    columns = [order_settings.c[field.name] for field in dataclasses.fields(OrderSettings)]
    mapper_registry.map_imperatively(
        TenantOrderSettings,
        order_settings,
        properties={"settings": composite(OrderSettings, *columns)},
    )
    mapper_registry.map_imperatively(
        OrderRecord,
        order_records,
        version_id_col=order_records.c.version,
        properties={"_version": order_records.c.version},
    )
    mapper_registry.map_imperatively(CachedCustomer, cached_customers)
