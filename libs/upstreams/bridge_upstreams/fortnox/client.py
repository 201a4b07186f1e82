"""The Fortnox REST API v3 calls Bridge makes, one method each (fortnox-api.md §4-§6).

`FortnoxClient` maps JSON to light frozen dataclasses and back and decides nothing: the services' adapters
wrap it behind their ports. Conventions:

- every method takes the tenant first; the transport spends that tenant's budget and token;
- reads are safe to repeat (retried on 429/5xx/timeouts); creates are not (after `OutcomeUnknown` the
  caller looks its record up by its own key before writing again); PUTs that set absolute values are
  marked safe where the repeat cannot change the outcome;
- `get_*`/`find_*` answer None for a 404; actions on an entity that does not exist raise `NotFound`;
  any other 4xx is `UpstreamRejected` with a plain-English message and hint (`errors.py`); a 5xx the
  transport gave back is `UpstreamUnavailable` (or `OutcomeUnknown` for an unsafe write); an answer
  that cannot be read is the same, never a crash;
- money and quantities are `Decimal`, parsed from JSON numbers (never through float) or from the
  numeric strings Fortnox often answers with; request bodies carry Decimals as exact JSON numbers;
- searches match substrings (`articlenumber=A100` also finds `A1001`): every `find_*` compares exactly
  on the client side, across all result pages.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from bridge_platform.errors import NotFound
from bridge_upstreams.fortnox.errors import UPSTREAM, error_for, unreadable
from bridge_upstreams.transport import UpstreamTransport

STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
MAX_PAGE_SIZE: Final = 500
JSON_HEADERS: Final = {"Accept": "application/json", "Content-Type": "application/json"}
PDF_HEADERS: Final = {"Accept": "application/pdf, */*"}

T = TypeVar("T")
Json = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------
# Lenient readers: Fortnox answers numbers as numbers or strings, and "" where you would expect null (§4).


def decimal_of(value: Any) -> Decimal | None:
    """A JSON number or numeric string as an exact Decimal; None for null, "" or anything unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # only if a caller parsed with floats; go through repr, never arithmetic
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace(",", ".")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def text_of(value: Any) -> str | None:
    """A string field: None for null and ""; numbers (CustomerNumber may come as one) as text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, str):
        return value if value != "" else None
    return None


def bool_of(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    return None


def int_of(value: Any) -> int | None:
    number = decimal_of(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


_MARK: Final = f"@@bridge-decimal-{uuid.uuid4().hex}@@"
_MARKED: Final = re.compile('"' + re.escape(_MARK) + r"(-?[0-9]+(?:\.[0-9]+)?)" + re.escape(_MARK) + '"')


def _mark_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a non-finite Decimal cannot be sent to Fortnox")
        return f"{_MARK}{value:f}{_MARK}"
    if isinstance(value, Mapping):
        return {key: _mark_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_decimals(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def dumps(body: Any) -> bytes:
    """JSON with every Decimal written as an exact JSON number (json.dumps alone would need floats)."""
    text = json.dumps(_mark_decimals(body), ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(lambda match: match.group(1), text).encode()


def stockholm_time(moment: datetime) -> str:
    """`lastmodified` as Fortnox reads it: Europe/Stockholm local time, `YYYY-MM-DD HH:MM:SS` (§4, §7.1)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("lastmodified needs an aware datetime")
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


def _segment(value: str | int) -> str:
    text = str(value)
    if not text:
        raise ValueError("an empty identifier cannot be put in a Fortnox URL")
    return quote(text, safe="")


# ---------------------------------------------------------------------------------------------------------
# What Bridge reads. `raw` keeps the whole record (with Decimals) for fields not mapped here.


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    current_page: int
    total_pages: int
    total_resources: int


@dataclass(frozen=True)
class CompanyInformation:
    name: str | None
    organisation_number: str | None
    database_number: str | None  # = the tenantId (§1.4)
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class Article:
    number: str
    description: str | None
    active: bool | None
    unit: str | None
    ean: str | None
    vat: Decimal | None
    sales_price: Decimal | None  # read-only: the base price in the pre-selected list (§5.1)
    purchase_price: Decimal | None
    quantity_in_stock: Decimal | None
    reserved_quantity: Decimal | None
    disposable_quantity: Decimal | None
    stock_goods: bool | None
    type: str | None
    webshop_article: bool | None
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class PriceList:
    code: str
    description: str | None
    preselected: bool


@dataclass(frozen=True)
class Price:
    price_list: str
    article_number: str
    from_quantity: Decimal
    price: Decimal | None
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class Unit:
    code: str
    description: str | None


@dataclass(frozen=True)
class Currency:
    code: str
    description: str | None
    sell_rate: Decimal | None
    buy_rate: Decimal | None
    unit: Decimal | None


@dataclass(frozen=True)
class Customer:
    number: str
    name: str | None
    email: str | None
    organisation_number: str | None
    type: str | None
    vat_type: str | None
    vat_number: str | None
    country_code: str | None
    currency: str | None
    active: bool | None
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class DocumentRow:
    row_id: str | None
    article_number: str | None
    description: str | None
    ordered_quantity: Decimal | None  # orders only
    delivered_quantity: Decimal | None
    price: Decimal | None
    vat: Decimal | None
    total: Decimal | None
    unit: str | None
    account_number: int | None = None


