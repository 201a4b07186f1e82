"""Articles, /3/articles (fact sheet §5.1, §4, §6.1).

What the fact sheet leaves open and the sandbox decides ([?]):
- ArticleNumber may hold letters, digits and `_ - + .` (no `/`: it could not be addressed in a URL);
  anything else is 2000359;
- a read-only field in a body is rejected with 2001399 "Felaktigt fältnamn" (errors.READ_ONLY_FIELD), and so
  is an unknown field; a missing or too long Description is 2001392 (errors.INVALID_VALUE);
- a duplicate ArticleNumber is errors.ARTICLE_NUMBER_TAKEN (the real code is unknown, §3);
- VAT must be one of the Swedish rates 0, 6, 12, 25;
- in lists, QuantityInStock (recorded) and also ReservedQuantity, DisposableQuantity and StockValue are strings;
  a single article carries them as numbers;
- StockValue = QuantityInStock x PurchasePrice; default accounts are the BAS accounts for 25 % VAT;
- an article number freed by DELETE may be used again (unlike customer numbers, §3 2000637);
- the default list order is by ArticleNumber as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox import prices, units, warehouse
from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import (
    ARTICLE_NOT_FOUND,
    ARTICLE_NUMBER_TAKEN,
    INVALID_CHARACTERS,
    INVALID_FIELD_NAME,
    INVALID_PARAMETER,
    INVALID_VALUE,
    NOT_BOOLEAN,
    NOT_NUMERIC,
    READ_ONLY_FIELD,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company, FortnoxState
from bridge_sandboxes.fortnox.wire import (
    API_BLANK,
    FortnoxRouter,
    JsonBody,
    as_text,
    changed_since,
    contains,
    one_filter,
    page_of,
    paginate,
    resource_url,
    sort_order,
    to_number,
    unwrap,
)

TABLE = "articles"
ARTICLE_NUMBER = re.compile(r"[A-Za-z0-9_+.\-]{1,50}")
STRING_LIMITS = {
    "Description": 200,
    "EAN": 30,
    "Note": 10000,
    "Manufacturer": 50,
    "ManufacturerArticleNumber": 50,
    "StockPlace": 100,
    "SupplierNumber": 50,
    "HouseworkType": 50,
    "CommodityCode": 50,
    "DefaultStockPoint": 50,
    "DefaultStockLocation": 50,
}
BOOLEANS = frozenset({"Active", "StockGoods", "WebshopArticle", "Bulky", "Expired", "Housework"})
NUMBERS = frozenset(
    {
        "PurchasePrice",
        "VAT",
        "StockWarning",
        "Weight",
        "Width",
        "Height",
        "Depth",
        "DirectCost",
        "FreightCost",
        "OtherCost",
        "QuantityInStock",
    }
)
ACCOUNTS = {  # [?] BAS defaults for an article sold at 25 % VAT
    "SalesAccount": 3001,
    "PurchaseAccount": 4000,
    "EUAccount": 3108,
    "EUVATAccount": 3106,
    "ExportAccount": 3105,
    "ConstructionAccount": 3231,
    "StockAccount": 1460,
    "StockChangeAccount": 4990,
}
CHOICES = {"Type": {"STOCK", "SERVICE"}, "CostCalculationMethod": {"MANUAL", "LAST_RELEASED_INBOUND"}}
READ_ONLY = frozenset({"@url", "DisposableQuantity", "ReservedQuantity", "StockValue", "SupplierName", "SalesPrice"})
VAT_RATES = frozenset({Decimal(0), Decimal(6), Decimal(12), Decimal(25)})
SEARCHES = ("articlenumber", "description", "ean", "suppliernumber", "manufacturer", "manufacturerarticlenumber")
SEARCH_FIELDS = {
    "articlenumber": "ArticleNumber",
    "description": "Description",
    "ean": "EAN",
    "suppliernumber": "SupplierNumber",
    "manufacturer": "Manufacturer",
    "manufacturerarticlenumber": "ManufacturerArticleNumber",
}
LIST_FIELDS = (
    "ArticleNumber",
    "Description",
    "DisposableQuantity",
    "EAN",
    "Housework",
    "PurchasePrice",
    "SalesPrice",
    "QuantityInStock",
    "ReservedQuantity",
    "StockPlace",
    "StockValue",
    "Unit",
    "VAT",
    "WebshopArticle",
)
LIST_TEXT_NUMBERS = frozenset({"QuantityInStock", "ReservedQuantity", "DisposableQuantity", "StockValue"})
ZERO = Decimal(0)

TenantCompany = Annotated[Company, Depends(company_for("article"))]


def new_record(number: str) -> dict[str, Any]:
    """An article's stored fields as Fortnox fills them in on create (the recorded create keys, §5.1)."""
    return {
        "ArticleNumber": number,
        "Active": True,
        "Bulky": False,
        "CommodityCode": "",
        "CostCalculationMethod": None,
        "DefaultStockLocation": None,
        "DefaultStockPoint": None,
        "Depth": ZERO,
        "Description": "",
        "DirectCost": ZERO,
        "EAN": "",
        "Expired": False,
        "FreightCost": ZERO,
        "Height": ZERO,
        "Housework": False,
        "HouseworkType": None,
        "Manufacturer": "",
        "ManufacturerArticleNumber": "",
        "Note": "",
        "OtherCost": ZERO,
        "PurchasePrice": ZERO,
        "QuantityInStock": ZERO,
        "ReservedQuantity": ZERO,
        "StockGoods": False,
        "StockPlace": "",
        "StockWarning": ZERO,
        "SupplierName": None,
        "SupplierNumber": "",
        "Type": "STOCK",
        "Unit": None,
        "VAT": Decimal(25),
        "WebshopArticle": False,
        "Weight": ZERO,
        "Width": ZERO,
        **ACCOUNTS,
    }


