"""Seed data: the demo Fortnox companies, explicit companies from /__admin/seed, and the state dump.

Demo: "Demo AB" (tenant 1001) holds articles derived from the demo ikas catalogue (demo_catalog.py): about two
thirds of its SKUs (every SKU whose position is not a multiple of three, plus the duplicate DEMO-1020 and the
bulk coffee), two of them at a different price than the shop, and five articles with no ikas match. Fortnox
base prices are net of VAT (the shop's gross price / (1 + VAT), to the öre) [?: product.md converts the
Fortnox base price "to the store's gross or net convention with the article's VAT"]. "Andra AB" (tenant 1002)
has a couple of articles, one with the same number as a Demo AB article, for isolation tests. The OAuth client
"bridge-local" / "bridge-local-secret" (local-mode defaults of BRIDGE_FORTNOX_CLIENT_ID/SECRET) is registered,
and Demo AB is the consenting company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi.encoders import jsonable_encoder

from bridge_sandboxes.demo_catalog import DEMO_PRODUCTS, DemoProduct
from bridge_sandboxes.fortnox import articles, currencies, prices, units, warehouse
from bridge_sandboxes.fortnox.state import Company, FortnoxState, OAuthClient

DEMO_TENANT_ID = 1001
OTHER_TENANT_ID = 1002
LOCAL_CLIENT_ID = "bridge-local"
LOCAL_CLIENT_SECRET = "bridge-local-secret"
UNITS = (
    ("st", "Styck", "pcs"),
    ("kg", "Kilogram", "kg"),
    ("g", "Gram", "g"),
    ("l", "Liter", "l"),
    ("ml", "Milliliter", "ml"),
    ("m", "Meter", "m"),
    ("cm", "Centimeter", "cm"),
    ("h", "Timme", "h"),
    ("paket", "Paket", "pkg"),
)
CURRENCIES = (  # [?] fixed rates, SEK per unit
    ("SEK", "Svensk krona", "1"),
    ("EUR", "Euro", "11.45"),
    ("USD", "Amerikansk dollar", "10.62"),
    ("NOK", "Norsk krona", "0.98"),
    ("DKK", "Dansk krona", "1.54"),
)
DIFFERENT_PRICE = {"DEMO-1005": Decimal("111.20"), "DEMO-1012": Decimal("49.60")}  # net; differs from the shop
EXTRA_ARTICLES: tuple[dict[str, Any], ...] = (
    {"ArticleNumber": "FX-2001", "Description": "Gift wrapping", "Type": "SERVICE", "SalesPrice": Decimal("20")},
    {"ArticleNumber": "FX-2002", "Description": "Shipping box, large", "StockGoods": True, "QuantityInStock": 150},
    {"ArticleNumber": "FX-2003", "Description": "Assembly service", "Type": "SERVICE", "Unit": "h"},
    {"ArticleNumber": "FX-2004", "Description": "Spare lid for enamel mug", "SalesPrice": Decimal("39.20")},
    {"ArticleNumber": "FX-2005", "Description": "Poster, discontinued", "Active": False, "SalesPrice": Decimal("80")},
)
OTHER_ARTICLES: tuple[dict[str, Any], ...] = (
    {"ArticleNumber": "DEMO-1005", "Description": "Andra AB mugg", "SalesPrice": Decimal("100"), "Unit": "st"},
    {"ArticleNumber": "ANDRA-1", "Description": "Andra AB artikel", "SalesPrice": Decimal("50"), "Unit": "st"},
)


@dataclass(frozen=True)
class CompanySeed:
    tenant_id: int
    name: str
    organisation_number: str
    address: str = ""
    zip_code: str = ""
    city: str = ""
    warehouse_enabled: bool = False


def _net(gross: Decimal, vat: Decimal) -> Decimal:
    return (gross * 100 / (100 + vat)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def demo_articles(products: tuple[DemoProduct, ...] = DEMO_PRODUCTS) -> list[dict[str, Any]]:
    """Fortnox articles for about two thirds of the demo shop's SKUs (see the module docstring)."""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    position = 0
    for product in products:
        for variant in product.variants:
            if variant.sku is None or variant.sku in seen:
                continue
            seen.add(variant.sku)
            position += 1
            if position % 3 == 0 and variant.sku not in ("DEMO-1020", "DEMO-1015", *DIFFERENT_PRICE):
                continue
            values = ", ".join(value for _, value in variant.values)
            description = f"{product.name}, {values}" if values else product.name
            unit = "kg" if product.base_unit and product.base_unit[1] == "KILOGRAM" else "st"
            chosen.append(
                {
                    "ArticleNumber": variant.sku,
                    "Description": description[:200],
                    "EAN": variant.barcode or "",
                    "Unit": unit,
                    "VAT": product.vat_rate,
                    "StockGoods": True,
                    "QuantityInStock": sum(variant.stock),
                    "PurchasePrice": variant.buy_price or Decimal(0),
                    "WebshopArticle": True,
                    "SalesPrice": DIFFERENT_PRICE.get(variant.sku, _net(variant.sell_price, product.vat_rate)),
                }
            )
    return chosen


