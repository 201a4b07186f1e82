"""The catalog settings repository and unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.tables import map_tables
from bridge_catalog.bootstrap import MIGRATIONS
from bridge_catalog.domain.settings import CatalogSettings, ProductSettings, StockSettings, TenantCatalogSettings
from bridge_platform.db import make_engine, session_factory, upgrade_to_head

AT = datetime(2026, 11, 24, 13, 30, 15, 123456, tzinfo=UTC)


def units_of_work(database_url: str) -> partial[SqlCatalogUnitOfWork]:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    return partial(SqlCatalogUnitOfWork, session_factory(make_engine(database_url)))


def test_settings_round_trip(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    products = ProductSettings("ikas_to_fortnox", True, False, True)
    stock = StockSettings(True, "location-1", None)

    with uow_for("tenant-a") as uow:
        uow.settings.add(TenantCatalogSettings("tenant-a", products, stock, AT))
        uow.commit()

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
    assert stored is not None
    assert stored.settings == CatalogSettings(products, stock)
    assert stored.updated_at == AT  # timezone-aware UTC on both engines


def test_nothing_is_written_without_commit(database_url: str) -> None:
    uow_for = units_of_work(database_url)

    with uow_for("tenant-a") as uow:
        uow.settings.add(TenantCatalogSettings("tenant-a", ProductSettings(), StockSettings(), AT))

    with uow_for("tenant-a") as uow:
        assert uow.settings.get() is None


def test_a_tenant_never_sees_another_tenants_settings(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    with uow_for("tenant-a") as uow:
        uow.settings.add(
            TenantCatalogSettings("tenant-a", ProductSettings(sync_mode="ikas_to_fortnox"), StockSettings(), AT)
        )
        uow.commit()

    with uow_for("tenant-b") as uow:
        assert uow.settings.get() is None


def test_update_replaces_the_stored_document(database_url: str) -> None:
    uow_for = units_of_work(database_url)
    with uow_for("tenant-a") as uow:
        uow.settings.add(TenantCatalogSettings("tenant-a", ProductSettings(), StockSettings(), AT))
        uow.commit()

    with uow_for("tenant-a") as uow:
        stored = uow.settings.get()
        assert stored is not None
        stored.replace(CatalogSettings(stock=StockSettings(True, "loc", "SP")), AT)
        uow.commit()

    with uow_for("tenant-a") as uow:
        again = uow.settings.get()
    assert again is not None
    assert again.stock == StockSettings(True, "loc", "SP")