def _bad(code: int, message: str) -> FortnoxApiError:
    return FortnoxApiError(400, code, message)


def apply_fields(company: Company, record: dict[str, Any], fields: dict[str, Any]) -> None:
    """Validates `fields` (a body's Article, without ArticleNumber) and writes them into `record`."""
    for name, value in fields.items():
        if value is None:
            continue  # [?] a null is treated as "not sent"
        if name in READ_ONLY or (name == "QuantityInStock" and company.warehouse_enabled):
            # §5.1: read-only fields; §6.1: with the warehouse module on, stock changes only through warehouse documents
            raise _bad(READ_ONLY_FIELD, f"Felaktigt fältnamn ({name}). Fältet är skrivskyddat.")
        if name in STRING_LIMITS:
            text = "" if value == API_BLANK else value
            if not isinstance(text, str) or len(text) > STRING_LIMITS[name]:
                raise _bad(INVALID_VALUE, f"Ogiltigt värde för {name} (högst {STRING_LIMITS[name]} tecken).")
            if name == "Description" and not text:
                raise _bad(INVALID_VALUE, "Fältet Description måste fyllas i.")
            record[name] = text
        elif name == "Unit":
            if value in ("", API_BLANK):
                record[name] = None
            else:
                record[name] = units.existing_code(company, value)
        elif name in BOOLEANS:
            if not isinstance(value, bool):
                raise _bad(NOT_BOOLEAN, f"Värdet måste vara en boolean ({name})")
            record[name] = value
        elif name in NUMBERS:
            number = to_number(value, name)
            if name == "VAT" and number not in VAT_RATES:
                raise _bad(INVALID_VALUE, f"Ogiltig momssats ({value}).")
            record[name] = number
        elif name in ACCOUNTS:
            account = to_number(value, name)
            if account != account.to_integral_value():
                raise _bad(NOT_NUMERIC, f"Värdet måste vara numeriskt ({name})")
            record[name] = int(account)
        elif name in CHOICES:
            if value not in CHOICES[name]:
                raise _bad(INVALID_VALUE, f"Ogiltigt värde för {name} ({value}).")
            record[name] = value
        else:
            raise _bad(INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")


def create_article(
    company: Company, state: FortnoxState, fields: dict[str, Any], *, sales_price: Decimal | None = None
) -> dict[str, Any]:
    """POST /3/articles: validates, assigns a number if none is given, creates the base price rows (§5.2).

    `sales_price` is only for seed data: over the API, SalesPrice is read-only (§5.1) and set via /3/prices.
    """
    fields = dict(fields)
    number = fields.pop("ArticleNumber", None)
    table = company.table(TABLE)
    if number in (None, ""):
        number = company.next_number(TABLE)
        while number in table:
            number = company.next_number(TABLE)
    elif not isinstance(number, str) or len(number) > 50:
        raise _bad(INVALID_VALUE, "Ogiltigt artikelnummer (högst 50 tecken).")
    elif not ARTICLE_NUMBER.fullmatch(number):
        raise _bad(INVALID_CHARACTERS, f"Värdet innehåller ej tillåtna tecken. ({number})")
    elif number in table:
        raise _bad(ARTICLE_NUMBER_TAKEN, f"Artikelnummer {number} används redan.")
    if not isinstance(fields.get("Description"), str) or not fields["Description"]:
        raise _bad(INVALID_VALUE, "Fältet Description måste fyllas i.")
    record = new_record(number)
    apply_fields(company, record, fields)
    now = state.now()
    company.save(TABLE, number, record, now)
    prices.create_base_rows(company, number, sales_price, now)
    return record


def find_article(company: Company, number: str) -> dict[str, Any]:
    record = company.table(TABLE).get(number)
    if record is None:
        raise FortnoxApiError(404, ARTICLE_NOT_FOUND, "Kan inte hitta artikeln")
    return record


def _stock(company: Company, record: dict[str, Any]) -> tuple[Decimal, Decimal]:
    number = record["ArticleNumber"]
    if company.warehouse_enabled:
        return warehouse.in_stock(company, number), warehouse.reserved(company, number)
    return record["QuantityInStock"], record["ReservedQuantity"]


def render(company: Company, record: dict[str, Any], request: Request) -> dict[str, Any]:
    """The full article as GET /3/articles/{n} answers it."""
    in_stock, reserved = _stock(company, record)
    return {
        "@url": resource_url(request, f"articles/{record['ArticleNumber']}"),
        **record,
        "QuantityInStock": in_stock,
        "ReservedQuantity": reserved,
        "DisposableQuantity": in_stock - reserved,
        "StockValue": in_stock * record["PurchasePrice"],
        "SalesPrice": prices.sales_price(company, record["ArticleNumber"]),
    }


def render_list_item(company: Company, record: dict[str, Any], request: Request) -> dict[str, Any]:
    full = render(company, record, request)
    item = {"@url": full["@url"]}
    for name in LIST_FIELDS:
        value = full[name]
        item[name] = as_text(value) if name in LIST_TEXT_NUMBERS else value
    return item


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "articlenumber": lambda full: full["ArticleNumber"],
    "quantityinstock": lambda full: full["QuantityInStock"],
    "reservedquantity": lambda full: full["ReservedQuantity"],
    "stockvalue": lambda full: full["StockValue"],
}


