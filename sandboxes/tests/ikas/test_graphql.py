"""The Admin GraphQL API v1: auth, validation against the real schema, the product and order resolvers, mutations."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

PRODUCTS = """query($p: PaginationInput, $sort: String, $search: String, $tagIds: StringFilterInput,
                    $sku: StringFilterInput) {
  listProduct(pagination: $p, sort: $sort, search: $search, tagIds: $tagIds, sku: $sku) {
    count hasNext page limit
    data { id name type updatedAt tagIds tags { id name } baseUnit { baseAmount type }
           productVariantTypes { variantTypeId variantValueIds }
           variants { id sku barcodeList isActive unit { amount type } variantValueIds { variantTypeId variantValueId }
                      prices { sellPrice discountPrice buyPrice priceListId currencyCode }
                      stocks { stockLocationId stockCount } } }
  }
}"""


def _all_products(gql: Any, **variables: Any) -> list[dict[str, Any]]:
    products, page = [], 1
    while True:
        body = gql(PRODUCTS, {"p": {"page": page, "limit": 7}, **variables})["data"]["listProduct"]
        products += body["data"]
        assert body["count"] == len(body["data"])
        if not body["hasNext"]:
            return products
        page += 1


def test_requests_without_token_are_401_but_introspection_is_open(client: TestClient) -> None:
    response = client.post(
        "/api/v1/admin/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    introspection = client.post("/api/v1/admin/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert introspection.status_code == 200
    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_unknown_field_or_argument_fails_validation(gql: Any) -> None:
    body = gql("{ listProduct(updatedAt: {gte: 1}) { data { id } } }", status=400)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "updatedAt" in body["errors"][0]["message"]
    body = gql("{ listOrder { data { id vatTotal } } }", status=400)
    assert "vatTotal" in body["errors"][0]["message"]


def test_demo_catalogue_shapes(gql: Any) -> None:
    products = _all_products(gql)
    assert len(products) == 30
    skus = [v["sku"] for p in products for v in p["variants"]]
    assert None in skus
    assert skus.count("DEMO-1020") == 2
    bulk = next(p for p in products if p["name"] == "Ground coffee, bulk")
    assert bulk["baseUnit"] == {"baseAmount": 1.0, "type": "KILOGRAM"}
    assert bulk["variants"][0]["unit"] == {"amount": 500.0, "type": "GRAM"}
    shirt = next(p for p in products if p["name"] == "Organic cotton T-shirt")
    assert {t["name"] for t in shirt["tags"]} == {"fortnox", "apparel"}
    assert len(shirt["variants"]) == 3
    assert shirt["variants"][0]["prices"][0] == {
        "sellPrice": 249.0,
        "discountPrice": None,
        "buyPrice": None,
        "priceListId": None,
        "currencyCode": "SEK",
    }
    assert len(shirt["variants"][0]["stocks"]) == 2
    coffee = next(p for p in products if p["name"].startswith("Swedish coffee"))
    assert {pr["currencyCode"] for pr in coffee["variants"][0]["prices"]} == {"SEK", "EUR"}


def test_filters_search_sort_and_limit(gql: Any) -> None:
    tag = gql('{ listProductTag(name: {eq: "fortnox"}) { id name } }')["data"]["listProductTag"]
    tagged = _all_products(gql, tagIds={"in": [tag[0]["id"]]})
    assert tagged
    assert all(tag[0]["id"] in p["tagIds"] for p in tagged)
    assert len(_all_products(gql, sku={"eq": "DEMO-1020"})) == 2
    assert [p["name"] for p in _all_products(gql, search="7350000010054")] == ["Enamel mug"]
    newest = gql(PRODUCTS, {"sort": "-updatedAt", "p": {"limit": 200}})["data"]["listProduct"]["data"]
    stamps = [p["updatedAt"] for p in newest]
    assert stamps == sorted(stamps, reverse=True)
    too_big = gql(PRODUCTS, {"p": {"limit": 201}})
    assert too_big["data"] is None
    assert too_big["errors"][0]["extensions"]["code"] == "ARGUMENT_VALIDATION_ERROR"


def test_reference_queries(gql: Any) -> None:
    body = gql("""{ me { id scope } getMerchant { id storeName address { country { iso2 } } }
      getAuthorizedApp { id storeAppId scope } listStockLocation { id name }
      listVariantType { id name values { id name } }
      listTaxSettings { taxRate productOverrides { productTagIds taxRate } }
      getGlobalTaxSettings { isTaxExcludedOnPrices } }""")["data"]
    assert body["getMerchant"]["storeName"] == "demo"
    assert len(body["listStockLocation"]) == 2
    assert body["listTaxSettings"][0]["taxRate"] == 25.0
    assert sorted(o["taxRate"] for o in body["listTaxSettings"][0]["productOverrides"]) == [6.0, 12.0]
    assert body["getGlobalTaxSettings"]["isTaxExcludedOnPrices"] is False
    assert {t["name"] for t in body["listVariantType"]} >= {"Size", "Colour"}


def test_a_store_switches_to_net_prices_and_back(client: TestClient, gql: Any) -> None:
    query = "{ getGlobalTaxSettings { isTaxExcludedOnPrices isTaxExcludedOnShippingPrices } }"

    switched = client.post("/__admin/tax-settings", json={"store": "demo", "isTaxExcludedOnPrices": True})

    assert switched.status_code == 200
    assert switched.json()["isTaxExcludedOnPrices"] is True
    assert gql(query)["data"]["getGlobalTaxSettings"] == {
        "isTaxExcludedOnPrices": True,
        "isTaxExcludedOnShippingPrices": False,  # left as it was
    }
    assert gql(query, store="other")["data"]["getGlobalTaxSettings"]["isTaxExcludedOnPrices"] is False
    client.post(
        "/__admin/tax-settings",
        json={"store": "demo", "isTaxExcludedOnPrices": False, "isTaxExcludedOnShippingPrices": True},
    )
    assert gql(query)["data"]["getGlobalTaxSettings"] == {
        "isTaxExcludedOnPrices": False,
        "isTaxExcludedOnShippingPrices": True,
    }
    unknown = client.post("/__admin/tax-settings", json={"store": "nope", "isTaxExcludedOnPrices": True})
    assert unknown.status_code == 404


def test_save_product_is_a_full_replace(gql: Any) -> None:
    shirt = _all_products(gql, sku={"eq": "DEMO-1001-S"})[0]
    variant = shirt["variants"][0]
    saved = gql(
        """mutation($input: ProductInput!) { saveProduct(input: $input) { id name tagIds updatedAt
                   variants { id sku barcodeList prices { sellPrice } } } }""",
        {
            "input": {
                "id": shirt["id"],
                "name": "Renamed shirt",
                "type": "PHYSICAL",
                "variants": [{"id": variant["id"], "sku": variant["sku"], "prices": [{"sellPrice": 199.5}]}],
            }
        },
    )["data"]["saveProduct"]
    assert saved["name"] == "Renamed shirt"
    assert saved["tagIds"] == []
    assert len(saved["variants"]) == 1
    assert saved["variants"][0]["barcodeList"] == []
    assert saved["variants"][0]["prices"] == [{"sellPrice": 199.5}]
    assert saved["updatedAt"] > shirt["updatedAt"]
    created = gql("""mutation { saveProduct(input: {name: "New", type: PHYSICAL,
                   variants: [{sku: "NEW-1", prices: [{sellPrice: 10}]}]}) { id variants { id } } }""")
    assert created["data"]["saveProduct"]["id"]


def test_prices_and_stock_writes(gql: Any) -> None:
    mug = _all_products(gql, sku={"eq": "DEMO-1005"})[0]
    variant = mug["variants"][0]
    assert gql(
        """mutation($i: SaveVariantPricesInput!) { saveVariantPrices(input: $i) }""",
        {
            "i": {
                "variantPriceInputs": [
                    {"productId": mug["id"], "variantId": variant["id"], "price": {"sellPrice": 155.0, "buyPrice": 60}}
                ]
            }
        },
    )["data"]
    again = _all_products(gql, sku={"eq": "DEMO-1005"})[0]["variants"][0]
    assert again["prices"][0]["sellPrice"] == 155.0
    assert again["prices"][0]["buyPrice"] == 60.0
    location = variant["stocks"][1]["stockLocationId"]
    since = gql("{ listProductStockLocation(pagination: {limit: 200}) { data { updatedAt } } }")["data"]
    watermark = max(row["updatedAt"] for row in since["listProductStockLocation"]["data"]) + 1
    assert gql(
        """mutation($i: SaveStockLocationsInput!) { saveProductStockLocations(input: $i) }""",
        {
            "i": {
                "productStockLocationInputs": [
                    {"productId": mug["id"], "variantId": variant["id"], "stockLocationId": location, "stockCount": 3}
                ]
            }
        },
    )["data"]
    delta = gql(
        """query($w: Timestamp) { listProductStockLocation(updatedAt: {gte: $w}) {
                  data { variantId stockLocationId stockCount } } }""",
        {"w": watermark},
    )
    assert delta["data"]["listProductStockLocation"]["data"] == [
        {"variantId": variant["id"], "stockLocationId": location, "stockCount": 3.0}
    ]


ORDERS = """query($p: PaginationInput, $updatedAt: DateFilterInput, $status: OrderStatusEnumInputFilter,
                  $orderNumber: StringFilterInput, $sort: String) {
  listOrder(pagination: $p, updatedAt: $updatedAt, status: $status, orderNumber: $orderNumber, sort: $sort) {
    count hasNext data { id orderNumber status orderPackageStatus orderPaymentStatus currencyCode orderedAt updatedAt
      totalPrice totalFinalPrice netTotalFinalPrice taxLines { rate price }
      shippingLines { title price finalPrice taxValue }
      orderAdjustments { name type amount amountType appliedOrderLines { orderLineId amount } }
      customer { email firstName lastName preferredLanguage }
      billingAddress { company taxNumber country { iso2 code } city { name } }
      paymentMethods { type price } orderPackages { orderPackageNumber orderPackageFulfillStatus }
      invoices { invoiceNumber appId storeAppId hasPdf type }
      orderLineItems { id quantity price finalPrice unitPrice finalUnitPrice taxValue status
        variant { id productId sku name unit { amount type } baseUnit { baseAmount type } } } }
  }
}"""


def test_demo_orders(gql: Any) -> None:
    orders = gql(ORDERS, {"p": {"limit": 50}})["data"]["listOrder"]["data"]
    assert len(orders) == 15
    rates = {line["taxValue"] for o in orders for line in o["orderLineItems"]}
    assert rates == {25.0, 12.0, 6.0}
    discounted = next(o for o in orders if o["orderAdjustments"])
    lines_total = sum(line["finalPrice"] * line["quantity"] for line in discounted["orderLineItems"])
    shipping = sum(s["finalPrice"] for s in discounted["shippingLines"])
    assert round(lines_total + shipping, 2) == discounted["totalFinalPrice"]
    assert {t["rate"] for t in discounted["taxLines"]} == {25.0, 12.0, 6.0}
    assert any(o["currencyCode"] == "EUR" and o["billingAddress"]["country"]["iso2"] == "DE" for o in orders)
    assert any(o["billingAddress"]["taxNumber"] and o["billingAddress"]["company"] for o in orders)
    assert {"FULFILLED", "DELIVERED"} <= {o["orderPackageStatus"] for o in orders}
    assert any(o["status"] == "CANCELLED" for o in orders)
    per_kg = next(line for o in orders for line in o["orderLineItems"] if line["variant"]["sku"] == "DEMO-1015")
    assert per_kg["unitPrice"] == 238.0
    assert per_kg["variant"]["baseUnit"] == {"baseAmount": 1.0, "type": "KILOGRAM"}


def test_order_filters_sort_and_admin_changes(client: TestClient, gql: Any) -> None:
    orders = gql(ORDERS, {"sort": "orderedAt"})["data"]["listOrder"]["data"]
    assert [o["orderedAt"] for o in orders] == sorted(o["orderedAt"] for o in orders)
    cancelled = gql(ORDERS, {"status": {"eq": "CANCELLED"}})["data"]["listOrder"]["data"]
    assert len(cancelled) == 1
    assert gql(ORDERS, {"orderNumber": {"eq": "1003"}})["data"]["listOrder"]["data"][0]["orderNumber"] == "1003"
    watermark = max(o["updatedAt"] for o in orders) + 1
    client.post("/__admin/clock", json={"advance_s": 1})
    added = client.post(
        "/__admin/orders",
        json={"store": "demo", "lines": [{"sku": "DEMO-1005", "quantity": 1}], "customer": {"email": "new@example.se"}},
    )
    assert added.status_code == 200
    client.post("/__admin/orders", json={"store": "demo", "id": orders[0]["id"], "orderPackageStatus": "FULFILLED"})
    changed = gql(ORDERS, {"updatedAt": {"gte": watermark}})["data"]["listOrder"]["data"]
    assert {o["id"] for o in changed} == {added.json()["id"], orders[0]["id"]}
    fulfilled = next(o for o in changed if o["id"] == orders[0]["id"])
    assert fulfilled["orderPackages"][0]["orderPackageFulfillStatus"] == "FULFILLED"


def test_add_order_invoice_and_timeline(client: TestClient, gql: Any) -> None:
    order = gql(ORDERS, {"p": {"limit": 1}})["data"]["listOrder"]["data"][0]
    pdf = base64.b64encode(b"%PDF-1.4 sandbox").decode()
    result = gql(
        """mutation($i: AddOrderInvoiceInput!) { addOrderInvoice(input: $i) {
                     id invoices { id invoiceNumber appId hasPdf type } } }""",
        {
            "i": {
                "orderId": order["id"],
                "invoiceNumber": "F-1",
                "appId": "bridge",
                "type": "INDIVIDUAL",
                "sendNotificationToCustomer": False,
                "base64": pdf,
            }
        },
    )["data"]["addOrderInvoice"]
    invoice = result["invoices"][0]
    assert invoice["invoiceNumber"] == "F-1"
    assert invoice["hasPdf"] is True
    url = gql(
        """mutation($i: GetOrderInvoicePdfUrlInput!) { getOrderInvoicePdfUrl(input: $i) }""",
        {"i": {"orderId": order["id"], "invoiceId": invoice["id"]}},
    )["data"]["getOrderInvoicePdfUrl"]
    assert client.get(urlsplit(url).path).content == b"%PDF-1.4 sandbox"
    missing = gql("""mutation { addOrderInvoice(input: {orderId: "nope", invoiceNumber: "F", appId: "a",
                     type: OTHER, sendNotificationToCustomer: false}) { id } }""")
    assert missing["errors"][0]["extensions"]["code"] == "ARGUMENT_VALIDATION_ERROR"
    assert gql(
        """mutation($o: String!) { addCustomTimelineEntry(input: {message: "Sent to Fortnox",
                  sourceId: $o, sourceType: ORDER}) }""",
        {"o": order["id"]},
    )["data"]["addCustomTimelineEntry"]
    state = client.get("/__admin/state").json()
    assert state["stores"]["demo"]["timeline"][0]["message"] == "Sent to Fortnox"


def test_stores_are_isolated(gql: Any) -> None:
    other = gql("{ getMerchant { storeName } listProduct { data { name } } listOrder { data { id } } }", store="other")
    assert other["data"]["getMerchant"]["storeName"] == "other"
    assert len(other["data"]["listProduct"]["data"]) == 3
    assert len(other["data"]["listOrder"]["data"]) == 1


def test_rate_limit_is_per_store(client: TestClient, token_for: Any) -> None:
    demo, other = token_for("demo"), token_for("other")
    statuses = [
        client.post(
            "/api/v1/admin/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {demo}"}
        ).status_code
        for _ in range(51)
    ]
    assert statuses[:50] == [200] * 50
    assert statuses[50] == 429
    assert (
        client.post(
            "/api/v1/admin/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 200
    )
