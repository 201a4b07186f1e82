"""Stock sync (product.md §4) against the ikas and Fortnox sandboxes as real processes: both directions with the
demo store's two ikas locations, related lines only, only changed values, one line now, and the Fortnox
warehouse module (balances read, one stock-taking document per run)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
from .sandbox_admin import (
    FortnoxHand,
    activate_warehouse,
    calls,
    clear_calls,
    fortnox_articles,
    fortnox_writes,
    ikas_locations,
    ikas_stock,
    ikas_variant,
    line_by_sku,
    set_ikas_stock,
)
from .test_catalog_relations import TENANT, Catalog

fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog

MAIN, SHOP = "Main warehouse", "Gothenburg shop"


def _settings(catalog: Catalog, mode: str, location: str | None = None, stock_point: str | None = None) -> None:
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode=mode),
        stock=catalog_pb2.StockSettings(ikas_stock_location_id=location, fortnox_stock_point=stock_point),
    )
    catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document, confirm_reset=True)
    )


def _related(catalog: Catalog) -> list[catalog_pb2.ProductLine]:
    return [line for line in catalog.lines() if line.fortnox_article_number]


def _quantity(article: dict[str, Any]) -> Decimal:
    return Decimal(str(article["QuantityInStock"]))


def _stock_takings(url: str) -> list[dict[str, Any]]:
    return [c for c in calls(url) if c["method"] == "POST" and c["path"] == "/api/warehouse/stocktaking-v1"]


# -- fortnox_to_ikas --------------------------------------------------------------------------------------


def test_fortnox_to_ikas_writes_the_chosen_location_only_and_a_second_run_writes_nothing(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    _settings(catalog, "fortnox_to_ikas", locations[SHOP])
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED
    FortnoxHand(catalog.fortnox_url).update_article("DEMO-1005", QuantityInStock=77)
    before = ikas_stock(catalog.ikas_url)

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    after = ikas_stock(catalog.ikas_url)
    articles = fortnox_articles(catalog.fortnox_url)
    related = _related(catalog)
    assert related
    for line in related:
        assert after[(line.ikas_variant_id, locations[SHOP])] == _quantity(articles[line.fortnox_article_number])
        assert after.get((line.ikas_variant_id, locations[MAIN])) == before.get((line.ikas_variant_id, locations[MAIN]))
    related_variants = {line.ikas_variant_id for line in related}
    assert {k: v for k, v in after.items() if k[0] not in related_variants} == {
        k: v for k, v in before.items() if k[0] not in related_variants
    }  # unrelated lines (the duplicate DEMO-1020, no SKU, no article) are untouched
    mug = line_by_sku(catalog, "DEMO-1005")
    assert after[(mug.ikas_variant_id, locations[SHOP])] == 77
    assert mug.fortnox_stock == "77"
    assert mug.ikas_stock == str(77 + before[(mug.ikas_variant_id, locations[MAIN])])

    clear_calls(catalog.ikas_url, catalog.fortnox_url)
    again = catalog.run("stock")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert again.counts.updated == 0
    assert ikas_stock(catalog.ikas_url) == after
    assert fortnox_writes(catalog.fortnox_url) == []

    FortnoxHand(catalog.fortnox_url).update_article("DEMO-1005", QuantityInStock=12)
    third = catalog.run("stock")

    assert third.counts.updated == 1, third
    changed = {k: v for k, v in ikas_stock(catalog.ikas_url).items() if after.get(k) != v}
    assert changed == {(mug.ikas_variant_id, locations[SHOP]): Decimal(12)}


def test_fortnox_to_ikas_without_a_location_is_a_clear_error_on_each_line(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas", None)
    catalog.run("match")
    before = ikas_stock(catalog.ikas_url)

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_PARTIALLY_FAILED
    related = _related(catalog)
    assert run.counts.failed == len(related)
    assert all("ikas stock location" in error.message for error in run.errors)
    assert all(line.status == catalog_pb2.LINE_STATUS_ERROR for line in related)
    assert all("ikas stock location" in line.error.message for line in related)
    assert ikas_stock(catalog.ikas_url) == before


# -- ikas_to_fortnox --------------------------------------------------------------------------------------


def test_ikas_to_fortnox_writes_the_sum_over_all_locations_for_related_lines_only(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    _settings(catalog, "ikas_to_fortnox")
    catalog.run("match")
    set_ikas_stock(catalog.ikas_url, "DEMO-1005", locations[MAIN], Decimal(30))
    set_ikas_stock(catalog.ikas_url, "DEMO-1005", locations[SHOP], Decimal(9))
    set_ikas_stock(catalog.ikas_url, "DEMO-1020", locations[MAIN], Decimal(3))  # a duplicate SKU: not related
    duplicate_before = _quantity(fortnox_articles(catalog.fortnox_url)["DEMO-1020"])
    clear_calls(catalog.fortnox_url)

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    articles = fortnox_articles(catalog.fortnox_url)
    stock = ikas_stock(catalog.ikas_url)
    for line in _related(catalog):
        total = sum((count for (variant, _), count in stock.items() if variant == line.ikas_variant_id), Decimal(0))
        assert _quantity(articles[line.fortnox_article_number]) == total, line.sku
    assert _quantity(articles["DEMO-1005"]) == 39
    assert _quantity(articles["DEMO-1020"]) == duplicate_before
    # Only changed values: the seed's Fortnox quantities already equal the ikas sums, except the mug's.
    writes = fortnox_writes(catalog.fortnox_url)
    assert [(w["method"], w["path"]) for w in writes] == [("PUT", "/3/articles/DEMO-1005")]

    clear_calls(catalog.fortnox_url)
    again = catalog.run("stock")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert (again.counts.updated, again.counts.failed) == (0, 0)
    assert fortnox_writes(catalog.fortnox_url) == []


def test_sync_line_stock_writes_that_line_only(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    _settings(catalog, "ikas_to_fortnox")
    catalog.run("match")
    set_ikas_stock(catalog.ikas_url, "DEMO-1005", locations[SHOP], Decimal(2))
    set_ikas_stock(catalog.ikas_url, "DEMO-1007", locations[SHOP], Decimal(2))
    mug = line_by_sku(catalog, "DEMO-1005")
    clear_calls(catalog.fortnox_url)

    answer = (
        catalog.stub("ProductService")
        .SyncLineStock(catalog_pb2.SyncLineStockRequest(tenant_id=TENANT, line_id=mug.id))
        .line
    )

    assert answer.fortnox_stock == "42"
    assert answer.status == catalog_pb2.LINE_STATUS_SYNCED
    articles = fortnox_articles(catalog.fortnox_url)
    assert _quantity(articles["DEMO-1005"]) == 42
    assert _quantity(articles["DEMO-1007"]) == 30  # the other changed line waits for its run
    assert [w["path"] for w in fortnox_writes(catalog.fortnox_url)] == ["/3/articles/DEMO-1005"]

    unrelated = next(line for line in catalog.lines() if not line.fortnox_article_number)
    with pytest.raises(grpc.RpcError) as refused:
        catalog.stub("ProductService").SyncLineStock(
            catalog_pb2.SyncLineStockRequest(tenant_id=TENANT, line_id=unrelated.id)
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_sync_line_stock_in_fortnox_to_ikas_needs_the_location(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas", None)
    catalog.run("match")
    mug = line_by_sku(catalog, "DEMO-1005")

    with pytest.raises(grpc.RpcError) as refused:
        catalog.stub("ProductService").SyncLineStock(catalog_pb2.SyncLineStockRequest(tenant_id=TENANT, line_id=mug.id))

    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "ikas stock location" in (refused.value.details() or "")


# -- the Fortnox warehouse module -------------------------------------------------------------------------


def test_warehouse_ikas_to_fortnox_writes_through_one_stock_taking_per_run(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    activate_warehouse(catalog.fortnox_url)
    _settings(catalog, "ikas_to_fortnox")
    catalog.run("match")
    set_ikas_stock(catalog.ikas_url, "DEMO-1005", locations[MAIN], Decimal(50))
    set_ikas_stock(catalog.ikas_url, "DEMO-1007", locations[SHOP], Decimal(1))
    clear_calls(catalog.fortnox_url)

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert run.counts.updated == 2
    assert len(_stock_takings(catalog.fortnox_url)) == 1
    assert not [w for w in fortnox_writes(catalog.fortnox_url) if w["path"].startswith("/3/articles")]
    hand = FortnoxHand(catalog.fortnox_url)
    balances = {row["itemId"]: Decimal(str(row["inStock"])) for row in hand.balances(["DEMO-1005", "DEMO-1007"])}
    assert balances == {"DEMO-1005": Decimal(58), "DEMO-1007": Decimal(31)}

    clear_calls(catalog.fortnox_url)
    again = catalog.run("stock")

    assert again.counts.updated == 0
    assert _stock_takings(catalog.fortnox_url) == []
    assert fortnox_writes(catalog.fortnox_url) == []


def test_warehouse_ikas_to_fortnox_with_two_stock_points_makes_the_sum_equal_ikas(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    activate_warehouse(catalog.fortnox_url)
    hand = FortnoxHand(catalog.fortnox_url)
    second = hand.stock_point("B2", "Butik")
    hand.count_stock(second, {"DEMO-1005": Decimal(10)})  # the mug now has 48 + 10 in Fortnox
    _settings(catalog, "ikas_to_fortnox")
    catalog.run("match")

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    stock = ikas_stock(catalog.ikas_url)
    mug = line_by_sku(catalog, "DEMO-1005")
    ikas_sum = stock[(mug.ikas_variant_id, locations[MAIN])] + stock[(mug.ikas_variant_id, locations[SHOP])]
    rows = hand.balances(["DEMO-1005"])
    assert sum(Decimal(str(row["inStock"])) for row in rows) == ikas_sum
    assert {row["stockPointCode"]: Decimal(str(row["inStock"])) for row in rows}["B2"] == 10  # untouched
    assert len(_stock_takings(catalog.fortnox_url)) == 2  # the one by hand, and the run's


def test_warehouse_fortnox_to_ikas_reads_the_chosen_stock_point_or_the_sum(catalog: Catalog) -> None:
    locations = ikas_locations(catalog.ikas_url)
    activate_warehouse(catalog.fortnox_url)
    hand = FortnoxHand(catalog.fortnox_url)
    second = hand.stock_point("B2", "Butik")
    hand.count_stock(second, {"DEMO-1005": Decimal(10), "DEMO-1007": Decimal(4)})
    _settings(catalog, "fortnox_to_ikas", locations[SHOP], stock_point="B2")
    catalog.run("match")
    clear_calls(catalog.fortnox_url)

    run = catalog.run("stock")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    stock = ikas_stock(catalog.ikas_url)
    _, mug = ikas_variant(catalog.ikas_url, "DEMO-1005")
    _, bottle = ikas_variant(catalog.ikas_url, "DEMO-1007")
    assert stock[(mug["id"], locations[SHOP])] == 10
    assert stock[(bottle["id"], locations[SHOP])] == 4
    assert fortnox_writes(catalog.fortnox_url) == []  # reading Fortnox never writes it

    _settings(catalog, "fortnox_to_ikas", locations[SHOP], stock_point=None)
    summed = catalog.run("stock")

    assert summed.state == common_pb2.RUN_STATE_SUCCEEDED, summed.errors
    stock = ikas_stock(catalog.ikas_url)
    assert stock[(mug["id"], locations[SHOP])] == 48 + 10
    assert stock[(bottle["id"], locations[SHOP])] == 30 + 4
