"""Product sync (product.md §3) against the ikas and Fortnox sandboxes as real processes: prices and VAT both
ways, updates that keep the rest of the product, duplicate SKUs, article creation in ikas_to_fortnox, the
lifecycle (orphaned, nothing deleted), per-line errors, a lost answer on a create, export of one line, and a
paused connection."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
from .sandbox_admin import (
    FortnoxHand,
    IkasHand,
    add_fault,
    calls,
    clear_calls,
    fortnox_articles,
    fortnox_base_prices,
    fortnox_company,
    fortnox_writes,
    ikas_store,
    ikas_variant,
    line_by_sku,
    tag_id,
)
from .test_catalog_relations import FORTNOX_COMPANY, OTHER, TENANT, Catalog

fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog

# Articles of Demo AB that no ikas variant has (FX-2005 is inactive).
FORTNOX_ONLY = ("FX-2001", "FX-2002", "FX-2003", "FX-2004")
# Products tagged "fortnox" whose variants have a SKU that Demo AB has no article for.
TAGGED_WITHOUT_ARTICLE = ("DEMO-1001-L", "DEMO-1003-S", "DEMO-1003-XL", "DEMO-1006", "DEMO-1009", "DEMO-1030")


def _settings(catalog: Catalog, mode: str, *, create_new: bool = False, update_existing: bool = False) -> None:
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode=mode, create_new=create_new, update_existing=update_existing),
        stock=catalog_pb2.StockSettings(),
    )
    catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document, confirm_reset=True)
    )


def _sell_price(variant: dict[str, Any]) -> Decimal:
    (price,) = [p for p in variant["prices"] if p["priceListId"] is None]
    return Decimal(price["sellPrice"])


def _skus(url: str, tenant: str = TENANT) -> list[str]:
    return [
        v["sku"]
        for p in ikas_store(url, tenant)["products"]
        if not p.get("deleted")
        for v in p["variants"]
        if v.get("sku") and not v.get("deleted")
    ]


def _without(product: dict[str, Any], variant_id: str) -> dict[str, Any]:
    """The product minus what the sync maps of one variant (price of the default list, barcodes) and the stamps;
    amounts as Decimals ("8.50" == "8.5") and null fields as absent (saveProduct's input leaves them out)."""

    def plain(record: dict[str, Any], *drop: str) -> dict[str, Any]:
        return {k: v for k, v in record.items() if v is not None and k not in ("updatedAt", *drop)}

    copy = plain(product, "variants")
    copy["variants"] = []
    for variant in product["variants"]:
        prices = [
            {**plain(p), "sellPrice": Decimal(p["sellPrice"])}
            for p in variant["prices"]
            if variant["id"] != variant_id or p["priceListId"] is not None
        ]
        copy["variants"].append(
            {**plain(variant, "barcodeList" if variant["id"] == variant_id else ""), "prices": prices}
        )
    return copy


def _watermarks(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "catalog.db") as db:
        return {
            name: at for name, at in db.execute("SELECT name, at FROM catalog_marks WHERE tenant_id = ?", (TENANT,))
        }


# -- fortnox_to_ikas ---------------------------------------------------------------------------------------


def test_fortnox_to_ikas_converts_net_prices_to_the_gross_store_with_the_articles_vat(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas", create_new=True, update_existing=True)
    catalog.run("match")
    other_before = ikas_store(catalog.ikas_url, OTHER)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    skus = _skus(catalog.ikas_url)
    for number in FORTNOX_ONLY:
        assert skus.count(number) == 1, number  # created once
    assert "FX-2005" not in skus  # inactive articles are not created
    _, wrapping = ikas_variant(catalog.ikas_url, "FX-2001")
    assert _sell_price(wrapping) == Decimal("25.00")  # 20.00 net + 25 %
    product, lid = ikas_variant(catalog.ikas_url, "FX-2004")
    assert (product["name"], _sell_price(lid)) == ("Spare lid for enamel mug", Decimal("49.00"))  # 39.20 + 25 %
    _, mug = ikas_variant(catalog.ikas_url, "DEMO-1005")
    assert _sell_price(mug) == Decimal("139.00")  # Fortnox 111.20 net, 25 %
    _, jam = ikas_variant(catalog.ikas_url, "DEMO-1012")
    assert _sell_price(jam) == Decimal("55.55")  # Fortnox 49.60 net, the article's 12 %: 55.552
    created = line_by_sku(catalog, "FX-2001")
    assert (created.status, created.fortnox_article_number) == (catalog_pb2.LINE_STATUS_SYNCED, "FX-2001")
    # A duplicate SKU in ikas is never linked, and the article is not created a third time.
    assert skus.count("DEMO-1020") == 2
    assert all(not line.fortnox_article_number for line in catalog.lines() if line.sku == "DEMO-1020")
    assert ikas_store(catalog.ikas_url, OTHER) == other_before  # another tenant's store is untouched


def test_update_existing_changes_the_mapped_fields_and_keeps_the_rest_of_the_product(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas", update_existing=True)
    catalog.run("match")
    assert catalog.run("products").state == common_pb2.RUN_STATE_SUCCEEDED
    before, variant = ikas_variant(catalog.ikas_url, "DEMO-1011")  # with a EUR price list row and two tags
    hand = FortnoxHand(catalog.fortnox_url)
    hand.update_article("DEMO-1011", EAN="7350000099999")
    hand.set_base_price("DEMO-1011", Decimal(80))

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert run.counts.updated == 1
    after, changed = ikas_variant(catalog.ikas_url, "DEMO-1011")
    assert _sell_price(changed) == Decimal("89.60")  # 80.00 net + 12 %
    assert changed["barcodeList"] == ["7350000099999"]
    assert _without(after, variant["id"]) == _without(before, variant["id"])
    assert _skus(catalog.ikas_url).count("DEMO-1011") == 1  # updated, not duplicated


# -- ikas_to_fortnox ---------------------------------------------------------------------------------------


def test_ikas_to_fortnox_creates_articles_for_tagged_variants_only(catalog: Catalog) -> None:
    hand = IkasHand(catalog.ikas_url)
    fortnox_tag = tag_id(catalog.ikas_url, "fortnox")
    long_name = "Handwoven " + "very " * 50 + "long rug"
    hand.create_product(long_name, "LONG-1", "500.00", [fortnox_tag])
    hand.create_product(
        "Oat flakes, bulk", "OATS-1", "24.00", [fortnox_tag, tag_id(catalog.ikas_url, "food")], unit=None
    )
    hand.edit_product(
        ikas_variant(catalog.ikas_url, "OATS-1")[0]["id"],
        lambda p: p.update(baseUnit={"baseAmount": 1, "type": "KILOGRAM"}),
    )
    _settings(catalog, "ikas_to_fortnox", create_new=True, update_existing=True)
    before = fortnox_articles(catalog.fortnox_url)
    other_before = fortnox_company(catalog.fortnox_url, OTHER)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    articles = fortnox_articles(catalog.fortnox_url)
    assert set(articles) - set(before) == {*TAGGED_WITHOUT_ARTICLE, "LONG-1", "OATS-1"}
    bottle = articles["DEMO-1006"]
    assert (bottle["Description"], bottle["EAN"], bottle["StockGoods"]) == (
        "Steel water bottle",
        "7350000010061",
        True,
    )
    assert articles["DEMO-1001-L"]["Description"] == "Organic cotton T-shirt L"
    assert articles["LONG-1"]["Description"] == long_name[:200]
    assert articles["OATS-1"]["Unit"] == "kg"
    prices = fortnox_base_prices(catalog.fortnox_url)
    assert prices["DEMO-1006"] == Decimal("239.20")  # 299.00 gross, 25 %
    assert prices["OATS-1"] == Decimal("21.43")  # 24.00 gross, the "food" tag's 12 %: 21.428...
    # Related articles were updated from ikas: the mug and the jam had other prices in Fortnox.
    assert prices["DEMO-1005"] == Decimal("119.20")
    assert prices["DEMO-1012"] == Decimal("52.68")  # 59.00 gross, the "food" tag's 12 %
    assert "DEMO-1020" not in set(articles) - set(before)
    assert run.result.fields["without_sku"].number_value >= 1  # the black tote bag: reported, never created
    (no_sku,) = [line for line in catalog.lines() if not line.sku and line.name == "Linen tote bag"]
    assert no_sku.status == catalog_pb2.LINE_STATUS_UNMATCHED
    assert "no SKU" in no_sku.explanation
    assert fortnox_company(catalog.fortnox_url, OTHER) == other_before  # Andra AB is untouched

    clear_calls(catalog.fortnox_url)
    again = catalog.run("products")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert (again.counts.created, again.counts.updated) == (0, 0)
    assert fortnox_writes(catalog.fortnox_url) == []


def test_a_full_run_reads_the_article_list_once_instead_of_looking_up_each_article(catalog: Catalog) -> None:
    _settings(catalog, "ikas_to_fortnox", create_new=True, update_existing=True)
    clear_calls(catalog.fortnox_url)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    company = [c for c in calls(catalog.fortnox_url) if c["key"] == str(FORTNOX_COMPANY[TENANT])]
    lookups = [c for c in company if c["method"] == "GET" and c["path"].startswith("/3/articles/")]
    assert lookups == []  # neither before a create nor for a first sync after matching
    assert len([c for c in company if c["method"] == "GET" and c["path"] == "/3/articles"]) == 2  # all, inactive
    creates = [c for c in company if c["method"] == "POST" and c["path"] == "/3/articles"]
    assert len(creates) == run.counts.created == len(TAGGED_WITHOUT_ARTICLE)
    for number in TAGGED_WITHOUT_ARTICLE:  # a created article costs its create and its base price row, no more
        assert [(c["method"], c["path"]) for c in company if number in c["path"].split("/")] == [
            ("PUT", f"/3/prices/A/{number}/0")
        ]
    assert len([c for c in company if c["path"].startswith("/3/units/")]) <= 1  # asked once a run, if at all


def test_duplicate_skus_are_never_linked_in_ikas_to_fortnox(catalog: Catalog) -> None:
    hand = FortnoxHand(catalog.fortnox_url)
    hand.delete_article("DEMO-1020")
    _settings(catalog, "ikas_to_fortnox", create_new=True, update_existing=True)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert "DEMO-1020" not in fortnox_articles(catalog.fortnox_url)
    duplicates = [line for line in catalog.lines() if line.sku == "DEMO-1020"]
    assert len(duplicates) == 2
    assert all(not line.fortnox_article_number for line in duplicates)
    assert all("2 ikas variants" in line.explanation for line in duplicates)


# -- lifecycle --------------------------------------------------------------------------------------------


def test_inactive_and_deleted_articles_orphan_their_lines_and_nothing_is_deleted_in_ikas(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas", update_existing=True)
    catalog.run("match")
    hand = FortnoxHand(catalog.fortnox_url)
    hand.delete_article("DEMO-1007")  # invisible to lastmodified: found by the id reconciliation
    products_before = ikas_store(catalog.ikas_url)["products"]

    first = catalog.run("products")

    assert first.state == common_pb2.RUN_STATE_SUCCEEDED, first.errors
    candle = line_by_sku(catalog, "DEMO-1007")
    assert candle.status == catalog_pb2.LINE_STATUS_ORPHANED
    assert "DEMO-1007 was deleted" in candle.explanation
    assert "nothing was deleted in ikas" in candle.explanation

    hand.update_article("DEMO-1005", Active=False)
    second = catalog.run("products")

    assert second.state == common_pb2.RUN_STATE_SUCCEEDED, second.errors
    mug = line_by_sku(catalog, "DEMO-1005")
    assert mug.status == catalog_pb2.LINE_STATUS_ORPHANED
    assert "made inactive" in mug.explanation
    live = {p["id"] for p in ikas_store(catalog.ikas_url)["products"] if not p.get("deleted")}
    assert {p["id"] for p in products_before} <= live  # nothing deleted in ikas
    assert ikas_variant(catalog.ikas_url, "DEMO-1005")
    assert ikas_variant(catalog.ikas_url, "DEMO-1007")


def test_deleted_variant_removed_tag_and_changed_sku_orphan_their_lines_and_nothing_is_deleted_in_fortnox(
    catalog: Catalog,
) -> None:
    _settings(catalog, "ikas_to_fortnox", update_existing=True)
    catalog.run("match")
    assert catalog.run("products").state == common_pb2.RUN_STATE_SUCCEEDED
    hand = IkasHand(catalog.ikas_url)
    fortnox_tag = tag_id(catalog.ikas_url, "fortnox")
    mug_product, _ = ikas_variant(catalog.ikas_url, "DEMO-1005")
    hand.edit_product(mug_product["id"], lambda p: p.update(tagIds=[t for t in p["tagIds"] if t != fortnox_tag]))
    candle_product, _ = ikas_variant(catalog.ikas_url, "DEMO-1007")
    hand.edit_product(candle_product["id"], lambda p: p["variants"][0].update(sku="DEMO-1007X"))
    shirt, medium = ikas_variant(catalog.ikas_url, "DEMO-1001-M")
    hand.edit_product(shirt["id"], lambda p: p.update(variants=[v for v in p["variants"] if v["id"] != medium["id"]]))
    articles_before = fortnox_articles(catalog.fortnox_url)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    by_variant = {line.ikas_variant_id: line for line in catalog.lines()}
    mug = line_by_sku(catalog, "DEMO-1005")
    assert (mug.status, "fortnox tag was removed" in mug.explanation) == (catalog_pb2.LINE_STATUS_ORPHANED, True)
    candle = line_by_sku(catalog, "DEMO-1007X")
    assert candle.status == catalog_pb2.LINE_STATUS_ORPHANED
    assert "SKU changed from DEMO-1007 to DEMO-1007X" in candle.explanation
    gone = by_variant[medium["id"]]
    assert (gone.status, "deleted" in gone.explanation) == (catalog_pb2.LINE_STATUS_ORPHANED, True)
    articles = fortnox_articles(catalog.fortnox_url)
    assert set(articles_before) <= set(articles)  # nothing deleted in Fortnox
    assert all(articles[n]["Active"] for n in ("DEMO-1005", "DEMO-1007", "DEMO-1001-M"))


# -- errors, lost answers, one line now, a paused connection ----------------------------------------------


def test_one_rejected_article_fails_only_its_line_and_the_next_run_retries_it(catalog: Catalog, tmp_path: Path) -> None:
    _settings(catalog, "ikas_to_fortnox", create_new=True)
    rejected = {"ErrorInformation": {"error": 1, "message": "Ogiltigt värde (Beskrivning)", "code": 2000360}}
    add_fault(
        catalog.fortnox_url, kind="status", status=400, method="PUT", path="^/3/prices/A/DEMO-1009", body=rejected
    )

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_PARTIALLY_FAILED
    assert run.counts.failed == 1
    (error,) = run.errors
    assert error.upstream_code == "2000360"
    assert error.message
    articles = fortnox_articles(catalog.fortnox_url)
    assert set(TAGGED_WITHOUT_ARTICLE) <= set(articles)  # the others synced
    knife = line_by_sku(catalog, "DEMO-1009")
    assert knife.status == catalog_pb2.LINE_STATUS_ERROR
    assert (knife.error.upstream_code, bool(knife.error.message)) == ("2000360", True)
    assert not {"fortnox_articles", "ikas_products"} & set(_watermarks(tmp_path))  # a failed line holds it

    again = catalog.run("products")

    assert again.state == common_pb2.RUN_STATE_SUCCEEDED, again.errors
    assert fortnox_base_prices(catalog.fortnox_url)["DEMO-1009"] == Decimal("719.20")
    assert line_by_sku(catalog, "DEMO-1009").status == catalog_pb2.LINE_STATUS_SYNCED


def test_a_lost_answer_on_a_create_never_makes_a_duplicate(catalog: Catalog) -> None:
    _settings(catalog, "ikas_to_fortnox", create_new=True)
    add_fault(catalog.fortnox_url, kind="drop_after", method="POST", path="^/3/articles$")

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    creates = [c for c in fortnox_writes(catalog.fortnox_url) if c["method"] == "POST" and c["path"] == "/3/articles"]
    assert len(creates) == len(TAGGED_WITHOUT_ARTICLE)  # one attempt per article, the lost one not repeated
    assert set(TAGGED_WITHOUT_ARTICLE) <= set(fortnox_articles(catalog.fortnox_url))
    assert all(line_by_sku(catalog, n).status == catalog_pb2.LINE_STATUS_SYNCED for n in TAGGED_WITHOUT_ARTICLE)


def test_export_one_line_writes_its_target_now_whatever_the_settings(catalog: Catalog) -> None:
    _settings(catalog, "fortnox_to_ikas")  # create_new and update_existing off
    catalog.run("match")
    products = catalog.stub("ProductService")
    mug = line_by_sku(catalog, "DEMO-1005")

    exported = products.ExportProductLine(catalog_pb2.ExportProductLineRequest(tenant_id=TENANT, line_id=mug.id)).line

    assert exported.status == catalog_pb2.LINE_STATUS_SYNCED
    assert _sell_price(ikas_variant(catalog.ikas_url, "DEMO-1005")[1]) == Decimal("139.00")
    assert _sell_price(ikas_variant(catalog.ikas_url, "DEMO-1007")[1]) == Decimal("179.00")  # not exported

    _settings(catalog, "ikas_to_fortnox")
    pen = line_by_sku(catalog, "DEMO-1022")  # a product without any tag, and no article yet
    products.ExportProductLine(catalog_pb2.ExportProductLineRequest(tenant_id=TENANT, line_id=pen.id))

    article = fortnox_articles(catalog.fortnox_url)["DEMO-1022"]
    assert article["Description"] == "Fountain pen"
    assert fortnox_base_prices(catalog.fortnox_url)["DEMO-1022"] == Decimal("439.20")
    with pytest.raises(grpc.RpcError) as other_tenant:
        products.ExportProductLine(catalog_pb2.ExportProductLineRequest(tenant_id=OTHER, line_id=pen.id))
    assert other_tenant.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_paused_connection_ends_the_run_clearly_and_keeps_the_watermark(catalog: Catalog, tmp_path: Path) -> None:
    _settings(catalog, "ikas_to_fortnox", create_new=True)
    assert catalog.run("products").state == common_pb2.RUN_STATE_SUCCEEDED
    marks = _watermarks(tmp_path)
    assert "ikas_products" in marks
    catalog.fortnox_tokens.paused = True
    IkasHand(catalog.ikas_url).create_product(
        "Paused lamp", "PAUSED-1", "100.00", [tag_id(catalog.ikas_url, "fortnox")]
    )

    paused = catalog.run("products")

    assert paused.state == common_pb2.RUN_STATE_FAILED
    assert [e.message for e in paused.errors] == ["Fortnox needs to be reconnected; nothing was lost"]
    assert _watermarks(tmp_path) == marks  # neither the watermark nor the last sync time moved

    catalog.fortnox_tokens.paused = False
    resumed = catalog.run("products")

    assert resumed.state == common_pb2.RUN_STATE_SUCCEEDED, resumed.errors
    assert "PAUSED-1" in fortnox_articles(catalog.fortnox_url)


def test_the_first_sync_after_matching_writes_only_what_fortnox_does_not_already_hold(catalog: Catalog) -> None:
    _settings(catalog, "ikas_to_fortnox", update_existing=True)
    first = catalog.run("products")  # brings the related articles in line with ikas (the mug and the jam differ)
    assert first.state == common_pb2.RUN_STATE_SUCCEEDED, first.errors
    assert catalog.run("reset").state == common_pb2.RUN_STATE_SUCCEEDED
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED  # related again, nothing synced yet
    clear_calls(catalog.fortnox_url)

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert run.counts.updated == 0
    assert fortnox_writes(catalog.fortnox_url) == []  # equal values are not written again
