"""IkasClient reads against the ikas sandbox over real HTTP: every query, pagination and the watermark walks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

TENANT = "demo"
# fixtures from conftest.py (not importable under --import-mode=importlib): the sandbox process and its
# admin API, and a factory of IkasClients wired to it
Sandbox = Any
ClientFactory = Any


def _ms_to_dt(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def test_app_merchant_and_store_settings(ikas: IkasClient, sandbox: Sandbox) -> None:
    apps = {a["store"]: a for a in sandbox.get("apps")}
    me = ikas.me(TENANT)
    app = ikas.get_authorized_app(TENANT)
    merchant = ikas.get_merchant(TENANT)
    assert app.id == apps["demo"]["authorized_app_id"]
    assert app.store_app_id == apps["demo"]["store_app_id"]
    assert app.scopes == {"read_products", "write_products", "read_inventories", "write_inventories"} | {
        "read_orders",
        "write_orders",
    }
    assert me.scope == app.scope
    assert me.store_app_id == app.store_app_id
    assert merchant.id == sandbox.store_state()["merchant_id"]
    assert merchant.store_name == "demo"

    locations = ikas.list_stock_locations(TENANT)
    assert {loc.id for loc in locations} == {loc["id"] for loc in sandbox.store_state()["stock_locations"]}
    assert len(locations) == 2
    assert all(not loc.deleted for loc in locations)

    tags = ikas.list_product_tags(TENANT)
    assert "fortnox" in {t.name for t in tags}
    (fortnox,) = ikas.list_product_tags(TENANT, name="fortnox")
    assert fortnox.name == "fortnox"

    variant_types = ikas.list_variant_types(TENANT)
    assert variant_types
    assert all(t.values for t in variant_types)

    (tax,) = ikas.list_tax_settings(TENANT)
    assert tax.rate == Decimal(25)
    assert {o.rate for o in tax.product_overrides} == {Decimal(12), Decimal(6)}
    food = next(t.id for t in tags if t.name == "food")
    assert any(food in o.product_tag_ids and o.rate == 12 for o in tax.product_overrides)

    global_tax = ikas.get_global_tax_settings(TENANT)
    assert global_tax == m.GlobalTaxSettings(tax_excluded_on_prices=False, tax_excluded_on_shipping_prices=False)


def test_products_are_typed_with_decimal_money_and_utc_times(ikas: IkasClient, sandbox: Sandbox) -> None:
    products = list(ikas.iter_products(TENANT))
    raw = {p["id"]: p for p in sandbox.store_state()["products"]}
    assert {p.id for p in products} == {pid for pid, p in raw.items() if not p["deleted"]}
    for product in products:
        assert product.updated_at is not None
        assert product.updated_at.tzinfo is UTC
        assert product.updated_at == _ms_to_dt(raw[product.id]["updatedAt"])
        for variant in product.variants:
            for price in variant.prices:
                assert isinstance(price.sell_price, Decimal)
            stored = next(v for v in raw[product.id]["variants"] if v["id"] == variant.id)
            default = next(p for p in stored["prices"] if p["priceListId"] is None)
            price_on_default = variant.price_on(None)
            assert price_on_default is not None
            assert price_on_default.sell_price == Decimal(default["sellPrice"])
    with_stock = [v for p in products for v in p.variants if v.stocks]
    assert with_stock
    assert all(isinstance(s.count, Decimal) for v in with_stock for s in v.stocks)
    assert any(p.base_unit is not None for p in products)


def test_product_filters_and_search(ikas: IkasClient) -> None:
    everything = list(ikas.iter_products(TENANT))
    fortnox = next(t for t in ikas.list_product_tags(TENANT) if t.name == "fortnox")
    tagged = list(ikas.iter_products(TENANT, tag_ids=[fortnox.id]))
    assert tagged
    assert all(fortnox.id in p.tag_ids for p in tagged)
    assert {p.id for p in tagged} == {p.id for p in everything if fortnox.id in p.tag_ids}

    some_sku = next(v.sku for p in everything for v in p.variants if v.sku)
    (by_sku,) = ikas.iter_products(TENANT, skus=[some_sku])
    assert some_sku in {v.sku for v in by_sku.variants}
    assert {p.id for p in ikas.iter_products(TENANT, search=some_sku)} >= {by_sku.id}
    assert ikas.get_product(TENANT, by_sku.id) == by_sku
    assert ikas.get_product(TENANT, "no-such-product") is None


def test_product_pagination_across_many_pages(ikas: IkasClient, sandbox: Sandbox) -> None:
    everything = [p.id for p in ikas.iter_products(TENANT)]
    sandbox.admin.delete("/__admin/calls")
    paged = [p.id for p in ikas.iter_products(TENANT, page_size=3)]
    assert paged == everything  # same order (createdAt), nothing lost or repeated
    pages = len(sandbox.graphql_calls())
    assert pages == -(-len(everything) // 3)
    assert pages >= 8


def test_the_updated_at_watermark_walk_stops_at_the_watermark(ikas: IkasClient, sandbox: Sandbox) -> None:
    products = list(ikas.iter_products(TENANT))
    sandbox.advance_clock(3600)
    watermark = datetime.fromisoformat(sandbox.get("clock")["now"])
    changed = []
    for product in products[3:6]:  # three products changed after the watermark, one second apart
        sandbox.advance_clock(1)
        ikas.update_product_fields(TENANT, product.id, m.ProductChanges(name=product.name + " (new)"))
        changed.append(product.id)

    sandbox.admin.delete("/__admin/calls")
    walked = list(ikas.iter_products_updated_since(TENANT, watermark, page_size=2))
    assert [p.id for p in walked] == list(reversed(changed))  # newest first, exactly the changed ones
    assert len(sandbox.graphql_calls()) == 2  # stopped at the first older product, not at the end
    assert list(ikas.iter_products_updated_since(TENANT, watermark + timedelta(hours=1))) == []


def test_stock_reads_and_the_updated_at_delta_feed(ikas: IkasClient, sandbox: Sandbox) -> None:
    rows = list(ikas.iter_product_stocks(TENANT, page_size=7))
    stored = [s for s in sandbox.store_state()["stocks"] if not s["deleted"]]
    assert len(rows) == len({r.id for r in rows}) == len(stored) > 7
    assert all(isinstance(r.count, Decimal) for r in rows)

    sandbox.advance_clock(600)
    since = datetime.fromisoformat(sandbox.get("clock")["now"])
    target = rows[0]
    sandbox.advance_clock(1)
    ikas.set_stock(TENANT, [m.StockUpdate(target.product_id, target.variant_id, target.stock_location_id, Decimal(42))])
    delta = list(ikas.iter_product_stocks(TENANT, updated_since=since, page_size=2))
    assert [(d.variant_id, d.stock_location_id, d.count) for d in delta] == [
        (target.variant_id, target.stock_location_id, Decimal(42))
    ]
    only_location = list(ikas.iter_product_stocks(TENANT, stock_location_id=target.stock_location_id))
    assert only_location
    assert all(r.stock_location_id == target.stock_location_id for r in only_location)


def test_orders_carry_everything_the_order_sync_maps(ikas: IkasClient) -> None:
    orders = list(ikas.iter_orders(TENANT))
    assert len(orders) == 15
    assert [o.ordered_at for o in orders] == sorted(o.ordered_at for o in orders if o.ordered_at)
    for order in orders:
        assert order.lines
        assert order.currency
        line_total = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
        shipping = sum((s.final_price for s in order.shipping_lines), Decimal(0))
        assert isinstance(order.total_final_price, Decimal)
        assert line_total + shipping - order.total_final_price >= 0 or order.adjustments
    company = next(o for o in orders if o.billing_address and o.billing_address.company)
    assert company.billing_address is not None
    assert company.billing_address.is_company
    assert company.billing_address.tax_number == "SE556677889901"
    assert company.billing_address.country_iso2 == "SE"
    german = next(o for o in orders if o.currency == "EUR")
    assert german.billing_address is not None
    assert german.billing_address.country_iso2 == "DE"
    discounted = next(o for o in orders if o.adjustments)
    assert discounted.adjustments[0].type == "DECREMENT"
    rates = {line.tax_rate for o in orders for line in o.lines}
    assert {Decimal(25), Decimal(12), Decimal(6)} <= rates
    assert all(o.tax_lines for o in orders if o.status != "CANCELLED")
    assert any(o.package_status in ("FULFILLED", "DELIVERED") for o in orders)
    assert any(o.status == "CANCELLED" and o.cancelled_at is not None for o in orders)
    assert any(line.variant.sku is None for o in orders for line in o.lines)
    assert all(o.customer is not None and o.customer.email for o in orders)
    assert all(o.payment_methods for o in orders)


def test_order_filters_and_pagination(ikas: IkasClient, sandbox: Sandbox) -> None:
    everything = list(ikas.iter_orders(TENANT))
    sandbox.admin.delete("/__admin/calls")
    assert [o.id for o in ikas.iter_orders(TENANT, page_size=2)] == [o.id for o in everything]
    assert len(sandbox.graphql_calls()) == 8

    newest_first = list(ikas.iter_orders(TENANT, sort="-orderedAt"))
    assert [o.id for o in newest_first] == [o.id for o in reversed(everything)]
    middle = everything[5]
    assert middle.ordered_at is not None
    window = list(ikas.iter_orders(TENANT, ordered_from=middle.ordered_at))
    assert [o.id for o in window] == [o.id for o in everything[5:]]
    assert [o.id for o in ikas.iter_orders(TENANT, ordered_before=middle.ordered_at)] == [o.id for o in everything[:5]]
    assert middle.number is not None
    (by_number,) = ikas.iter_orders(TENANT, numbers=[middle.number])
    assert by_number.id == middle.id
    live = list(ikas.iter_orders(TENANT, exclude_statuses=["DRAFT", "CANCELLED", "WAITING_UPSELL_ACTION"]))
    assert len(live) == 14
    assert all(o.status != "CANCELLED" for o in live)
    assert [o.id for o in ikas.iter_orders(TENANT, statuses=["CANCELLED"])] == [
        o.id for o in everything if o.status == "CANCELLED"
    ]
    assert ikas.get_order(TENANT, middle.id) == middle
    assert ikas.get_order(TENANT, "no-such-order") is None


def test_orders_updated_since_never_skip_an_order_changed_during_the_walk(ikas: IkasClient, sandbox: Sandbox) -> None:
    orders = list(ikas.iter_orders(TENANT))
    sandbox.advance_clock(60)
    since = datetime.fromisoformat(sandbox.get("clock")["now"])
    for order in orders[:6]:
        sandbox.advance_clock(1)
        sandbox.post("orders", {"store": "demo", "id": order.id, "note": "changed"})

    walk = ikas.iter_orders_updated_since(TENANT, since, page_size=2)
    first = next(walk)
    assert first.id == orders[0].id
    sandbox.advance_clock(1)  # the merchant edits the first order again while the walk runs
    sandbox.post("orders", {"store": "demo", "id": orders[0].id, "note": "changed again"})
    rest = list(walk)
    seen = [first.id, *(o.id for o in rest)]
    assert seen == [o.id for o in orders[:6]]  # none skipped, none twice
    assert all(o.note == "changed" for o in [first, *rest][1:])


def test_many_pages_at_the_maximum_page_size(make_client: ClientFactory, sandbox: Sandbox) -> None:
    sandbox.post("seed", {"stores": ["bulk"]})
    sandbox.post("apps", {"client_id": "bridge-local", "client_secret": "bridge-local-secret", "store": "bulk"})
    ikas = make_client()
    for n in range(205):
        ikas.create_product("bulk", m.NewProduct(name=f"Bulk {n}", variants=(m.NewVariant(f"BULK-{n}", Decimal(n)),)))
    sandbox.admin.delete("/__admin/calls")
    products = list(ikas.iter_products("bulk"))
    assert len(products) == len({p.id for p in products}) == 205
    assert len(sandbox.graphql_calls()) == 2