def add_company(state: FortnoxState, seed: CompanySeed, article_fields: list[dict[str, Any]]) -> Company:
    """A company with the base registers every Fortnox company has (units, currencies, price list A) and
    the given articles (`SalesPrice` sets the base price, which only seed data may do)."""
    at: datetime = state.now()
    company = Company(
        tenant_id=seed.tenant_id,
        name=seed.name,
        organisation_number=seed.organisation_number,
        address=seed.address,
        zip_code=seed.zip_code,
        city=seed.city,
    )
    state.companies[seed.tenant_id] = company
    for code, description, english in UNITS:
        units.add_unit(company, code, description, english, at)
    for code, description, rate in CURRENCIES:
        currencies.add_currency(company, code, description, Decimal(rate), 1, at)
    prices.add_price_list(company, "A", "Standardprislista", at, preselected=True)
    for fields in article_fields:
        fields = dict(fields)
        price = fields.pop("SalesPrice", None)
        articles.create_article(company, state, fields, sales_price=Decimal(str(price)) if price is not None else None)
    if seed.warehouse_enabled:
        warehouse.default_stock_point(company, at)
        warehouse.set_activated(company, True, at)
    return company


def seed_demo(state: FortnoxState) -> dict[str, Any]:
    with state.lock:
        add_company(
            state,
            CompanySeed(DEMO_TENANT_ID, "Demo AB", "556677-8899", "Storgatan 1", "111 22", "Stockholm"),
            [*demo_articles(), *EXTRA_ARTICLES],
        )
        add_company(
            state,
            CompanySeed(OTHER_TENANT_ID, "Andra AB", "559988-7766", "Andra gatan 2", "411 01", "Göteborg"),
            list(OTHER_ARTICLES),
        )
        state.clients[LOCAL_CLIENT_ID] = OAuthClient(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET)
        state.consenting_tenant_id = DEMO_TENANT_ID
        return summary(state)


def seed(state: FortnoxState, body: dict[str, Any]) -> dict[str, Any]:
    """POST /__admin/seed: {"dataset": "demo"}, or explicit {"companies": [...], "clients": [...],
    "consenting_tenant_id": n}; a company with a tenant id already present replaces it."""
    if body.get("dataset") == "demo":
        return seed_demo(state)
    with state.lock:
        for entry in body.get("companies", []):
            add_company(
                state,
                CompanySeed(
                    tenant_id=int(entry["tenant_id"]),
                    name=entry.get("name", f"Company {entry['tenant_id']}"),
                    organisation_number=entry.get("organisation_number", "556000-0000"),
                    address=entry.get("address", ""),
                    zip_code=entry.get("zip_code", ""),
                    city=entry.get("city", ""),
                    warehouse_enabled=bool(entry.get("warehouse_enabled", False)),
                ),
                list(entry.get("articles", [])),
            )
        for client in body.get("clients", []):
            state.clients[client["client_id"]] = OAuthClient(
                client["client_id"], client["client_secret"], set(client.get("redirect_uris", []))
            )
        if "consenting_tenant_id" in body:
            state.consenting_tenant_id = body["consenting_tenant_id"]
        elif state.consenting_tenant_id is None and state.companies:
            state.consenting_tenant_id = min(state.companies)
        return summary(state)


def summary(state: FortnoxState) -> dict[str, Any]:
    with state.lock:
        return {
            "companies": {
                str(c.tenant_id): {"name": c.name, "articles": len(c.table("articles"))}
                for c in state.companies.values()
            },
            "clients": sorted(state.clients),
            "consenting_tenant_id": state.consenting_tenant_id,
        }


def dump(state: FortnoxState) -> dict[str, Any]:
    """GET /__admin/state: every company with its registers (encoded under the lock; Decimals as numbers)."""
    with state.lock:
        return jsonable_encoder(
            {
                "companies": {
                    str(c.tenant_id): {
                        "tenant_id": c.tenant_id,
                        "name": c.name,
                        "organisation_number": c.organisation_number,
                        "warehouse_enabled": c.warehouse_enabled,
                        "tables": dict(c.tables),
                        "sequences": dict(c.sequences),
                    }
                    for c in state.companies.values()
                },
                "clients": [
                    {"client_id": c.client_id, "redirect_uris": sorted(c.redirect_uris)} for c in state.clients.values()
                ],
                "consenting_tenant_id": state.consenting_tenant_id,
                "tokens": {
                    "access": len(state.access_tokens),
                    "refresh": sum(1 for r in state.refresh_tokens.values() if not (r.used or r.revoked)),
                },
            }
        )
