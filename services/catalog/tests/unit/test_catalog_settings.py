"""The product and stock settings rules of product.md §2 and the use cases that apply them."""

from __future__ import annotations

import pytest

from bridge_catalog.app.manage_settings import UpdateCatalogSettingsRequest
from bridge_catalog.bootstrap import Services
from bridge_catalog.domain.settings import CatalogSettings, ProductSettings, StockSettings
from bridge_platform.errors import InvalidInput


def test_defaults_are_those_of_the_product_definition(services: Services) -> None:
    settings = services.get_settings("tenant-a")

    assert settings.products == ProductSettings("fortnox_to_ikas", False, False, False)
    assert settings.stock == StockSettings(False, None, None)


@pytest.mark.parametrize("mode", ["fortnox_to_ikas", "ikas_to_fortnox"])
def test_both_sync_modes_are_accepted(mode: str) -> None:
    assert CatalogSettings(ProductSettings(sync_mode=mode)).violations() == []


@pytest.mark.parametrize("mode", ["both", "", "FORTNOX_TO_IKAS"])
def test_an_unknown_sync_mode_is_an_invalid_choice(mode: str) -> None:
    [violation] = CatalogSettings(ProductSettings(sync_mode=mode)).violations()

    assert (violation.field, violation.code) == ("products.sync_mode", "invalid_choice")


@pytest.mark.parametrize("field", ["ikas_stock_location_id", "fortnox_stock_point"])
@pytest.mark.parametrize("value", ["", "   ", " padded", "x" * 201])
def test_stock_ids_must_be_null_or_clean_ids(field: str, value: str) -> None:
    [violation] = CatalogSettings(stock=StockSettings(**{field: value})).violations()  # type: ignore[arg-type]

    assert (violation.field, violation.code) == (f"stock.{field}", "invalid_value")


def test_every_bad_field_is_reported_at_once() -> None:
    settings = CatalogSettings(ProductSettings(sync_mode="x"), StockSettings(ikas_stock_location_id=""))

    assert [v.field for v in settings.violations()] == ["products.sync_mode", "stock.ikas_stock_location_id"]


def test_update_stores_the_whole_document(services: Services) -> None:
    wanted = CatalogSettings(ProductSettings("ikas_to_fortnox", True, True, False), StockSettings(True, "loc-1", "SP1"))

    services.update_settings(UpdateCatalogSettingsRequest("tenant-a", wanted))

    assert services.get_settings("tenant-a") == wanted
    assert services.get_settings("tenant-b") == CatalogSettings()


def test_invalid_settings_are_refused_before_anything_is_written(services: Services, database: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.update_settings(UpdateCatalogSettingsRequest("tenant-a", CatalogSettings(ProductSettings("x"))))

    assert [v.code for v in refused.value.violations] == ["invalid_choice"]
    assert database.commits == 0  # type: ignore[attr-defined]


def test_validate_writes_nothing(services: Services, database: object) -> None:
    with pytest.raises(InvalidInput):
        services.validate_settings("tenant-a", CatalogSettings(stock=StockSettings(fortnox_stock_point=" ")))
    services.validate_settings("tenant-a", CatalogSettings())

    assert database.commits == 0  # type: ignore[attr-defined]


def test_a_tenant_is_required(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.get_settings(" ")
