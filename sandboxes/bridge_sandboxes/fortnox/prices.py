"""Price lists and prices, /3/pricelists and /3/prices (fact sheet §5.2; scope `price`).

Every article gets a base row (FromQuantity 0) in each price list when it is created, and in each article
when a list is created [?: the fact sheet says "in each price list when it is created"; rows for lists created
later are the sandbox's reading]. The article's read-only SalesPrice is the base row of the pre-selected list.

[?] Decided by the sandbox: a price row for an unknown article is 2001302 (article used in the request not
found); an unknown row is 404 errors.PRICE_NOT_FOUND, an unknown list 404 errors.PRICE_LIST_NOT_FOUND, a
duplicate row or list 400 errors.ALREADY_EXISTS; a PUT may not change ArticleNumber, PriceList or FromQuantity
(they address the row); `Date` (read-only, CS) is the Stockholm date of the last change; Percent defaults to 0;
the base row (FromQuantity 0) cannot be deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import (
    ALREADY_EXISTS,
    ARTICLE_IN_REQUEST_NOT_FOUND,
    INVALID_FIELD_NAME,
    INVALID_VALUE,
    PRICE_LIST_NOT_FOUND,
    PRICE_NOT_FOUND,
    READ_ONLY_FIELD,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company
from bridge_sandboxes.fortnox.wire import (
    FortnoxRouter,
    JsonBody,
    as_text,
    changed_since,
    page_of,
    paginate,
    resource_url,
    stockholm_date,
    to_number,
    unwrap,
)

LISTS = "pricelists"
PRICES = "prices"
ZERO = Decimal(0)

TenantCompany = Annotated[Company, Depends(company_for("price"))]


def price_key(price_list: str, article: str, from_quantity: Decimal) -> str:
    return f"{price_list}|{article}|{as_text(from_quantity)}"


def preselected_list(company: Company) -> str | None:
    for code, record in company.table(LISTS).items():
        if record.get("PreSelected"):
            return code
    return None


def add_price_list(company: Company, code: str, description: str, at: Any, *, preselected: bool = False) -> None:
    """A new list, with a base row for every existing article."""
    company.save(
        LISTS, code, {"Code": code, "Description": description, "Comments": "", "PreSelected": preselected}, at
    )
    for article in company.table("articles"):
        _save_row(company, code, article, ZERO, ZERO, ZERO, at)


def _save_row(
    company: Company, price_list: str, article: str, from_quantity: Decimal, price: Decimal, percent: Decimal, at: Any
) -> dict[str, Any]:
    record = {
        "ArticleNumber": article,
        "PriceList": price_list,
        "FromQuantity": from_quantity,
        "Price": price,
        "Percent": percent,
        "Date": stockholm_date(at),
    }
    return company.save(PRICES, price_key(price_list, article, from_quantity), record, at)


def create_base_rows(company: Company, article: str, price: Decimal | None, at: Any) -> None:
    """The FromQuantity 0 rows a new article gets (§5.2); `price` goes into the pre-selected list."""
    selected = preselected_list(company)
    for code in company.table(LISTS):
        base = price if price is not None and code == selected else ZERO
        _save_row(company, code, article, ZERO, base, ZERO, at)


def sales_price(company: Company, article: str) -> Decimal:
    selected = preselected_list(company)
    row = company.table(PRICES).get(price_key(selected, article, ZERO)) if selected else None
    return row["Price"] if row else ZERO


def remove_article_rows(company: Company, article: str) -> None:
    for key in [k for k, row in company.table(PRICES).items() if row["ArticleNumber"] == article]:
        company.remove(PRICES, key)


def _render_row(row: dict[str, Any], request: Request) -> dict[str, Any]:
    path = f"prices/{row['PriceList']}/{row['ArticleNumber']}/{as_text(row['FromQuantity'])}"
    return {"@url": resource_url(request, path), **row}


def _render_list(record: dict[str, Any], request: Request) -> dict[str, Any]:
    return {"@url": resource_url(request, f"pricelists/{record['Code']}"), **record}


def _price_list(company: Company, code: str) -> dict[str, Any]:
    record = company.table(LISTS).get(code)
    if record is None:
        raise FortnoxApiError(404, PRICE_LIST_NOT_FOUND, f"Kunde inte hitta prislista ({code})")
    return record


def _row(company: Company, price_list: str, article: str, from_quantity: Decimal) -> dict[str, Any]:
    _price_list(company, price_list)
    row = company.table(PRICES).get(price_key(price_list, article, from_quantity))
    if row is None:
        raise FortnoxApiError(404, PRICE_NOT_FOUND, "Kunde inte hitta pris")
    return row


def _check_fields(fields: dict[str, Any], allowed: set[str]) -> None:
    for name in fields:
        if name in ("@url", "Date"):
            raise FortnoxApiError(400, READ_ONLY_FIELD, f"Felaktigt fältnamn ({name}). Fältet är skrivskyddat.")
        if name not in allowed:
            raise FortnoxApiError(400, INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")


def prices_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3", tags=["prices"])

    @router.get("/pricelists")
    def list_price_lists(request: Request, company: TenantCompany) -> dict[str, Any]:
        params = dict(request.query_params)
        with fortnox_state(request).lock:
            is_changed = changed_since(company, LISTS, params)
            records = [_render_list(r, request) for k, r in sorted(company.table(LISTS).items()) if is_changed(k)]
        shown, meta = paginate(records, page_of(params))
        return {"MetaInformation": meta, "PriceLists": shown}

    @router.get("/pricelists/{code}")
    def get_price_list(code: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"PriceList": _render_list(_price_list(company, code), request)}

    @router.post("/pricelists", status_code=201)
    def post_price_list(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        fields = unwrap(body, "PriceList")
        _check_fields(fields, {"Code", "Description", "Comments"})
        code, description = fields.get("Code"), fields.get("Description", "")
        if not isinstance(code, str) or not code or not isinstance(description, str) or len(description) > 50:
            raise FortnoxApiError(400, INVALID_VALUE, "Ogiltig prislista (Code och Description).")
        state = fortnox_state(request)
        with state.lock:
            if code in company.table(LISTS):
                raise FortnoxApiError(400, ALREADY_EXISTS, f"Prislistan {code} finns redan.")
            add_price_list(company, code, description, state.now())
            company.table(LISTS)[code]["Comments"] = str(fields.get("Comments") or "")
            return {"PriceList": _render_list(company.table(LISTS)[code], request)}

    @router.put("/pricelists/{code}")
    def put_price_list(code: str, request: Request, body: JsonBody, company: TenantCompany) -> dict[str, Any]:
        fields = unwrap(body, "PriceList")
        _check_fields(fields, {"Code", "Description", "Comments", "PreSelected"})
        if "PreSelected" in fields:  # read-only per CS (§5.2)
            raise FortnoxApiError(400, READ_ONLY_FIELD, "Felaktigt fältnamn (PreSelected). Fältet är skrivskyddat.")
        state = fortnox_state(request)
        with state.lock:
            record = dict(_price_list(company, code))
            if fields.get("Code", code) != code:
                raise FortnoxApiError(400, INVALID_VALUE, "Prislistans kod kan inte ändras.")
            for name in ("Description", "Comments"):
                if name in fields:
                    record[name] = str(fields[name] or "")
            company.save(LISTS, code, record, state.now())
            return {"PriceList": _render_list(record, request)}

    @router.get("/prices/sublist/{price_list}/{article}")
    def list_article_prices(price_list: str, article: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        params = dict(request.query_params)
        with fortnox_state(request).lock:
            _price_list(company, price_list)
            rows = [
                _render_row(row, request)
                for row in company.table(PRICES).values()
                if row["PriceList"] == price_list and row["ArticleNumber"] == article
            ]
        rows.sort(key=lambda row: row["FromQuantity"])
        shown, meta = paginate(rows, page_of(params))
        return {"MetaInformation": meta, "Prices": shown}

    @router.get("/prices")
    def list_prices(request: Request, company: TenantCompany) -> dict[str, Any]:
        """[?] Not in the fact sheet's list: every row, for `lastmodified` polling of prices (§7.1)."""
        params = dict(request.query_params)
        with fortnox_state(request).lock:
            is_changed = changed_since(company, PRICES, params)
            rows = [_render_row(row, request) for key, row in sorted(company.table(PRICES).items()) if is_changed(key)]
        shown, meta = paginate(rows, page_of(params))
        return {"MetaInformation": meta, "Prices": shown}

    @router.get("/prices/{price_list}/{article}")
    @router.get("/prices/{price_list}/{article}/{from_quantity}")
    def get_price(
        price_list: str, article: str, request: Request, company: TenantCompany, from_quantity: str = "0"
    ) -> dict[str, Any]:
        quantity = to_number(from_quantity, "FromQuantity")
        with fortnox_state(request).lock:
            return {"Price": _render_row(_row(company, price_list, article, quantity), request)}

    @router.put("/prices/{price_list}/{article}")
    @router.put("/prices/{price_list}/{article}/{from_quantity}")
    def put_price(
        price_list: str,
        article: str,
        request: Request,
        body: JsonBody,
        company: TenantCompany,
        from_quantity: str = "0",
    ) -> dict[str, Any]:
        quantity = to_number(from_quantity, "FromQuantity")
        fields = unwrap(body, "Price")
        _check_fields(fields, {"ArticleNumber", "PriceList", "FromQuantity", "Price", "Percent"})
        state = fortnox_state(request)
        with state.lock:
            row = _row(company, price_list, article, quantity)
            if (
                fields.get("ArticleNumber", article) != article
                or fields.get("PriceList", price_list) != price_list
                or to_number(fields.get("FromQuantity", quantity), "FromQuantity") != quantity
            ):
                raise FortnoxApiError(400, INVALID_VALUE, "ArticleNumber, PriceList och FromQuantity kan inte ändras.")
            price = to_number(fields["Price"], "Price") if "Price" in fields else row["Price"]
            percent = to_number(fields["Percent"], "Percent") if "Percent" in fields else row["Percent"]
            saved = _save_row(company, price_list, article, quantity, price, percent, state.now())
            return {"Price": _render_row(saved, request)}

    @router.post("/prices", status_code=201)
    def post_price(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        fields = unwrap(body, "Price")
        _check_fields(fields, {"ArticleNumber", "PriceList", "FromQuantity", "Price", "Percent"})
        article, price_list = fields.get("ArticleNumber"), fields.get("PriceList")
        if not isinstance(article, str) or not isinstance(price_list, str):
            raise FortnoxApiError(400, INVALID_VALUE, "ArticleNumber och PriceList måste anges.")
        quantity = to_number(fields.get("FromQuantity", 0), "FromQuantity")
        price = to_number(fields.get("Price", 0), "Price")
        percent = to_number(fields.get("Percent", 0), "Percent")
        state = fortnox_state(request)
        with state.lock:
            _price_list(company, price_list)
            if article not in company.table("articles"):
                raise FortnoxApiError(400, ARTICLE_IN_REQUEST_NOT_FOUND, f"Kunde inte hitta artikel ({article})")
            if price_key(price_list, article, quantity) in company.table(PRICES):
                raise FortnoxApiError(400, ALREADY_EXISTS, "Priset finns redan.")
            saved = _save_row(company, price_list, article, quantity, price, percent, state.now())
            return {"Price": _render_row(saved, request)}

    @router.delete("/prices/{price_list}/{article}/{from_quantity}", status_code=204)
    def delete_price(
        price_list: str, article: str, from_quantity: str, request: Request, company: TenantCompany
    ) -> Response:
        quantity = to_number(from_quantity, "FromQuantity")
        with fortnox_state(request).lock:
            _row(company, price_list, article, quantity)
            if quantity == ZERO:
                raise FortnoxApiError(400, INVALID_VALUE, "Grundpriset kan inte tas bort.")
            company.remove(PRICES, price_key(price_list, article, quantity))
        return Response(status_code=204)

    return router
