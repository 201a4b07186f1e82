"""Prices in an ikas store that keeps net prices (getGlobalTaxSettings.isTaxExcludedOnPrices, product.md §3), against
the sandboxes as real processes: the Fortnox base price (net) and the ikas sellPrice are then the same amount both
ways, to the öre, whatever VAT rate the article, the country or a tag override names; a second run writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
from .sandbox_admin import (
    IkasHand,
    clear_calls,
    fortnox_base_prices,
    fortnox_writes,
    ikas_store,
    ikas_variant,
    tag_id,
)
from .test_catalog_relations import IKAS_STORE, OTHER, TENANT, Catalog

fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog


def _net_store(url: str, tenant: str = TENANT) -> None:
    answer = httpx.post(
        f"{url}/__admin/tax-settings", json={"store": IKAS_STORE[tenant], "isTaxExcludedOnPrices": True}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def _settings(catalog: Catalog, mode: str) -> None:
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode=mode, create_new=True, update_existing=True),
        stock=catalog_pb2.StockSettings(),
    )
    catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document, confirm_reset=True)
    )


def _sell_price(url: str, sku: str) -> Decimal:
    _, variant = ikas_variant(url, sku)
    (price,) = [p for p in variant["prices"] if p["priceListId"] is None]
    return Decimal(str(price["sellPrice"]))


def _ikas(url: str) -> tuple[Any, Any]:
    store = ikas_store(url)
    return store["products"], store["stocks"]


def test_fortnox_base_prices_become_the_net_sell_prices_of_a_net_store(catalog: Catalog) -> None:
    _net_store(catalog.ikas_url)
    _settings(catalog, "fortnox_to_ikas")
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert _sell_price(catalog.ikas_url, "DEMO-1005") == Decimal("111.20")  # net as it is, not + 25 % (139.00)
    assert _sell_price(catalog.ikas_url, "DEMO-1012") == Decimal("49.60")  # the jam's 12 % article: not 55.55
    assert _sell_price(catalog.ikas_url, "FX-2001") == Decimal("20.00")  # created: the net price, not 25.00
    assert _sell_price(catalog.ikas_url, "FX-2004") == Decimal("39.20")
    assert ikas_store(catalog.ikas_url, OTHER)["products"]  # the other tenant's (gross) store is not touched

    before = _ikas(catalog.ikas_url)
    again = catalog.run("products")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert (again.counts.created, again.counts.updated) == (0, 0)
    assert _ikas(catalog.ikas_url) == before  # equal net prices are not written again


def test_net_sell_prices_become_fortnox_base_prices_whatever_the_tag_override_says(catalog: Catalog) -> None:
    _net_store(catalog.ikas_url)
    hand = IkasHand(catalog.ikas_url)
    fortnox, food = tag_id(catalog.ikas_url, "fortnox"), tag_id(catalog.ikas_url, "food")
    hand.create_product("Oat flakes, bulk", "OATS-1", "24.00", [fortnox, food])  # food: the 12 % override
    hand.create_product("Rye flour", "RYE-1", "10.125", [fortnox, food])  # half an öre: rounds half up
    hand.create_product("Birch tray", "TRAY-1", "199.99", [fortnox])  # the country's 25 %
    _settings(catalog, "ikas_to_fortnox")

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    prices = fortnox_base_prices(catalog.fortnox_url)
    assert prices["OATS-1"] == Decimal("24.00")  # a gross store would have written 21.43
    assert prices["RYE-1"] == Decimal("10.13")
    assert prices["TRAY-1"] == Decimal("199.99")  # a gross store would have written 159.99
    assert prices["DEMO-1005"] == Decimal("149.00")  # related and updated: the mug's ikas price as it is
    assert prices["DEMO-1012"] == Decimal("59.00")  # the food-tagged jam: neither 52.68 nor 47.20

    clear_calls(catalog.fortnox_url)
    again = catalog.run("products")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert (again.counts.created, again.counts.updated) == (0, 0)
    assert fortnox_writes(catalog.fortnox_url) == []