def _matches(record: dict[str, Any], chosen: tuple[str, str] | None) -> bool:
    if chosen is None:
        return True
    name, value = chosen
    if name == "filter":
        return bool(record["Active"]) == (value == "active")
    if name == "webshop":
        return bool(record["WebshopArticle"]) == (value.lower() == "true")
    return contains(record[SEARCH_FIELDS[name]], value)


def articles_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/articles", tags=["articles"])

    @router.get("")
    def list_articles(request: Request, company: TenantCompany) -> dict[str, Any]:
        params = dict(request.query_params)
        chosen = one_filter(params, (*SEARCHES, "webshop"), ("active", "inactive"))
        page = page_of(params)
        descending = sort_order(params)
        sort_by = params.get("sortby", "articlenumber")
        if sort_by not in SORT_KEYS:
            raise FortnoxApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortby)")
        with fortnox_state(request).lock:
            is_changed = changed_since(company, TABLE, params)
            full = [
                render(company, record, request)
                for key, record in company.table(TABLE).items()
                if is_changed(key) and _matches(record, chosen)
            ]
            full.sort(key=SORT_KEYS[sort_by], reverse=descending)
            shown, meta = paginate(full, page)
            items = [render_list_item(company, company.table(TABLE)[a["ArticleNumber"]], request) for a in shown]
        return {"MetaInformation": meta, "Articles": items}

    @router.get("/{number}")
    def get_article(number: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"Article": render(company, find_article(company, number), request)}

    @router.post("", status_code=201)
    def post_article(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        fields = unwrap(body, "Article")
        state = fortnox_state(request)
        with state.lock:
            record = create_article(company, state, fields)
            return {"Article": render(company, record, request)}

    @router.put("/{number}")
    def put_article(number: str, request: Request, body: JsonBody, company: TenantCompany) -> dict[str, Any]:
        fields = unwrap(body, "Article")
        state = fortnox_state(request)
        with state.lock:
            record = find_article(company, number)
            if fields.get("ArticleNumber", number) != number:
                # §5.1: the ArticleNumber of an existing article cannot be changed
                raise _bad(INVALID_VALUE, "Artikelnumret kan inte ändras.")
            changed = dict(record)
            apply_fields(company, changed, {k: v for k, v in fields.items() if k != "ArticleNumber"})
            company.save(TABLE, number, changed, state.now())
            return {"Article": render(company, changed, request)}

    @router.delete("/{number}", status_code=204)
    def delete_article(number: str, request: Request, company: TenantCompany) -> Response:
        with fortnox_state(request).lock:
            find_article(company, number)
            company.remove(TABLE, number)
            prices.remove_article_rows(company, number)
        return Response(status_code=204)

    return router
