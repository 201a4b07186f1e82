"""IkasClient writes against the ikas sandbox: saveProduct read-merge-write, prices, stock, invoices, webhooks."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from bridge_platform.errors import NotFound, UpstreamRejected
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

TENANT = "demo"
Sandbox = Any  # conftest.py fixture (not importable under --import-mode=importlib)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _stored_product(sandbox: Sandbox, product_id: str) -> dict[str, Any]:
    return next(p for p in sandbox.store_state()["products"] if p["id"] == product_id)


def _normal(value: Any) -> Any:
    """Stored values compared by meaning: a null field counts as absent (GraphQL input null == left out),
    and a decimal keeps its value but not its trailing zeros (8.50 was sent back as the number 8.5)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


def _without(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    normal: dict[str, Any] = _normal({k: v for k, v in record.items() if k not in keys})
    return normal


def test_update_product_fields_keeps_every_untouched_field(ikas: IkasClient, sandbox: Sandbox) -> None:
    product = max(
        (p for p in ikas.iter_products(TENANT) if any(pr.price_list_id for v in p.variants for pr in v.prices)),
        key=lambda p: len(p.variants),
    )
    target = product.variants[-1]
    before = _stored_product(sandbox, product.id)
    assert any(p["priceListId"] for v in before["variants"] for p in v["prices"]), "needs a price-list row to keep"
    assert before["salesChannelIds"]
    assert before["tagIds"]

    saved = ikas.update_product_fields(
        TENANT,
        product.id,
        m.ProductChanges(
            name="Renamed by Bridge",
            variants={target.id: m.VariantChanges(sell_price=Decimal("123.45"), barcodes=("7310000000001",))},
        ),
    )
    assert saved is not None
    assert saved.name == "Renamed by Bridge"
    after = _stored_product(sandbox, product.id)
    assert _without(after, "name", "updatedAt", "variants") == _without(before, "name", "updatedAt", "variants")
    for old, new in zip(before["variants"], after["variants"], strict=True):
        if old["id"] != target.id:
            assert _without(new, "updatedAt") == _without(old, "updatedAt")
            continue
        assert new["barcodeList"] == ["7310000000001"]
        assert _without(new, "updatedAt", "barcodeList", "prices") == _without(
            old, "updatedAt", "barcodeList", "prices"
        )
        assert _normal([p for p in new["prices"] if p["priceListId"]]) == _normal(
            [p for p in old["prices"] if p["priceListId"]]
        )
        (default,) = [p for p in new["prices"] if p["priceListId"] is None]
        (old_default,) = [p for p in old["prices"] if p["priceListId"] is None]
        assert Decimal(default["sellPrice"]) == Decimal("123.45")
        assert _without(default, "sellPrice") == _without(old_default, "sellPrice")
    stock_before = [s for s in sandbox.store_state()["stocks"] if s["productId"] == product.id]
    assert all(not s["deleted"] for s in stock_before), "a full replace must not drop a variant (and its stock)"


def test_update_without_a_real_change_writes_nothing(ikas: IkasClient, sandbox: Sandbox) -> None:
    product = next(iter(ikas.iter_products(TENANT)))
    variant = product.variants[0]
    price = variant.price_on(None)
    assert price is not None
    before = _stored_product(sandbox, product.id)
    unchanged = m.ProductChanges(
        name=product.name, variants={variant.id: m.VariantChanges(sku=variant.sku, sell_price=price.sell_price)}
    )
    assert ikas.update_product_fields(TENANT, product.id, unchanged) is None
    assert _stored_product(sandbox, product.id)["updatedAt"] == before["updatedAt"]


def test_every_seeded_product_survives_a_read_merge_write(ikas: IkasClient, sandbox: Sandbox) -> None:
    """The read for save must be a valid ProductInput for every shape the seed has (variants, base units,
    price lists, no SKU): a rename leaves every other stored field as it was."""
    before = {p["id"]: p for p in sandbox.store_state()["products"] if not p["deleted"]}
    for product_id, product in before.items():
        ikas.update_product_fields(TENANT, product_id, m.ProductChanges(name=product["name"] + "*"))
    after = {p["id"]: p for p in sandbox.store_state()["products"]}
    for product_id, product in before.items():
        assert after[product_id]["name"] == product["name"] + "*"
        assert _without(after[product_id], "name", "updatedAt", "variants") == _without(
            product, "name", "updatedAt", "variants"
        )
        assert [_without(v, "updatedAt") for v in after[product_id]["variants"]] == [
            _without(v, "updatedAt") for v in product["variants"]
        ]


def test_update_of_an_unknown_product_or_variant_is_not_found(ikas: IkasClient) -> None:
    with pytest.raises(NotFound):
        ikas.update_product_fields(TENANT, "no-such-product", m.ProductChanges(name="x"))
    product = next(iter(ikas.iter_products(TENANT)))
    with pytest.raises(NotFound):
        ikas.update_product_fields(TENANT, product.id, m.ProductChanges(variants={"nope": m.VariantChanges(sku="X")}))


def test_tags_are_added_and_removed_without_touching_others(ikas: IkasClient) -> None:
    fortnox = next(t for t in ikas.list_product_tags(TENANT) if t.name == "fortnox")
    product = next(p for p in ikas.iter_products(TENANT) if fortnox.id not in p.tag_ids and p.tag_ids)
    tagged = ikas.update_product_fields(TENANT, product.id, m.ProductChanges(add_tag_ids=(fortnox.id,)))
    assert tagged is not None
    assert tagged.tag_ids == (*product.tag_ids, fortnox.id)
    untagged = ikas.update_product_fields(TENANT, product.id, m.ProductChanges(remove_tag_ids=(fortnox.id,)))
    assert untagged is not None
    assert untagged.tag_ids == product.tag_ids


def test_create_product_then_find_it_by_sku(ikas: IkasClient) -> None:
    created = ikas.create_product(
        TENANT,
        m.NewProduct(
            name="Fortnox article", variants=(m.NewVariant("FX-1", Decimal("99.90"), barcodes=("7310000000099",)),)
        ),
    )
    assert created.id
    assert created.variants[0].id
    assert created.variants[0].sku == "FX-1"
    (found,) = ikas.iter_products(TENANT, skus=["FX-1"])
    assert found.id == created.id
    price = found.variants[0].price_on(None)
    assert price is not None
    assert price.sell_price == Decimal("99.90")
    assert found.variants[0].barcodes == ("7310000000099",)


def test_variant_prices_are_set_on_the_default_and_a_named_list(ikas: IkasClient, sandbox: Sandbox) -> None:
    product = next(p for p in ikas.iter_products(TENANT) if any(len(v.prices) > 1 for v in p.variants))
    variant = next(v for v in product.variants if len(v.prices) > 1)
    default = variant.price_on(None)
    assert default is not None
    other_list = next(p.price_list_id for p in variant.prices if p.price_list_id)
    ikas.set_variant_prices(
        TENANT,
        [m.PriceUpdate(product.id, variant.id, Decimal("0.10"), buy_price=default.buy_price)],
    )
    ikas.set_variant_prices(TENANT, [m.PriceUpdate(product.id, variant.id, Decimal("19.99"))], price_list_id=other_list)
    reread = ikas.get_product(TENANT, product.id)
    assert reread is not None
    changed = next(v for v in reread.variants if v.id == variant.id)
    new_default, new_other = changed.price_on(None), changed.price_on(other_list)
    assert new_default is not None
    assert new_default.sell_price == Decimal("0.10")
    assert new_default.buy_price == default.buy_price
    assert new_other is not None
    assert new_other.sell_price == Decimal("19.99")


def test_stock_is_set_absolutely_per_location(ikas: IkasClient) -> None:
    product = next(p for p in ikas.iter_products(TENANT) if p.variants[0].stocks)
    variant = product.variants[0]
    locations = [loc.id for loc in ikas.list_stock_locations(TENANT)]
    ikas.set_stock(TENANT, [m.StockUpdate(product.id, variant.id, locations[0], Decimal(7))])
    ikas.set_stock(TENANT, [m.StockUpdate(product.id, variant.id, locations[0], Decimal(7))])  # absolute: same
    reread = ikas.get_product(TENANT, product.id)
    assert reread is not None
    stocks = {s.stock_location_id: s.count for s in reread.variants[0].stocks}
    assert stocks[locations[0]] == Decimal(7)
    others = {s.stock_location_id: s.count for s in variant.stocks if s.stock_location_id != locations[0]}
    assert {k: v for k, v in stocks.items() if k != locations[0]} == others
    ikas.set_stock(TENANT, [])  # nothing to send: no call


def test_add_order_invoice_then_the_order_shows_it(ikas: IkasClient, sandbox: Sandbox) -> None:
    order = next(iter(ikas.iter_orders(TENANT)))
    assert order.invoices == ()
    app = ikas.get_authorized_app(TENANT)
    invoices = ikas.add_order_invoice(
        TENANT, m.InvoiceAttachment(order_id=order.id, invoice_number="F-1001", app_id=app.store_app_id, pdf=PDF)
    )
    assert [(i.number, i.has_pdf, i.store_app_id) for i in invoices] == [("F-1001", True, app.store_app_id)]
    reread = ikas.get_order(TENANT, order.id)
    assert reread is not None
    assert reread.invoices == invoices
    stored = next(o for o in sandbox.store_state()["orders"] if o["id"] == order.id)
    assert stored["invoices"][0]["sendNotificationToCustomer"] is False
    pdf = sandbox.admin.get(f"/stores/demo/admin/invoices/{invoices[0].id}.pdf")
    assert pdf.content == PDF
    assert base64.b64encode(pdf.content)
    with pytest.raises(UpstreamRejected) as missing:
        ikas.add_order_invoice(
            TENANT, m.InvoiceAttachment(order_id="no-such-order", invoice_number="F-2", app_id=app.id, pdf=PDF)
        )
    assert missing.value.extra["operation"] == "addOrderInvoice"


def test_webhooks_are_registered_listed_and_deleted(ikas: IkasClient, sandbox: Sandbox) -> None:
    scopes = ["store/order/created", "store/order/updated", "store/product/updated", "store/stock/updated"]
    endpoint = "http://127.0.0.1:9/webhooks/ikas"  # the sandbox's local mode allows http on localhost
    saved = ikas.save_webhooks(TENANT, endpoint, scopes)
    assert sorted(w.scope for w in saved) == sorted(scopes)
    assert {w.endpoint for w in saved} == {endpoint}
    assert sorted(w.scope for w in ikas.list_webhooks(TENANT)) == sorted(scopes)
    again = ikas.save_webhooks(TENANT, endpoint, scopes[:1])  # reinstall: the scope's row is updated
    assert again[0].id == next(w.id for w in saved if w.scope == scopes[0])
    assert len(ikas.list_webhooks(TENANT)) == len(scopes)
    assert ikas.delete_webhooks(TENANT, scopes[:2]) is True
    assert sorted(w.scope for w in ikas.list_webhooks(TENANT)) == sorted(scopes[2:])


def test_a_webhook_endpoint_ikas_refuses_is_a_clear_rejection(ikas: IkasClient, sandbox: Sandbox) -> None:
    sandbox.post("local-mode", {"enabled": False})
    with pytest.raises(UpstreamRejected) as refused:
        ikas.save_webhooks(TENANT, "http://127.0.0.1:9/webhooks/ikas", ["store/order/created"])
    assert "saveWebhook" in refused.value.message
    assert "https" in refused.value.message
    assert refused.value.extra["hint"]
    with pytest.raises(UpstreamRejected):
        ikas.save_webhooks(TENANT, "https://bridge.example/webhooks/ikas", ["store/app/deleted"])
    assert ikas.list_webhooks(TENANT) == []