@dataclass(frozen=True)
class Order:
    number: str
    customer_number: str | None
    external_invoice_reference1: str | None
    your_order_number: str | None
    currency: str | None
    vat_included: bool | None
    cancelled: bool | None
    invoice_reference: str | None  # "0" or "" in Fortnox until invoiced; None here
    total: Decimal | None
    total_vat: Decimal | None
    round_off: Decimal | None
    freight: Decimal | None
    freight_vat: Decimal | None
    rows: tuple[DocumentRow, ...]
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class Invoice:
    number: str
    customer_number: str | None
    external_invoice_reference1: str | None
    order_reference: str | None
    currency: str | None
    vat_included: bool | None
    booked: bool | None
    cancelled: bool | None
    sent: bool | None
    credit: bool | None
    credit_invoice_reference: str | None
    balance: Decimal | None
    total: Decimal | None
    total_vat: Decimal | None
    round_off: Decimal | None
    rows: tuple[DocumentRow, ...]
    raw: Json = field(repr=False)
    freight: Decimal | None = None


@dataclass(frozen=True)
class InvoicePayment:
    number: str
    invoice_number: str | None
    amount: Decimal | None
    booked: bool | None
    payment_date: str | None
    mode_of_payment: str | None
    raw: Json = field(repr=False)


@dataclass(frozen=True)
class ModeOfPayment:
    code: str
    description: str | None
    account_number: str | None


@dataclass(frozen=True)
class StockBalance:
    item_id: str
    stock_point_code: str | None
    in_stock: Decimal | None
    available_stock: Decimal | None


@dataclass(frozen=True)
class StockPoint:
    id: str
    code: str
    name: str | None
    active: bool | None
    stock_location_ids: tuple[str, ...]


@dataclass(frozen=True)
class StockTaking:
    id: str
    state: str | None
    raw: Json = field(repr=False)


def _article(record: Json) -> Article:
    return Article(
        number=text_of(record.get("ArticleNumber")) or "",
        description=text_of(record.get("Description")),
        active=bool_of(record.get("Active")),
        unit=text_of(record.get("Unit")),
        ean=text_of(record.get("EAN")),
        vat=decimal_of(record.get("VAT")),
        sales_price=decimal_of(record.get("SalesPrice")),
        purchase_price=decimal_of(record.get("PurchasePrice")),
        quantity_in_stock=decimal_of(record.get("QuantityInStock")),
        reserved_quantity=decimal_of(record.get("ReservedQuantity")),
        disposable_quantity=decimal_of(record.get("DisposableQuantity")),
        stock_goods=bool_of(record.get("StockGoods")),
        type=text_of(record.get("Type")),
        webshop_article=bool_of(record.get("WebshopArticle")),
        raw=record,
    )


def _price(record: Json) -> Price:
    return Price(
        price_list=text_of(record.get("PriceList")) or "",
        article_number=text_of(record.get("ArticleNumber")) or "",
        from_quantity=decimal_of(record.get("FromQuantity")) or Decimal(0),
        price=decimal_of(record.get("Price")),
        raw=record,
    )


def _customer(record: Json) -> Customer:
    return Customer(
        number=text_of(record.get("CustomerNumber")) or "",
        name=text_of(record.get("Name")),
        email=text_of(record.get("Email")),
        organisation_number=text_of(record.get("OrganisationNumber")),
        type=text_of(record.get("Type")),
        vat_type=text_of(record.get("VATType")),
        vat_number=text_of(record.get("VATNumber")),
        country_code=text_of(record.get("CountryCode")),
        currency=text_of(record.get("Currency")),
        active=bool_of(record.get("Active")),
        raw=record,
    )


def _rows(records: Any) -> tuple[DocumentRow, ...]:
    if not isinstance(records, list):
        return ()
    return tuple(
        DocumentRow(
            row_id=text_of(row.get("RowId")),
            article_number=text_of(row.get("ArticleNumber")),
            description=text_of(row.get("Description")),
            ordered_quantity=decimal_of(row.get("OrderedQuantity")),
            delivered_quantity=decimal_of(row.get("DeliveredQuantity")),
            price=decimal_of(row.get("Price")),
            vat=decimal_of(row.get("VAT")),
            total=decimal_of(row.get("Total")),
            unit=text_of(row.get("Unit")),
            account_number=int_of(row.get("AccountNumber")) or None,
        )
        for row in records
        if isinstance(row, dict)
    )


def _reference(value: Any) -> str | None:
    """A document reference: Fortnox writes "0" (or "", or 0) for none."""
    text = text_of(value)
    return None if text in (None, "0") else text


def _order(record: Json) -> Order:
    return Order(
        number=text_of(record.get("DocumentNumber")) or "",
        customer_number=text_of(record.get("CustomerNumber")),
        external_invoice_reference1=text_of(record.get("ExternalInvoiceReference1")),
        your_order_number=text_of(record.get("YourOrderNumber")),
        currency=text_of(record.get("Currency")),
        vat_included=bool_of(record.get("VATIncluded")),
        cancelled=bool_of(record.get("Cancelled")),
        invoice_reference=_reference(record.get("InvoiceReference")),
        total=decimal_of(record.get("Total")),
        total_vat=decimal_of(record.get("TotalVAT")),
        round_off=decimal_of(record.get("RoundOff")),
        freight=decimal_of(record.get("Freight")),
        freight_vat=decimal_of(record.get("FreightVAT")),
        rows=_rows(record.get("OrderRows")),
        raw=record,
    )


