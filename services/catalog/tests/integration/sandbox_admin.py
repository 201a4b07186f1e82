"""What the catalog's sync tests read and change in the sandboxes from the outside: /__admin/ state and call
logs, and changes a merchant would make by hand (a Fortnox article edited, ikas stock counted, a tag removed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bridge.catalog.v1 import catalog_pb2
from bridge_upstreams.ikas.client import document

from .test_catalog_relations import FORTNOX_COMPANY, IKAS_STORE, TENANT, Catalog, FortnoxTokens, IkasTokens

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TIMEOUT_S = 30


# -- reading ----------------------------------------------------------------------------------------------


def fortnox_company(url: str, tenant: str = TENANT) -> dict[str, Any]:
    state = httpx.get(f"{url}/__admin/state", timeout=TIMEOUT_S).json()
    company: dict[str, Any] = state["companies"][str(FORTNOX_COMPANY[tenant])]
    return company


def fortnox_articles(url: str, tenant: str = TENANT) -> dict[str, dict[str, Any]]:
    articles: dict[str, dict[str, Any]] = fortnox_company(url, tenant)["tables"]["articles"]
    return articles


def fortnox_base_prices(url: str, tenant: str = TENANT, price_list: str = "A") -> dict[str, Decimal]:
    """Article number -> the FromQuantity 0 price in `price_list`."""
    prices = fortnox_company(url, tenant)["tables"].get("prices", {})
    return {
        p["ArticleNumber"]: Decimal(str(p["Price"]))
        for p in prices.values()
        if p["PriceList"] == price_list and Decimal(str(p.get("FromQuantity", 0))) == 0
    }


def ikas_store(url: str, tenant: str = TENANT) -> dict[str, Any]:
    stores = httpx.get(f"{url}/__admin/state", timeout=TIMEOUT_S).json()["stores"]
    store: dict[str, Any] = stores[IKAS_STORE[tenant]]
    return store


def ikas_locations(url: str, tenant: str = TENANT) -> dict[str, str]:
    """Location name -> id."""
    return {location["name"]: location["id"] for location in ikas_store(url, tenant)["stock_locations"]}


def ikas_stock(url: str, tenant: str = TENANT) -> dict[tuple[str, str], Decimal]:
    """(variant id, location id) -> count, deleted rows left out."""
    return {
        (row["variantId"], row["stockLocationId"]): Decimal(str(row["stockCount"]))
        for row in ikas_store(url, tenant)["stocks"]
        if not row.get("deleted")
    }


def ikas_variant(url: str, sku: str, tenant: str = TENANT) -> tuple[dict[str, Any], dict[str, Any]]:
    """(product, variant) of the one live variant with this SKU."""
    found = [
        (product, variant)
        for product in ikas_store(url, tenant)["products"]
        if not product.get("deleted")
        for variant in product["variants"]
        if variant.get("sku") == sku and not variant.get("deleted")
    ]
    assert len(found) == 1, (sku, len(found))
    return found[0]


def calls(url: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = httpx.get(f"{url}/__admin/calls", timeout=TIMEOUT_S).json()
    return answer


def fortnox_writes(url: str, tenant: str = TENANT) -> list[dict[str, Any]]:
    """Every non-GET call Bridge made for the tenant's company since the log was last cleared."""
    key = str(FORTNOX_COMPANY[tenant])
    return [c for c in calls(url) if c["method"] != "GET" and c["key"] == key]


def clear_calls(*urls: str) -> None:
    for url in urls:
        assert httpx.delete(f"{url}/__admin/calls", timeout=TIMEOUT_S).status_code == 200


def add_fault(url: str, **fault: Any) -> None:
    assert httpx.post(f"{url}/__admin/faults", json=fault, timeout=TIMEOUT_S).status_code == 200


def line_by_sku(catalog: Catalog, sku: str, tenant: str = TENANT) -> catalog_pb2.ProductLine:
    (line,) = [line for line in catalog.lines(tenant) if line.sku == sku]
    return line


# -- changing, as a merchant would --------------------------------------------------------------------------


