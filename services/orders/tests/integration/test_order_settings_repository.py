"""The order settings repository and unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest

from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.tables import map_tables
from bridge_orders.bootstrap import MIGRATIONS
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.db import make_engine, session_factory, upgrade_to_head

AT = datetime(2026, 11, 24, 13, 30, 15, 123456, tzinfo=UTC)
STOCKHOLM = timezone(timedelta(hours=1))

EVERY_FIELD_SET = OrderSettings(
    sync_automatically=True,
    sync_from=datetime(2026, 1, 1, 0, 0, 0, 654321, tzinfo=STOCKHOLM),
    create_orders=False,
    create_invoice=True,
    sync_items_without_relation=True,
    send_invoice_email=True,
    unit_source="attribute",
    unit_attribute="Birim",
    language="customer_else_sv",
    shipping="order_row",
    shipping_article_number="FRAKT",
    sales_accounts={"25": 3001, "12.5": 3002, "0": 3003},
    send_when="paid",
    register_payments=True,
    modes_of_payment={"CREDIT_CARD": "KORT", "BANK_TRANSFER": "BG"},
    follow_cancellations=False,
    follow_refunds=False,
)


def units_of_work(database_url: str) -> partial[SqlOrdersUnitOfWork]:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    return partial(SqlOrdersUnitOfWork, session_factory(make_engine(database_url)))


def store(uow_for: partial[SqlOrdersUnitOfWork], tenant_id: str, settings: OrderSettings) -> None:
    with uow_for(tenant_id) as uow:
        uow.settings.add(TenantOrderSettings(tenant_id, settings, AT))
        uow.commit()


def test_every_field_round_trips(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    store(uow_for, "tenant-a", EVERY_FIELD_SET)

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
    assert stored is not None
    assert stored.settings == EVERY_FIELD_SET
    assert stored.settings.sync_from == EVERY_FIELD_SET.sync_from  # the same instant, read back as aware UTC
    assert stored.settings.sync_from is not None
    assert stored.settings.sync_from.utcoffset() == timedelta(0)
    assert stored.updated_at == AT


def test_nulls_and_empty_maps_round_trip(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    store(uow_for, "tenant-a", OrderSettings())

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
    assert stored is not None
    assert stored.settings == OrderSettings()
    assert stored.settings.sync_from is None
    assert stored.settings.unit_attribute is None
    assert stored.settings.shipping_article_number is None


def test_nothing_is_written_without_commit(database_url: str) -> None:
    uow_for = units_of_work(database_url)

    with uow_for("tenant-a") as uow:
        uow.settings.add(TenantOrderSettings("tenant-a", EVERY_FIELD_SET, AT))

    with uow_for("tenant-a") as uow:
        assert uow.settings.get() is None


def test_a_replacement_is_rolled_back_without_commit(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    store(uow_for, "tenant-a", EVERY_FIELD_SET)

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
        assert stored is not None
        stored.replace(OrderSettings(), AT + timedelta(hours=1))

    with uow_for("tenant-a") as uow:
        again = uow.settings.get()
    assert again is not None
    assert again.settings == EVERY_FIELD_SET
    assert again.updated_at == AT


def test_a_tenant_never_sees_another_tenants_settings(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    store(uow_for, "tenant-a", EVERY_FIELD_SET)

    with uow_for("tenant-b") as uow:
        assert uow.settings.get() is None

    store(uow_for, "tenant-b", OrderSettings(language="always_en"))
    with uow_for("tenant-a") as uow:
        a = uow.settings.get()
    with uow_for("tenant-b") as uow:
        b = uow.settings.get()
    assert a is not None
    assert b is not None
    assert (a.settings, b.settings) == (EVERY_FIELD_SET, OrderSettings(language="always_en"))


def test_a_repository_refuses_another_tenants_settings(database_url: str) -> None:
    uow_for = units_of_work(database_url)

    with uow_for("tenant-b") as uow, pytest.raises(ValueError, match="another tenant"):
        uow.settings.add(TenantOrderSettings("tenant-a", OrderSettings(), AT))


def test_update_replaces_the_stored_document(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    store(uow_for, "tenant-a", OrderSettings())
    later = AT + timedelta(days=1)

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
        assert stored is not None
        stored.replace(EVERY_FIELD_SET, later)
        uow.commit()

    with uow_for("tenant-a") as uow:
        again = uow.settings.get()
    assert again is not None
    assert again.settings == EVERY_FIELD_SET
    assert again.updated_at == later