def _invoice(record: Json) -> Invoice:
    return Invoice(
        number=text_of(record.get("DocumentNumber")) or "",
        customer_number=text_of(record.get("CustomerNumber")),
        external_invoice_reference1=text_of(record.get("ExternalInvoiceReference1")),
        order_reference=_reference(record.get("OrderReference")),
        currency=text_of(record.get("Currency")),
        vat_included=bool_of(record.get("VATIncluded")),
        booked=bool_of(record.get("Booked")),
        cancelled=bool_of(record.get("Cancelled")),
        sent=bool_of(record.get("Sent")),
        credit=bool_of(record.get("Credit")),
        credit_invoice_reference=_reference(record.get("CreditInvoiceReference")),
        balance=decimal_of(record.get("Balance")),
        total=decimal_of(record.get("Total")),
        total_vat=decimal_of(record.get("TotalVAT")),
        round_off=decimal_of(record.get("RoundOff")),
        rows=_rows(record.get("InvoiceRows")),
        raw=record,
        freight=decimal_of(record.get("Freight")),
    )


def _payment(record: Json) -> InvoicePayment:
    return InvoicePayment(
        number=text_of(record.get("Number")) or "",
        invoice_number=text_of(record.get("InvoiceNumber")),
        amount=decimal_of(record.get("Amount")),
        booked=bool_of(record.get("Booked")),
        payment_date=text_of(record.get("PaymentDate")),
        mode_of_payment=text_of(record.get("ModeOfPayment")),
        raw=record,
    )


def _same_text(left: str | None, right: str) -> bool:
    return left is not None and left == right


def _same_email(left: str | None, right: str) -> bool:
    return left is not None and left.strip().casefold() == right.strip().casefold()