class FortnoxHand:
    """The merchant editing the Fortnox company through its API (with a token minted by the sandbox)."""

    def __init__(self, url: str, tenant: str = TENANT) -> None:
        self._url, self._tenant = url, tenant
        self._token = FortnoxTokens(url).access_token(tenant)

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(
            method,
            f"{self._url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=TIMEOUT_S,
        )
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    def update_article(self, number: str, **fields: Any) -> None:
        self._send("PUT", f"/3/articles/{number}", {"Article": fields})

    def create_article(self, **fields: Any) -> None:
        self._send("POST", "/3/articles", {"Article": fields})

    def set_base_price(self, number: str, price: Decimal, price_list: str = "A") -> None:
        self._send("PUT", f"/3/prices/{price_list}/{number}/0", {"Price": {"Price": str(price)}})

    def delete_article(self, number: str) -> None:
        self._send("DELETE", f"/3/articles/{number}")

    def stock_point(self, code: str, name: str) -> dict[str, Any]:
        point: dict[str, Any] = self._send("POST", "/api/warehouse/stockpoints-v1", {"code": code, "name": name})
        return point

    def stock_points(self) -> list[dict[str, Any]]:
        points: list[dict[str, Any]] = self._send("GET", "/api/warehouse/stockpoints-v1")
        return points

    def count_stock(self, point: dict[str, Any], counts: dict[str, Decimal]) -> None:
        """Sets warehouse balances at one stock point absolutely, through a stock taking of its own."""
        taking = self._send("POST", "/api/warehouse/stocktaking-v1", {"name": "by hand", "responsible": "me"})
        head = {"name": "by hand", "responsible": "me", "state": "started", "date": _today()}
        self._send("PUT", f"/api/warehouse/stocktaking-v1/{taking['id']}", head)
        self._send(
            "POST",
            f"/api/warehouse/stocktaking-v1/{taking['id']}/rows",
            [{"itemId": number, "stockPointId": point["id"]} for number in counts],
        )
        rows = [
            {"itemId": n, "stockPointId": point["id"], "stockTakenQuantity": str(c), "countedBy": "me"}
            for n, c in counts.items()
        ]
        self._send("PUT", f"/api/warehouse/stocktaking-v1/{taking['id']}", {**head, "rows": rows})
        self._send("PUT", f"/api/warehouse/stocktaking-v1/{taking['id']}/release")

    def balances(self, numbers: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._send(
            "GET", f"/api/warehouse/status-v1/stockbalance?itemIds={','.join(numbers)}"
        )
        return rows


def _today() -> str:
    return datetime.now(STOCKHOLM).date().isoformat()


def activate_warehouse(url: str, tenant: str = TENANT, activated: bool = True) -> None:
    answer = httpx.post(
        f"{url}/__admin/companies/{FORTNOX_COMPANY[tenant]}/warehouse",
        json={"activated": activated},
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == 200, answer.text


def set_ikas_stock(url: str, sku: str, location_id: str, count: Decimal, tenant: str = TENANT) -> None:
    answer = httpx.post(
        f"{url}/__admin/stock",
        json={"store": IKAS_STORE[tenant], "sku": sku, "stockLocationId": location_id, "stockCount": float(count)},
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == 200, answer.text


class IkasHand:
    """The merchant editing the ikas store through the Admin GraphQL API."""

    def __init__(self, url: str, tenant: str = TENANT) -> None:
        self._url = url
        self._token = IkasTokens(url).access_token(tenant)

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(
            f"{self._url}/api/v1/admin/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=TIMEOUT_S,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def _product_for_save(self, product_id: str) -> dict[str, Any]:
        rows = self.graphql(document("getProductForSave").text, {"id": product_id})["listProduct"]["data"]
        (product,) = [row for row in rows if row["id"] == product_id]
        return dict(product)

    def _save(self, product: dict[str, Any]) -> dict[str, Any]:
        saved: dict[str, Any] = self.graphql(document("saveProduct").text, {"input": product})["saveProduct"]
        return saved

    def edit_product(self, product_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Read-merge-write of one product, as the ikas admin does it: `change` edits the saveProduct input."""
        product = self._product_for_save(product_id)
        change(product)
        return self._save(product)

    def create_product(self, name: str, sku: str, sell_price: str, tag_ids: list[str], **variant: Any) -> str:
        saved = self._save(
            {
                "name": name,
                "type": "PHYSICAL",
                "tagIds": tag_ids,
                "variants": [{"sku": sku, "prices": [{"sellPrice": float(sell_price)}], **variant}],
            }
        )
        return str(saved["id"])


def tag_id(url: str, name: str, tenant: str = TENANT) -> str:
    (found,) = [tag["id"] for tag in ikas_store(url, tenant)["tags"] if tag["name"] == name]
    return str(found)