def _organisation_key(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


# ---------------------------------------------------------------------------------------------------------


class FortnoxClient:
    """Fortnox REST API v3 over an `UpstreamTransport` (`api_url`: `https://api.fortnox.se`)."""

    def __init__(self, transport: UpstreamTransport, api_url: str) -> None:
        self._transport = transport
        self._api_url = api_url.rstrip("/")

    # -- plumbing ----------------------------------------------------------------------------------------

    def _send(
        self,
        tenant_id: str,
        method: str,
        path: str,
        *,
        action: str,
        safe_to_repeat: bool,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        accept_pdf: bool = False,
        missing_ok: bool = False,
    ) -> httpx.Response | None:
        """One call; a 2xx response, None for a 404 when `missing_ok`, else the translated error."""
        headers = PDF_HEADERS if accept_pdf else JSON_HEADERS
        response = self._transport.send(
            tenant_id,
            method,
            f"{self._api_url}{path}",
            safe_to_repeat=safe_to_repeat,
            params=params,
            headers=headers,
            content=dumps(body) if body is not None else None,
        )
        if response.is_success:
            return response
        if response.status_code == 404:
            if missing_ok:
                return None
            error = error_for(response, action, safe_to_repeat=safe_to_repeat)
            raise NotFound(error.detail)
        raise error_for(response, action, safe_to_repeat=safe_to_repeat)

    def _json(
        self,
        tenant_id: str,
        method: str,
        path: str,
        *,
        action: str,
        safe_to_repeat: bool,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The parsed JSON body (numbers as Decimal/int), None for a tolerated 404."""
        response = self._send(
            tenant_id,
            method,
            path,
            action=action,
            safe_to_repeat=safe_to_repeat,
            body=body,
            params=params,
            missing_ok=missing_ok,
        )
        if response is None:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal) if response.content.strip() else {}
        except (ValueError, UnicodeDecodeError) as error:
            raise unreadable(action, "not JSON", safe_to_repeat=safe_to_repeat) from error

    def _record(
        self,
        tenant_id: str,
        method: str,
        path: str,
        key: str,
        *,
        action: str,
        safe_to_repeat: bool,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Json | None:
        """`{key: {...}}` -> the inner record."""
        answer = self._json(
            tenant_id,
            method,
            path,
            action=action,
            safe_to_repeat=safe_to_repeat,
            body=body,
            params=params,
            missing_ok=missing_ok,
        )
        if answer is None:
            return None
        record = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(record, dict):
            raise unreadable(action, f"no {key} object", safe_to_repeat=safe_to_repeat)
        return record

    def _page(self, tenant_id: str, path: str, key: str, params: Mapping[str, str], *, action: str) -> Page[Json]:
        answer = self._json(tenant_id, "GET", path, action=action, safe_to_repeat=True, params=params)
        records = answer.get(key) if isinstance(answer, dict) else None
        if records is None and isinstance(answer, dict) and "MetaInformation" in answer:
            records = []
        if not isinstance(records, list):
            raise unreadable(action, f"no {key} list", safe_to_repeat=True)
        meta = answer.get("MetaInformation") if isinstance(answer, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        current = int_of(meta.get("@CurrentPage")) or int(params.get("page", "1"))
        total_pages = int_of(meta.get("@TotalPages"))
        total = int_of(meta.get("@TotalResources"))
        return Page(
            items=[record for record in records if isinstance(record, dict)],
            current_page=current,
            total_pages=total_pages if total_pages is not None else current,
            total_resources=total if total is not None else len(records),
        )

    def _iterate(
        self,
        tenant_id: str,
        path: str,
        key: str,
        params: Mapping[str, str],
        *,
        action: str,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Json]:
        """Every record of a list, page by page (memory flat in the number of records)."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        page_number = 1
        while True:
            page = self._page(
                tenant_id,
                path,
                key,
                {**params, "limit": str(page_size), "page": str(page_number)},
                action=action,
            )
            yield from page.items
            if not page.items or page.current_page >= page.total_pages:
                return
            page_number = page.current_page + 1

    # -- company -----------------------------------------------------------------------------------------

    def company_information(self, tenant_id: str) -> CompanyInformation:
        action = "read the company information"
        record = self._record(
            tenant_id, "GET", "/3/companyinformation", "CompanyInformation", action=action, safe_to_repeat=True
        )
        assert record is not None
        return CompanyInformation(
            name=text_of(record.get("CompanyName")),
            organisation_number=text_of(record.get("OrganizationNumber") or record.get("OrganisationNumber")),
            database_number=text_of(record.get("DatabaseNumber")),
            raw=record,
        )

    # -- articles ----------------------------------------------------------------------------------------

    def get_article(self, tenant_id: str, number: str) -> Article | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/articles/{_segment(number)}",
            "Article",
            action=f"read article {number}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return _article(record) if record is not None else None

    def create_article(self, tenant_id: str, fields: Mapping[str, Any]) -> Article:
        """POST /3/articles with the given PascalCase fields (never SalesPrice: set prices via /3/prices)."""
        number = fields.get("ArticleNumber")
        action = f"create article {number}" if number else "create an article"
        record = self._record(
            tenant_id, "POST", "/3/articles", "Article", action=action, safe_to_repeat=False, body={"Article": fields}
        )
        assert record is not None
        return _article(record)

    def update_article(
        self, tenant_id: str, number: str, fields: Mapping[str, Any], *, safe_to_repeat: bool = True
    ) -> Article:
        """PUT /3/articles/{number}: a partial update; fields left out stay as they are (§5.1)."""
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/articles/{_segment(number)}",
            "Article",
            action=f"update article {number}",
            safe_to_repeat=safe_to_repeat,
            body={"Article": fields},
        )
        assert record is not None
        return _article(record)

    def delete_article(self, tenant_id: str, number: str) -> bool:
        """DELETE /3/articles/{number}; False when it was already gone."""
        response = self._send(
            tenant_id,
            "DELETE",
            f"/3/articles/{_segment(number)}",
            action=f"delete article {number}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return response is not None

    def articles_page(
        self,
        tenant_id: str,
        page: int = 1,
        *,
        page_size: int = MAX_PAGE_SIZE,
        active: bool | None = None,
        changed_since: datetime | None = None,
    ) -> Page[Article]:
        params = self._article_params(active, changed_since)
        raw = self._page(
            tenant_id,
            "/3/articles",
            "Articles",
            {**params, "limit": str(page_size), "page": str(page)},
            action="list articles",
        )
        return Page([_article(r) for r in raw.items], raw.current_page, raw.total_pages, raw.total_resources)

    def iter_articles(
        self,
        tenant_id: str,
        *,
        active: bool | None = None,
        changed_since: datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Article]:
        """Every article (list fields only; GET one for the rest), optionally only active/inactive ones
        and/or those changed since an aware datetime (`lastmodified`, Stockholm time)."""
        params = self._article_params(active, changed_since)
        for record in self._iterate(
            tenant_id, "/3/articles", "Articles", params, action="list articles", page_size=page_size
        ):
            yield _article(record)

    def articles_changed_since(self, tenant_id: str, since: datetime) -> Iterator[Article]:
        return self.iter_articles(tenant_id, changed_since=since)

    @staticmethod
    def _article_params(active: bool | None, changed_since: datetime | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if active is not None:
            params["filter"] = "active" if active else "inactive"
        if changed_since is not None:
            params["lastmodified"] = stockholm_time(changed_since)
        return params

    def find_article(self, tenant_id: str, number: str) -> Article | None:
        """The article whose ArticleNumber is exactly `number` (the search matches substrings)."""
        for record in self._iterate(
            tenant_id, "/3/articles", "Articles", {"articlenumber": number}, action=f"search article {number}"
        ):
            if _same_text(text_of(record.get("ArticleNumber")), number):
                return _article(record)
        return None

    # -- prices ------------------------------------------------------------------------------------------

    def price_lists(self, tenant_id: str) -> list[PriceList]:
        return [
            PriceList(
                code=text_of(r.get("Code")) or "",
                description=text_of(r.get("Description")),
                preselected=bool_of(r.get("PreSelected")) is True,
            )
            for r in self._iterate(tenant_id, "/3/pricelists", "PriceLists", {}, action="list price lists")
        ]

    def preselected_price_list(self, tenant_id: str) -> PriceList | None:
        """The price list new documents use (normally `A`), or None when none is marked."""
        return next((price_list for price_list in self.price_lists(tenant_id) if price_list.preselected), None)

    def get_price(
        self, tenant_id: str, price_list: str, article_number: str, from_quantity: Decimal | int = 0
    ) -> Price | None:
        path = f"/3/prices/{_segment(price_list)}/{_segment(article_number)}/{_segment(f'{Decimal(from_quantity):f}')}"
        record = self._record(
            tenant_id,
            "GET",
            path,
            "Price",
            action=f"read the price of {article_number} in price list {price_list}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return _price(record) if record is not None else None

    def create_price(
        self, tenant_id: str, price_list: str, article_number: str, price: Decimal, from_quantity: Decimal | int = 0
    ) -> Price:
        body = {
            "Price": {
                "ArticleNumber": article_number,
                "PriceList": price_list,
                "FromQuantity": Decimal(from_quantity),
                "Price": price,
            }
        }
        record = self._record(
            tenant_id,
            "POST",
            "/3/prices",
            "Price",
            action=f"create the price of {article_number} in price list {price_list}",
            safe_to_repeat=False,
            body=body,
        )
        assert record is not None
        return _price(record)

    def update_price(
        self, tenant_id: str, price_list: str, article_number: str, price: Decimal, from_quantity: Decimal | int = 0
    ) -> Price:
        """PUT /3/prices/{list}/{article}/{from}: sets the price absolutely (safe to repeat)."""
        path = f"/3/prices/{_segment(price_list)}/{_segment(article_number)}/{_segment(f'{Decimal(from_quantity):f}')}"
        body = {"Price": {"ArticleNumber": article_number, "PriceList": price_list, "Price": price}}
        record = self._record(
            tenant_id,
            "PUT",
            path,
            "Price",
            action=f"set the price of {article_number} in price list {price_list}",
            safe_to_repeat=True,
            body=body,
        )
        assert record is not None
        return _price(record)

    # -- units, currencies, modes of payment -------------------------------------------------------------

    def get_unit(self, tenant_id: str, code: str) -> Unit | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/units/{_segment(code)}",
            "Unit",
            action=f"read unit {code}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return Unit(text_of(record.get("Code")) or code, text_of(record.get("Description"))) if record else None

    def create_unit(self, tenant_id: str, code: str, description: str) -> Unit:
        record = self._record(
            tenant_id,
            "POST",
            "/3/units",
            "Unit",
            action=f"create unit {code}",
            safe_to_repeat=False,
            body={"Unit": {"Code": code, "Description": description}},
        )
        assert record is not None
        return Unit(text_of(record.get("Code")) or code, text_of(record.get("Description")))

    def get_currency(self, tenant_id: str, code: str) -> Currency | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/currencies/{_segment(code)}",
            "Currency",
            action=f"read currency {code}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        if record is None:
            return None
        return Currency(
            code=text_of(record.get("Code")) or code,
            description=text_of(record.get("Description")),
            sell_rate=decimal_of(record.get("SellRate")),
            buy_rate=decimal_of(record.get("BuyRate")),
            unit=decimal_of(record.get("Unit")),
        )

    def modes_of_payment(self, tenant_id: str) -> list[ModeOfPayment]:
        return [
            ModeOfPayment(
                code=text_of(r.get("Code")) or "",
                description=text_of(r.get("Description")),
                account_number=text_of(r.get("AccountNumber")),
            )
            for r in self._iterate(
                tenant_id, "/3/modesofpayments", "ModesOfPayments", {}, action="list modes of payment"
            )
        ]

    # -- customers ---------------------------------------------------------------------------------------

    def get_customer(self, tenant_id: str, number: str) -> Customer | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/customers/{_segment(number)}",
            "Customer",
            action=f"read customer {number}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return _customer(record) if record is not None else None

    def find_customer_by_email(self, tenant_id: str, email: str) -> Customer | None:
        """The first customer whose Email equals `email` (ignoring case: e-mail domains are case-blind
        and shops lower-case inconsistently), after the substring search `email=`."""
        return self._find_customer(tenant_id, "email", "Email", email, _same_email)

    def find_customer_by_organisation_number(self, tenant_id: str, organisation_number: str) -> Customer | None:
        """The first customer whose OrganisationNumber equals `organisation_number`, ignoring separators
        (`556677-8899` = `5566778899`)."""
        wanted = _organisation_key(organisation_number)

        def same(value: str | None, _: str) -> bool:
            return value is not None and _organisation_key(value) == wanted

        return self._find_customer(tenant_id, "organisationnumber", "OrganisationNumber", organisation_number, same)

    def _find_customer(self, tenant_id: str, param: str, key: str, value: str, same: Any) -> Customer | None:
        for record in self._iterate(
            tenant_id, "/3/customers", "Customers", {param: value}, action=f"search customers by {param}"
        ):
            if key in record:
                if same(text_of(record.get(key)), value):
                    return self.get_customer(tenant_id, text_of(record.get("CustomerNumber")) or "")
                continue
            number = text_of(record.get("CustomerNumber"))  # list items lack the field: read the record
            full = self.get_customer(tenant_id, number) if number else None
            if full is not None and same(text_of(full.raw.get(key)), value):
                return full
        return None

    def create_customer(self, tenant_id: str, fields: Mapping[str, Any]) -> Customer:
        record = self._record(
            tenant_id,
            "POST",
            "/3/customers",
            "Customer",
            action="create a customer",
            safe_to_repeat=False,
            body={"Customer": fields},
        )
        assert record is not None
        return _customer(record)

    def update_customer(
        self, tenant_id: str, number: str, fields: Mapping[str, Any], *, safe_to_repeat: bool = True
    ) -> Customer:
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/customers/{_segment(number)}",
            "Customer",
            action=f"update customer {number}",
            safe_to_repeat=safe_to_repeat,
            body={"Customer": fields},
        )
        assert record is not None
        return _customer(record)

    # -- orders ------------------------------------------------------------------------------------------

    def find_order_by_external_reference(self, tenant_id: str, reference: str) -> Order | None:
        """The order whose ExternalInvoiceReference1 is exactly `reference` (full record)."""
        for record in self._iterate(
            tenant_id,
            "/3/orders",
            "Orders",
            {"externalinvoicereference1": reference},
            action="search orders by reference",
        ):
            number = text_of(record.get("DocumentNumber"))
            if "ExternalInvoiceReference1" in record and not _same_text(
                text_of(record.get("ExternalInvoiceReference1")), reference
            ):
                continue
            order = self.get_order(tenant_id, number) if number else None
            if order is not None and _same_text(order.external_invoice_reference1, reference):
                return order
        return None

    def get_order(self, tenant_id: str, number: str) -> Order | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/orders/{_segment(number)}",
            "Order",
            action=f"read order {number}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return _order(record) if record is not None else None

    def create_order(self, tenant_id: str, fields: Mapping[str, Any]) -> Order:
        """POST /3/orders; never repeated: after OutcomeUnknown, find it by ExternalInvoiceReference1."""
        body = {"Order": {"OrderRows": [], **fields}}
        record = self._record(
            tenant_id, "POST", "/3/orders", "Order", action="create the order", safe_to_repeat=False, body=body
        )
        assert record is not None
        return _order(record)

    def update_order(
        self, tenant_id: str, number: str, fields: Mapping[str, Any], *, safe_to_repeat: bool = False
    ) -> Order:
        """PUT /3/orders/{number} (RowId rules: re-read RowIds after every update, §5.5)."""
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/orders/{_segment(number)}",
            "Order",
            action=f"update order {number}",
            safe_to_repeat=safe_to_repeat,
            body={"Order": fields},
        )
        assert record is not None
        return _order(record)

    def create_invoice_from_order(self, tenant_id: str, number: str) -> str:
        """PUT /3/orders/{number}/createinvoice; the new invoice's number, whether Fortnox answers with the
        Invoice or with the Order carrying InvoiceReference (§5.5). Never repeated: after OutcomeUnknown,
        read the order's InvoiceReference."""
        action = f"create the invoice for order {number}"
        answer = self._json(
            tenant_id,
            "PUT",
            f"/3/orders/{_segment(number)}/createinvoice",
            action=action,
            safe_to_repeat=False,
        )
        if isinstance(answer, dict) and isinstance(answer.get("Invoice"), dict):
            invoice_number = text_of(answer["Invoice"].get("DocumentNumber"))
            if invoice_number:
                return invoice_number
        if isinstance(answer, dict) and isinstance(answer.get("Order"), dict):
            reference = _reference(answer["Order"].get("InvoiceReference"))
            if reference:
                return reference
            order = self.get_order(tenant_id, number)  # an Order answer without the reference: read again
            if order is not None and order.invoice_reference:
                return order.invoice_reference
        raise unreadable(action, "neither an Invoice nor an Order with InvoiceReference", safe_to_repeat=False)

    def cancel_order(self, tenant_id: str, number: str) -> Order:
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/orders/{_segment(number)}/cancel",
            "Order",
            action=f"cancel order {number}",
            safe_to_repeat=False,
        )
        assert record is not None
        return _order(record)

    # -- invoices ----------------------------------------------------------------------------------------

    def find_invoice_by_external_reference(self, tenant_id: str, reference: str) -> Invoice | None:
        """The (non-credit) invoice whose ExternalInvoiceReference1 is exactly `reference` (full record)."""
        return next((i for i in self._invoices_by_reference(tenant_id, reference) if not i.credit), None)

    def invoices_by_external_reference(self, tenant_id: str, reference: str) -> list[Invoice]:
        """Every invoice, credit invoices included, whose ExternalInvoiceReference1 is exactly `reference` (full
        records: the list view has no rows)."""
        return list(self._invoices_by_reference(tenant_id, reference))

    def _invoices_by_reference(self, tenant_id: str, reference: str) -> Iterator[Invoice]:
        """The invoices of the search, each read whole (lazily: a caller that stops early reads no more), compared
        exactly on the client since Fortnox's search matches substrings."""
        for record in self._iterate(
            tenant_id,
            "/3/invoices",
            "Invoices",
            {"externalinvoicereference1": reference},
            action="search invoices by reference",
        ):
            number = text_of(record.get("DocumentNumber"))
            if "ExternalInvoiceReference1" in record and not _same_text(
                text_of(record.get("ExternalInvoiceReference1")), reference
            ):
                continue
            invoice = self.get_invoice(tenant_id, number) if number else None
            if invoice is not None and _same_text(invoice.external_invoice_reference1, reference):
                yield invoice

    def create_invoice(self, tenant_id: str, fields: Mapping[str, Any]) -> Invoice:
        """POST /3/invoices (a direct invoice, or a credit invoice with CreditInvoiceReference); never repeated:
        after OutcomeUnknown, find it by ExternalInvoiceReference1."""
        record = self._record(
            tenant_id,
            "POST",
            "/3/invoices",
            "Invoice",
            action="create the invoice",
            safe_to_repeat=False,
            body={"Invoice": {"InvoiceRows": [], **fields}},
        )
        assert record is not None
        return _invoice(record)

    def get_invoice(self, tenant_id: str, number: str) -> Invoice | None:
        record = self._record(
            tenant_id,
            "GET",
            f"/3/invoices/{_segment(number)}",
            "Invoice",
            action=f"read invoice {number}",
            safe_to_repeat=True,
            missing_ok=True,
        )
        return _invoice(record) if record is not None else None

    def email_invoice(self, tenant_id: str, number: str) -> Invoice:
        """GET /3/invoices/{number}/email: Fortnox sends the e-mail. A GET with a side effect: NEVER
        repeated; a lost answer is OutcomeUnknown (the e-mail state becomes `unknown`)."""
        record = self._record(
            tenant_id,
            "GET",
            f"/3/invoices/{_segment(number)}/email",
            "Invoice",
            action=f"e-mail invoice {number}",
            safe_to_repeat=False,
        )
        assert record is not None
        return _invoice(record)

    def print_invoice(self, tenant_id: str, number: str) -> bytes:
        """The invoice PDF; Fortnox marks the invoice as sent (repeating it changes nothing more)."""
        return self._pdf(tenant_id, f"/3/invoices/{_segment(number)}/print", f"print invoice {number}")

    def preview_invoice(self, tenant_id: str, number: str) -> bytes:
        """The invoice PDF without marking it as sent."""
        return self._pdf(tenant_id, f"/3/invoices/{_segment(number)}/preview", f"preview invoice {number}")

    def _pdf(self, tenant_id: str, path: str, action: str) -> bytes:
        response = self._send(tenant_id, "GET", path, action=action, safe_to_repeat=True, accept_pdf=True)
        assert response is not None
        if not response.content.startswith(b"%PDF"):
            raise unreadable(action, "not a PDF", safe_to_repeat=True)
        return response.content

    def bookkeep_invoice(self, tenant_id: str, number: str) -> Invoice:
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/invoices/{_segment(number)}/bookkeep",
            "Invoice",
            action=f"bookkeep invoice {number}",
            safe_to_repeat=False,
        )
        assert record is not None
        return _invoice(record)

    def credit_invoice(self, tenant_id: str, number: str) -> str:
        """PUT /3/invoices/{number}/credit; the credit invoice's number (CreditInvoiceReference). Never
        repeated: after OutcomeUnknown, read the invoice's CreditInvoiceReference."""
        action = f"credit invoice {number}"
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/invoices/{_segment(number)}/credit",
            "Invoice",
            action=action,
            safe_to_repeat=False,
        )
        assert record is not None
        invoice = _invoice(record)
        if invoice.credit and invoice.number and invoice.number != number:
            return invoice.number  # answered with the credit invoice itself
        if invoice.credit_invoice_reference:
            return invoice.credit_invoice_reference
        raise unreadable(action, "no CreditInvoiceReference", safe_to_repeat=False)

    # -- invoice payments --------------------------------------------------------------------------------

    def create_invoice_payment(self, tenant_id: str, fields: Mapping[str, Any]) -> InvoicePayment:
        invoice_number = fields.get("InvoiceNumber")
        record = self._record(
            tenant_id,
            "POST",
            "/3/invoicepayments",
            "InvoicePayment",
            action=f"register a payment for invoice {invoice_number}",
            safe_to_repeat=False,
            body={"InvoicePayment": fields},
        )
        assert record is not None
        return _payment(record)

    def bookkeep_invoice_payment(self, tenant_id: str, number: str) -> InvoicePayment:
        record = self._record(
            tenant_id,
            "PUT",
            f"/3/invoicepayments/{_segment(number)}/bookkeep",
            "InvoicePayment",
            action=f"bookkeep invoice payment {number}",
            safe_to_repeat=False,
        )
        assert record is not None
        return _payment(record)

    def invoice_payments(self, tenant_id: str, invoice_number: str) -> list[InvoicePayment]:
        """Payments registered on an invoice (to look up before registering again)."""
        return [
            _payment(record)
            for record in self._iterate(
                tenant_id,
                "/3/invoicepayments",
                "InvoicePayments",
                {"invoicenumber": invoice_number},
                action=f"list payments of invoice {invoice_number}",
            )
            if _same_text(text_of(record.get("InvoiceNumber")), invoice_number)
        ]

    # -- warehouse (/api/warehouse, camelCase, unwrapped) ------------------------------------------------

    def warehouse_activated(self, tenant_id: str) -> bool:
        """Whether the company uses the Warehouse module (stock then moves only through documents, §6.1)."""
        action = "read whether the warehouse module is active"
        answer = self._json(tenant_id, "GET", "/api/warehouse/tenants-v4", action=action, safe_to_repeat=True)
        activated = bool_of(answer.get("activated")) if isinstance(answer, dict) else None
        if activated is None:
            raise unreadable(action, "no activated flag", safe_to_repeat=True)
        return activated

    def stock_balances(
        self, tenant_id: str, item_ids: Sequence[str], stock_point_codes: Sequence[str] = ()
    ) -> list[StockBalance]:
        """Stock per article and stock point (status-v1/stockbalance)."""
        if not item_ids:
            return []
        action = "read stock balances"
        params = {"itemIds": ",".join(item_ids)}
        if stock_point_codes:
            params["stockPointCodes"] = ",".join(stock_point_codes)
        answer = self._json(
            tenant_id, "GET", "/api/warehouse/status-v1/stockbalance", action=action, safe_to_repeat=True, params=params
        )
        rows = answer if isinstance(answer, list) else answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise unreadable(action, "no list of balances", safe_to_repeat=True)
        return [
            StockBalance(
                item_id=text_of(row.get("itemId")) or "",
                stock_point_code=text_of(row.get("stockPointCode")),
                in_stock=decimal_of(row.get("inStock")),
                available_stock=decimal_of(row.get("availableStock")),
            )
            for row in rows
            if isinstance(row, dict)
        ]

    def stock_points(self, tenant_id: str, state: str = "ACTIVE") -> list[StockPoint]:
        action = "list stock points"
        answer = self._json(
            tenant_id,
            "GET",
            "/api/warehouse/stockpoints-v1",
            action=action,
            safe_to_repeat=True,
            params={"state": state},
        )
        rows = answer if isinstance(answer, list) else answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise unreadable(action, "no list of stock points", safe_to_repeat=True)
        return [
            StockPoint(
                id=text_of(row.get("id")) or "",
                code=text_of(row.get("code")) or "",
                name=text_of(row.get("name")),
                active=bool_of(row.get("active")),
                stock_location_ids=tuple(
                    text_of(location.get("id")) or ""
                    for location in row.get("stockLocations") or []
                    if isinstance(location, dict)
                ),
            )
            for row in rows
            if isinstance(row, dict)
        ]

    def create_stock_taking(self, tenant_id: str, *, name: str, responsible: str) -> StockTaking:
        """POST stocktaking-v1 in state `planning` (the first step of setting stock absolutely, §6.2)."""
        answer = self._json(
            tenant_id,
            "POST",
            "/api/warehouse/stocktaking-v1",
            action="create a stock-taking document",
            safe_to_repeat=False,
            body={"name": name, "responsible": responsible, "state": "planning"},
        )
        return self._stock_taking(answer, "create a stock-taking document", safe_to_repeat=False)

    def get_stock_taking(self, tenant_id: str, document_id: str) -> StockTaking | None:
        action = f"read stock-taking document {document_id}"
        answer = self._json(
            tenant_id,
            "GET",
            f"/api/warehouse/stocktaking-v1/{_segment(document_id)}",
            action=action,
            safe_to_repeat=True,
            missing_ok=True,
        )
        return None if answer is None else self._stock_taking(answer, action, safe_to_repeat=True)

    def update_stock_taking(self, tenant_id: str, document_id: str, document: Mapping[str, Any]) -> StockTaking:
        """PUT stocktaking-v1/{id} with every head field (and rows with stockTakenQuantity): absolute, safe."""
        action = f"update stock-taking document {document_id}"
        answer = self._json(
            tenant_id,
            "PUT",
            f"/api/warehouse/stocktaking-v1/{_segment(document_id)}",
            action=action,
            safe_to_repeat=True,
            body=dict(document),
        )
        return self._stock_taking(answer, action, safe_to_repeat=True)

    def add_stock_taking_rows(self, tenant_id: str, document_id: str, rows: Sequence[Mapping[str, Any]]) -> Any:
        """POST stocktaking-v1/{id}/rows `[{itemId, stockPointId, stockLocationId?}]`."""
        return self._json(
            tenant_id,
            "POST",
            f"/api/warehouse/stocktaking-v1/{_segment(document_id)}/rows",
            action=f"add rows to stock-taking document {document_id}",
            safe_to_repeat=False,
            body=[dict(row) for row in rows],
        )

    def stock_taking_rows(self, tenant_id: str, document_id: str) -> list[Json]:
        action = f"read the rows of stock-taking document {document_id}"
        answer = self._json(
            tenant_id,
            "GET",
            f"/api/warehouse/stocktaking-v1/{_segment(document_id)}/rows",
            action=action,
            safe_to_repeat=True,
        )
        rows = answer if isinstance(answer, list) else answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise unreadable(action, "no list of rows", safe_to_repeat=True)
        return [row for row in rows if isinstance(row, dict)]

    def release_stock_taking(self, tenant_id: str, document_id: str) -> None:
        """PUT stocktaking-v1/{id}/release: Fortnox sets stock to the counted quantities and bookkeeps."""
        self._send(
            tenant_id,
            "PUT",
            f"/api/warehouse/stocktaking-v1/{_segment(document_id)}/release",
            action=f"release stock-taking document {document_id}",
            safe_to_repeat=False,
        )

    @staticmethod
    def _stock_taking(answer: Any, action: str, *, safe_to_repeat: bool) -> StockTaking:
        document_id = text_of(answer.get("id")) if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or document_id is None:
            raise unreadable(action, "no document id", safe_to_repeat=safe_to_repeat)
        return StockTaking(id=document_id, state=text_of(answer.get("state")), raw=answer)


__all__ = [
    "UPSTREAM",
    "Article",
    "CompanyInformation",
    "Currency",
    "Customer",
    "DocumentRow",
    "FortnoxClient",
    "Invoice",
    "InvoicePayment",
    "ModeOfPayment",
    "Order",
    "Page",
    "Price",
    "PriceList",
    "StockBalance",
    "StockPoint",
    "StockTaking",
    "Unit",
    "decimal_of",
    "dumps",
    "stockholm_time",
]
