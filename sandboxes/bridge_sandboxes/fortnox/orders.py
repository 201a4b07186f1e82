"""Orders: /3/orders and their actions (fact sheet §5.5; scope `order`), and the document logic orders and
invoices share (heads filled from the customer, rows, the RowId rules, totals, list searches).

What the fact sheet says, followed exactly:
- POST needs `CustomerNumber`; `DocumentNumber` is assigned when left out (and never reused); `OrderRows` may be
  empty. Rows: ArticleNumber (unknown: 2001302), free-text rows, OrderedQuantity/DeliveredQuantity (returned as
  strings, §4), Price, VAT, Unit (unknown: 2000432), Discount + DiscountType, AccountNumber (a VAT rate that is not
  a Swedish standard rate needs one: 2004167).
- PUT row rules (OAS docstring, §5.5): with no RowId in the request, rows are matched by position and every row to
  keep must be sent; with RowIds, those rows are updated, rows without a RowId are added and rows left out are
  deleted (`{"RowId": n}` keeps a row unchanged). RowIds are regenerated on every update.
- Read-only fields (Cancelled, InvoiceReference, totals, ...) are refused like the articles' (errors.READ_ONLY_FIELD).
- `PUT /3/orders/{n}/createinvoice` makes the invoice from the order and sets `InvoiceReference`. Which root the
  real answer has is disputed (§5.5 [?]): the sandbox answers with the Order (CS, WOO) unless
  `POST /__admin/createinvoice-answers {"shape": "invoice"}` switches it to the Invoice (OAS).
- `PUT /3/orders/{n}/cancel` sets Cancelled.
- Lists: the recorded subset of fields (RB orders/filter_hit.yml), `filter=cancelled|expired|invoicecreated|
  invoicenotcreated`, substring searches (§4), one per request, with `lastmodified`, `fromdate`/`todate`.

Guesses ([?]), each marked where it is made: the codes of refusals the fact sheet has no code for; that an
invoiced or cancelled order cannot be changed, cancelled or invoiced again; "expired"; defaults taken from the
customer and the article; the row's default account; VAT 0 on the rows of a reverse-charge or export customer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from bridge_sandboxes.fortnox import customers, prices, units
from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import (
    ARTICLE_IN_REQUEST_NOT_FOUND,
    CURRENCY_NOT_FOUND,
    INVALID_FIELD_NAME,
    INVALID_FILTER,
    INVALID_PARAMETER,
    NOT_BOOLEAN,
    READ_ONLY_FIELD,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company, FortnoxState
from bridge_sandboxes.fortnox.totals import (
    STANDARD_VAT_RATES,
    DocumentTotals,
    RowInput,
    compute,
    money,
    round2,
)
from bridge_sandboxes.fortnox.wire import (
    API_BLANK,
    FortnoxRouter,
    as_text,
    changed_since,
    contains,
    json_body,
    one_filter,
    page_of,
    paginate,
    resource_url,
    sort_order,
    stockholm_date,
    to_number,
    unwrap,
)

ORDER_NOT_FOUND: Final = 2000439  # (RB)
VAT_NEEDS_ACCOUNT: Final = 2004167  # a custom VAT rate needs an AccountNumber on the row (OAS)
DOCUMENT_CHANGE_REFUSED: Final = 2003125  # "Ett klarmarkerat dokument kan inte ändras" [?: used for every lock]
# [?] Codes the fact sheet does not know; chosen by the sandbox beside core's invented 200041x codes.
DOCUMENT_NUMBER_TAKEN: Final = 2000419
UNKNOWN_ROW_ID: Final = 2000420
NO_CUSTOMER_NUMBER: Final = 2000204

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
LANGUAGES: Final = frozenset({"SV", "EN"})
DISCOUNT_TYPES: Final = frozenset({"AMOUNT", "PERCENT"})
# [?] The default sales account per VAT rate (BAS: 3001 25 %, 3002 12 %, 3003 6 %, 3004 VAT-free; a live
# recording shows 3001 for a 25 % row) and for export / EU reverse charge (BAS 3105 / 3108).
ACCOUNT_FOR_VAT: Final = {Decimal(25): 3001, Decimal(12): 3002, Decimal(6): 3003, ZERO: 3004}
EXPORT_ACCOUNT: Final = 3105
EU_REVERSE_ACCOUNT: Final = 3108


@dataclass(frozen=True)
class Kind:
    """What differs between orders and invoices."""

    table: str
    root: str
    plural: str
    rows_key: str
    date_field: str
    path: str
    not_found: int
    not_found_message: str
    writable: frozenset[str]
    read_only: frozenset[str]
    row_writable: frozenset[str]
    row_read_only: frozenset[str]


COMMON_WRITABLE: Final = frozenset(
    [
        "CustomerNumber",
        "DocumentNumber",
        "DeliveryDate",
        "YourOrderNumber",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "YourReference",
        "OurReference",
        "Remarks",
        "Comments",
        "Language",
        "Currency",
        "CurrencyRate",
        "CurrencyUnit",
        "VATIncluded",
        "Freight",
        "AdministrationFee",
        "WayOfDelivery",
        "TermsOfDelivery",
        "TermsOfPayment",
        "PriceList",
        "PrintTemplate",
        "Project",
        "CostCenter",
        "Labels",
        "EmailInformation",
        "NotCompleted",
        "CustomerName",
        "Address1",
        "Address2",
        "ZipCode",
        "City",
        "Country",
        "DeliveryName",
        "DeliveryAddress1",
        "DeliveryAddress2",
        "DeliveryZipCode",
        "DeliveryCity",
        "DeliveryCountry",
        "Phone1",
        "Phone2",
        "TaxReductionType",
        "StockPointCode",
        "StockPointId",
        "OutboundDate",
    ]
)
COMMON_READ_ONLY: Final = frozenset(
    [
        "@url",
        "@urlTaxReductionList",
        "Cancelled",
        "InvoiceReference",
        "OfferReference",
        "OrganisationNumber",
        "Sent",
        "Total",
        "TotalVAT",
        "TotalToPay",
        "Net",
        "Gross",
        "RoundOff",
        "FreightVAT",
        "AdministrationFeeVAT",
        "ContributionPercent",
        "ContributionValue",
        "HouseWork",
        "TaxReduction",
        "BasisTaxReduction",
        "WarehouseReady",
    ]
)
ROW_WRITABLE: Final = frozenset(
    [
        "ArticleNumber",
        "Description",
        "DeliveredQuantity",
        "Price",
        "VAT",
        "Unit",
        "Discount",
        "DiscountType",
        "AccountNumber",
        "CostCenter",
        "Project",
        "RowId",
        "StockPointCode",
        "StockPointId",
        "HouseWork",
        "HouseWorkHoursToReport",
        "HouseWorkType",
    ]
)
ROW_READ_ONLY: Final = frozenset({"Total", "ContributionPercent", "ContributionValue", "Cost", "ReservedQuantity"})

ORDERS: Final = Kind(
    table="orders",
    root="Order",
    plural="Orders",
    rows_key="OrderRows",
    date_field="OrderDate",
    path="orders",
    not_found=ORDER_NOT_FOUND,
    not_found_message="Kan inte hitta ordern.",
    writable=COMMON_WRITABLE | {"OrderDate", "OrderRows", "CopyRemarks", "DeliveryState"},
    read_only=COMMON_READ_ONLY | {"OrderType"},
    row_writable=ROW_WRITABLE | {"OrderedQuantity"},
    row_read_only=ROW_READ_ONLY,
)

DATE_FIELDS: Final = frozenset({"OrderDate", "InvoiceDate", "DueDate", "DeliveryDate", "OutboundDate"})
BOOLEAN_FIELDS: Final = frozenset({"VATIncluded", "NotCompleted", "CopyRemarks", "EUQuarterlyReport"})
NUMBER_FIELDS: Final = frozenset({"Freight", "AdministrationFee", "CurrencyRate", "CurrencyUnit"})
CHOICES: Final = {
    "DeliveryState": frozenset({"registration", "reservation", "delivery"}),
    "InvoiceType": frozenset({"INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE"}),
    "PaymentWay": frozenset({"CASH", "CARD", "AG", ""}),
}


def today(state: FortnoxState) -> str:
    return stockholm_date(state.now())


def _bad(code: int, message: str) -> FortnoxApiError:
    return FortnoxApiError(400, code, message)


def text(value: Any) -> str:
    return "" if value is None else str(value)


def find_document(company: Company, kind: Kind, number: str) -> dict[str, Any]:
    record = company.table(kind.table).get(number)
    if record is None:
        raise FortnoxApiError(404, kind.not_found, kind.not_found_message)
    return record


def claim_document_number(company: Company, kind: Kind, wanted: Any) -> str:
    """A document number never used before in this company (numbers are never reused, §5.5)."""
    marker = f"{kind.table}:used"
    used = company.table(marker)  # numbers ever taken, also after a cancel: {"<n>": {}}
    if wanted not in (None, ""):
        number = text(wanted).strip()
        if not number.isdigit():
            raise _bad(INVALID_PARAMETER, f"Ogiltigt dokumentnummer ({wanted}).")
        if number in used or number in company.table(kind.table):
            raise _bad(DOCUMENT_NUMBER_TAKEN, f"Dokumentnummer {number} används redan.")  # [?] code
    else:
        number = company.next_number(kind.table)
        while number in used or number in company.table(kind.table):
            number = company.next_number(kind.table)
    used[number] = {}
    return number


def _check_fields(fields: Mapping[str, Any], writable: frozenset[str], read_only: frozenset[str]) -> None:
    for name in fields:
        if name in read_only:
            raise _bad(READ_ONLY_FIELD, f"Felaktigt fältnamn ({name}). Fältet är skrivskyddat.")
        if name not in writable:
            raise _bad(INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")


def _date(value: Any, name: str) -> str | None:
    if value in (None, "", API_BLANK):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as error:
        raise _bad(INVALID_PARAMETER, f"Ogiltigt datum ({name}: {value}).") from error  # [?] code


def _customer(company: Company, number: Any) -> dict[str, Any]:
    record = customers.find_customer(company, number)
    if record is None:
        # §3: 2000204 "Kunde inte hämta/hitta kund (kundnummer)"; a missing number gets the same answer [?]
        raise _bad(customers.CUSTOMER_IN_REQUEST_NOT_FOUND, f"Kunde inte hitta kund ({text(number)})")
    return record


def vat_free(customer: Mapping[str, Any] | None) -> bool:
    """[?] Documents for a reverse-charge or export customer carry no Swedish VAT."""
    return customer is not None and customer.get("VATType") in customers.ZERO_VAT_TYPES


def customer_head(customer: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """What a new document takes from its customer [?: the fields Fortnox copies]."""
    email_to = customer.get("EmailOrder") if kind.table == "orders" else customer.get("EmailInvoice")
    head = {
        "CustomerNumber": customer["CustomerNumber"],
        "CustomerName": text(customer.get("Name")),
        "Address1": text(customer.get("Address1")),
        "Address2": text(customer.get("Address2")),
        "ZipCode": text(customer.get("ZipCode")),
        "City": text(customer.get("City")),
        "Country": text(customer.get("Country")),
        "Phone1": text(customer.get("Phone1")),
        "Phone2": text(customer.get("Phone2")),
        "OrganisationNumber": text(customer.get("OrganisationNumber")),
        "DeliveryName": text(customer.get("DeliveryName")),
        "DeliveryAddress1": text(customer.get("DeliveryAddress1")),
        "DeliveryAddress2": text(customer.get("DeliveryAddress2")),
        "DeliveryZipCode": text(customer.get("DeliveryZipCode")),
        "DeliveryCity": text(customer.get("DeliveryCity")),
        "DeliveryCountry": text(customer.get("DeliveryCountry")),
        "YourReference": text(customer.get("YourReference")),
        "OurReference": text(customer.get("OurReference")),
        "WayOfDelivery": text(customer.get("WayOfDelivery")),
        "TermsOfDelivery": text(customer.get("TermsOfDelivery")),
        "PriceList": text(customer.get("PriceList")) or "A",
        "Currency": text(customer.get("Currency")) or "SEK",
        "VATIncluded": bool(customer.get("ShowPriceVATIncluded")),
        "Freight": money(customer.get("InvoiceFreight") or ZERO),
        "AdministrationFee": money(customer.get("InvoiceAdministrationFee") or ZERO),
        "Remarks": text(customer.get("InvoiceRemark")) if kind.table == "invoices" else "",
    }
    head["EmailInformation"] = {"EmailAddressTo": text(email_to or customer.get("Email"))}
    terms = text(customer.get("TermsOfPayment"))
    if terms:
        head["TermsOfPayment"] = terms
    return head


def _currency_rate(company: Company, code: str) -> tuple[Decimal, Decimal]:
    """The company's rate and unit for a currency; 2000416 (core's [?] code) when the company lacks it."""
    if code == "SEK":
        return ONE, ONE
    record = company.table("currencies").get(code)
    if record is None:
        raise _bad(CURRENCY_NOT_FOUND, f"Kunde inte hitta valuta ({code})")
    rate = record.get("SellRate") or record.get("BuyRate") or ONE
    return Decimal(rate), Decimal(record.get("Unit") or 1)


def apply_head(
    company: Company, record: dict[str, Any], fields: Mapping[str, Any], kind: Kind, *, creating: bool
) -> None:
    """Validates the head fields of a body and writes them (rows are handled by `apply_rows`)."""
    _check_fields(fields, kind.writable, kind.read_only)
    if "CustomerNumber" in fields and text(fields["CustomerNumber"]) != record.get("CustomerNumber"):
        customer = _customer(company, fields["CustomerNumber"])
        # [?] a new customer on an existing document refills the customer's fields
        record.update({k: v for k, v in customer_head(customer, kind).items() if k != "EmailInformation"})
    elif creating:
        _customer(company, fields.get("CustomerNumber"))
    for name, raw in fields.items():
        if name in ("CustomerNumber", "DocumentNumber", "CreditInvoiceReference", kind.rows_key):
            continue
        value: Any = None if raw == API_BLANK else raw
        if raw is None:
            continue  # [?] a null counts as "not sent" (as for articles)
        if name in DATE_FIELDS:
            value = _date(raw, name)
        elif name in BOOLEAN_FIELDS:
            if not isinstance(raw, bool):
                raise _bad(NOT_BOOLEAN, f"Värdet måste vara en boolean ({name})")
        elif name in NUMBER_FIELDS:
            value = to_number(raw, name)
            if name in ("CurrencyRate", "CurrencyUnit") and value <= 0:
                raise _bad(INVALID_PARAMETER, f"Ogiltigt värde för {name} ({raw}).")
            value = money(value) if name in ("Freight", "AdministrationFee") else value
        elif name == "Language":
            if value not in LANGUAGES:
                raise _bad(INVALID_PARAMETER, f"Ogiltigt språk ({raw}).")  # [?] code
        elif name == "Currency":
            value = text(value).upper()
            _currency_rate(company, value)
        elif name in ("EmailInformation", "EDIInformation"):
            if not isinstance(raw, dict):
                raise _bad(INVALID_PARAMETER, f"Ogiltig {name}.")
            blanked = {key: (None if item == API_BLANK else item) for key, item in raw.items()}
            value = {**record.get(name, {}), **blanked}
        elif name == "Labels":
            if not isinstance(raw, list) or not all(isinstance(item, dict) and "Id" in item for item in raw):
                raise _bad(INVALID_PARAMETER, "Ogiltiga etiketter (Labels).")
        elif name in CHOICES:
            if value not in CHOICES[name]:
                raise _bad(INVALID_PARAMETER, f"Ogiltigt värde för {name} ({raw}).")  # [?] code
        elif isinstance(value, (dict, list)):
            raise _bad(INVALID_PARAMETER, f"Ogiltigt värde för {name}.")
        else:
            value = text(value)
        record[name] = value
    if "Currency" in fields and "CurrencyRate" not in fields:
        rate, unit = _currency_rate(company, record["Currency"])
        record["CurrencyRate"], record["CurrencyUnit"] = rate, unit


# --- rows -----------------------------------------------------------------------------------------------------


def _row_defaults(kind: Kind) -> dict[str, Any]:
    row: dict[str, Any] = {
        "AccountNumber": None,
        "ArticleNumber": "",
        "ContributionPercent": "0",
        "ContributionValue": "0",
        "Cost": ZERO,
        "CostCenter": "",
        "DeliveredQuantity": "0",
        "Description": "",
        "Discount": ZERO,
        "DiscountType": "PERCENT",
        "HouseWork": False,
        "HouseWorkHoursToReport": None,
        "HouseWorkType": None,
        "Price": ZERO,
        "Project": "",
        "RowId": 0,
        "StockPointCode": None,
        "Total": ZERO,
        "Unit": "",
        "VAT": Decimal(25),
    }
    if kind.table == "orders":
        row["OrderedQuantity"] = "0"
        row["ReservedQuantity"] = "0"
    else:
        row.update({"PriceExcludingVAT": ZERO, "TotalExcludingVAT": ZERO, "VATCode": "MP1"})
    return row


def _article_price(company: Company, article: str, price_list: str) -> Decimal:
    row = company.table(prices.PRICES).get(prices.price_key(price_list, article, ZERO))
    return Decimal(row["Price"]) if row else prices.sales_price(company, article)


def default_account(vat: Decimal, customer: Mapping[str, Any] | None) -> int:
    vat_type = customer.get("VATType") if customer else None
    if vat_type == "EXPORT":
        return EXPORT_ACCOUNT
    if vat_type == "EUREVERSEDVAT":
        return EU_REVERSE_ACCOUNT
    return ACCOUNT_FOR_VAT.get(vat, 3001)


def build_row(
    company: Company,
    raw: Mapping[str, Any],
    kind: Kind,
    *,
    base: Mapping[str, Any] | None,
    head: Mapping[str, Any],
    customer: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One document row from a request row, on top of `base` (the row it updates) or the defaults."""
    if not isinstance(raw, dict):
        raise _bad(INVALID_PARAMETER, "Ogiltig rad.")
    _check_fields(raw, kind.row_writable, kind.row_read_only)
    row = copy.deepcopy(dict(base)) if base is not None else _row_defaults(kind)
    article_number = raw.get("ArticleNumber")
    article: dict[str, Any] | None = None
    if article_number not in (None, "", API_BLANK):
        article = company.table("articles").get(text(article_number))
        if article is None:
            raise _bad(ARTICLE_IN_REQUEST_NOT_FOUND, f"Kunde inte hitta artikel ({article_number})")
        if base is None or base.get("ArticleNumber") != article["ArticleNumber"]:
            # [?] a new article on a row brings its description, unit, VAT, account and price-list price
            row["ArticleNumber"] = article["ArticleNumber"]
            row["Description"] = article.get("Description") or ""
            row["Unit"] = article.get("Unit") or ""
            row["VAT"] = Decimal(article["VAT"]) if article.get("VAT") is not None else Decimal(25)
            row["Price"] = round2(_article_price(company, article["ArticleNumber"], text(head.get("PriceList")) or "A"))
            row["AccountNumber"] = None
    elif article_number in ("", API_BLANK):
        row["ArticleNumber"] = ""
    for name in ("OrderedQuantity", "DeliveredQuantity"):
        if raw.get(name) is not None:
            row[name] = as_text(round2(to_number(raw[name], name)))
    if raw.get("Price") is not None:
        row["Price"] = round2(to_number(raw["Price"], "Price"))
    if raw.get("Description") is not None:
        row["Description"] = text(raw["Description"])
    if raw.get("VAT") is not None:
        row["VAT"] = to_number(raw["VAT"], "VAT").normalize()
    if raw.get("Unit") is not None:
        row["Unit"] = "" if raw["Unit"] in ("", API_BLANK) else units.existing_code(company, raw["Unit"])
    if raw.get("Discount") is not None:
        row["Discount"] = round2(to_number(raw["Discount"], "Discount"))
    if raw.get("DiscountType") is not None:
        if raw["DiscountType"] not in DISCOUNT_TYPES:
            raise _bad(INVALID_PARAMETER, f"Ogiltig rabattyp ({raw['DiscountType']}).")  # [?] code
        row["DiscountType"] = raw["DiscountType"]
    for name in ("CostCenter", "Project", "StockPointCode", "StockPointId", "HouseWorkType"):
        if raw.get(name) is not None:
            row[name] = text(raw[name])
    if raw.get("HouseWork") is not None:
        if not isinstance(raw["HouseWork"], bool):
            raise _bad(NOT_BOOLEAN, "Värdet måste vara en boolean (HouseWork)")
        row["HouseWork"] = raw["HouseWork"]
    explicit_account = raw.get("AccountNumber") not in (None, "", API_BLANK)
    if explicit_account:
        account = to_number(raw["AccountNumber"], "AccountNumber")
        if account != account.to_integral_value():
            raise _bad(INVALID_PARAMETER, f"Ogiltigt konto ({raw['AccountNumber']}).")
        row["AccountNumber"] = int(account)
    if vat_free(customer):
        row["VAT"] = ZERO  # [?]
    vat = Decimal(row["VAT"])
    if vat not in STANDARD_VAT_RATES and not explicit_account and (base is None or Decimal(base["VAT"]) != vat):
        raise _bad(VAT_NEEDS_ACCOUNT, f"Momssatsen {as_text(vat)} % kräver ett konto på raden (AccountNumber).")
    if row.get("AccountNumber") is None:
        row["AccountNumber"] = default_account(vat, customer)
    return row


def apply_rows(
    company: Company,
    record: dict[str, Any],
    sent: Any,
    kind: Kind,
    customer: Mapping[str, Any] | None,
    *,
    creating: bool,
) -> None:
    """Applies a request's row list with the fact sheet's RowId rules (§5.5), then renumbers every row."""
    if not isinstance(sent, list):
        raise _bad(INVALID_PARAMETER, f"Ogiltiga rader ({kind.rows_key}).")
    old: list[dict[str, Any]] = [] if creating else list(record.get(kind.rows_key, []))
    new: list[dict[str, Any]] = []
    if creating:
        # [?] RowIds in a create body mean nothing: every row is new
        new = [
            build_row(company, _without_row_id(raw), kind, base=None, head=record, customer=customer) for raw in sent
        ]
    elif any(isinstance(raw, dict) and raw.get("RowId") not in (None, "") for raw in sent):
        by_id = {str(row["RowId"]): row for row in old}
        for raw in sent:
            row_id = raw.get("RowId") if isinstance(raw, dict) else None
            if row_id in (None, ""):
                new.append(build_row(company, raw, kind, base=None, head=record, customer=customer))
                continue
            base = by_id.get(text(row_id))
            if base is None:
                raise _bad(UNKNOWN_ROW_ID, f"Raden med RowId {row_id} finns inte.")  # [?] code
            new.append(build_row(company, _without_row_id(raw), kind, base=base, head=record, customer=customer))
        # rows left out are deleted
    else:
        for index, raw in enumerate(sent):  # matched by position; rows beyond those sent are deleted
            base = old[index] if index < len(old) else None
            new.append(build_row(company, raw, kind, base=base, head=record, customer=customer))
    record[kind.rows_key] = new


def _without_row_id(raw: Any) -> Any:
    return {k: v for k, v in raw.items() if k != "RowId"} if isinstance(raw, dict) else raw


def renumber_rows(company: Company, record: dict[str, Any], kind: Kind) -> None:
    """RowIds are regenerated on every update (§5.5); they are company-wide numbers like Fortnox's."""
    for row in record.get(kind.rows_key, []):
        row["RowId"] = int(company.next_number("rowids"))


VAT_CODES: Final = {Decimal(25): "MP1", Decimal(12): "MP2", Decimal(6): "MP3", ZERO: "MF"}  # [?] beyond MP1


def recompute(company: Company, record: dict[str, Any], kind: Kind) -> DocumentTotals:
    """Row totals and head totals from the rows and head (totals.py), written into the record."""
    customer = customers.find_customer(company, record.get("CustomerNumber"))
    rows = record.get(kind.rows_key, [])
    inputs = [
        RowInput(
            quantity=Decimal(row["DeliveredQuantity"]),
            price=Decimal(row["Price"]),
            vat=Decimal(row["VAT"]),
            discount=Decimal(row["Discount"]),
            discount_type=row["DiscountType"],
        )
        for row in rows
    ]
    totals = compute(
        inputs,
        vat_included=bool(record.get("VATIncluded")),
        freight=Decimal(record.get("Freight") or 0),
        administration_fee=Decimal(record.get("AdministrationFee") or 0),
        currency=text(record.get("Currency")) or "SEK",
        currency_rate=Decimal(record.get("CurrencyRate") or 1),
        currency_unit=Decimal(record.get("CurrencyUnit") or 1),
        zero_vat=vat_free(customer),
    )
    for row, row_totals in zip(rows, totals.rows, strict=True):
        row["Total"] = money(row_totals.total)
        if kind.table == "invoices":
            row["PriceExcludingVAT"] = money(row_totals.price_excluding_vat)
            row["TotalExcludingVAT"] = money(row_totals.total_excluding_vat)
            row["VATCode"] = VAT_CODES.get(Decimal(row["VAT"]), "")
    record.update(totals.fields())
    return totals


# --- lists ------------------------------------------------------------------------------------------------------

Matcher = Callable[[dict[str, Any], str], bool]


def field_search(*names: str) -> Matcher:
    return lambda record, value: any(contains(record.get(name), value) for name in names)


def flag_search(name: str) -> Matcher:
    return lambda record, value: str(bool(record.get(name))).lower() == value.strip().lower()


def label_search(record: dict[str, Any], value: str) -> bool:
    return any(str(label.get("Id")) == value for label in record.get("Labels", []))


def list_documents(
    request: Request,
    company: Company,
    kind: Kind,
    *,
    searches: Mapping[str, Matcher],
    filters: Mapping[str, Callable[[dict[str, Any]], bool]],
    sorts: Mapping[str, Callable[[dict[str, Any]], Any]],
    summary: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    params = request.query_params
    chosen = one_filter(params, tuple(searches), tuple(filters))
    page = page_of(params)
    descending = sort_order(params)
    sortby = params.get("sortby", "documentnumber")
    if sortby not in sorts:
        raise _bad(INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortby)")
    from_date = _date(params.get("fromdate"), "fromdate")
    to_date = _date(params.get("todate"), "todate")
    changed = changed_since(company, kind.table, params)
    records = [record for key, record in company.table(kind.table).items() if changed(key)]
    if from_date:
        records = [r for r in records if text(r.get(kind.date_field)) >= from_date]
    if to_date:
        records = [r for r in records if text(r.get(kind.date_field)) <= to_date]
    if chosen is not None:
        name, value = chosen
        if name == "filter":
            if value not in filters:
                raise _bad(INVALID_FILTER, "Ett ogiltigt filter har använts.")
            records = [r for r in records if filters[value](r)]
        else:
            records = [r for r in records if searches[name](r, value)]
    records.sort(key=lambda r: (sorts[sortby](r), int(r["DocumentNumber"])))
    if descending:
        records.reverse()
    shown, meta = paginate(records, page)
    return {"MetaInformation": meta, kind.plural: [summary(r) for r in shown]}


def document_number_key(record: dict[str, Any]) -> int:
    return int(record["DocumentNumber"])


# --- orders -----------------------------------------------------------------------------------------------------


def new_order(number: str, order_date: str) -> dict[str, Any]:
    """An order's stored fields as Fortnox fills them in (RB orders/find_id_1.yml and the newer keys)."""
    return {
        "AdministrationFee": ZERO,
        "AdministrationFeeVAT": ZERO,
        "Address1": "",
        "Address2": "",
        "BasisTaxReduction": ZERO,
        "Cancelled": False,
        "City": "",
        "Comments": "",
        "ContributionPercent": ZERO,
        "ContributionValue": ZERO,
        "CopyRemarks": False,
        "Country": "",
        "CostCenter": "",
        "Currency": "SEK",
        "CurrencyRate": ONE,
        "CurrencyUnit": ONE,
        "CustomerName": "",
        "CustomerNumber": "",
        "DeliveryAddress1": "",
        "DeliveryAddress2": "",
        "DeliveryCity": "",
        "DeliveryCountry": "",
        "DeliveryDate": None,
        "DeliveryName": "",
        "DeliveryState": "registration",
        "DeliveryZipCode": "",
        "DocumentNumber": number,
        "EmailInformation": {
            "EmailAddressFrom": None,
            "EmailAddressTo": "",
            "EmailAddressCC": None,
            "EmailAddressBCC": None,
            "EmailSubject": "Order {no} bifogas",
            "EmailBody": " ",
        },
        "ExternalInvoiceReference1": "",
        "ExternalInvoiceReference2": "",
        "Freight": ZERO,
        "FreightVAT": ZERO,
        "Gross": ZERO,
        "HouseWork": False,
        "InvoiceReference": "0",
        "Labels": [],
        "Language": "SV",
        "Net": ZERO,
        "NotCompleted": False,
        "OfferReference": "0",
        "OrderDate": order_date,
        "OrderRows": [],
        "OrderType": "Order",
        "OrganisationNumber": "",
        "OurReference": "",
        "OutboundDate": None,
        "Phone1": "",
        "Phone2": "",
        "PriceList": "A",
        "PrintTemplate": "oc",
        "Project": "",
        "Remarks": "",
        "RoundOff": ZERO,
        "Sent": False,
        "StockPointCode": None,
        "TaxReduction": None,
        "TaxReductionType": "none",
        "TermsOfDelivery": "",
        "TermsOfPayment": "",
        "Total": ZERO,
        "TotalToPay": ZERO,
        "TotalVAT": ZERO,
        "VATIncluded": False,
        "WarehouseReady": False,
        "WayOfDelivery": "",
        "YourOrderNumber": "",
        "YourReference": "",
        "ZipCode": "",
    }


def create_order(company: Company, state: FortnoxState, fields: Mapping[str, Any]) -> dict[str, Any]:
    """POST /3/orders (also used by seed data). Caller holds state.lock."""
    _check_fields(fields, ORDERS.writable, ORDERS.read_only)
    customer = _customer(company, fields.get("CustomerNumber"))
    if "OrderRows" in fields and not isinstance(fields["OrderRows"], list):
        raise _bad(INVALID_PARAMETER, "Ogiltiga rader (OrderRows).")
    record = new_order("", today(state))
    head = customer_head(customer, ORDERS)
    email = head.pop("EmailInformation")
    record.update(head)
    record["EmailInformation"].update(email)
    record["CurrencyRate"], record["CurrencyUnit"] = _currency_rate(company, record["Currency"])
    apply_head(company, record, fields, ORDERS, creating=True)
    apply_rows(company, record, fields.get("OrderRows", []), ORDERS, customer, creating=True)
    record["DocumentNumber"] = claim_document_number(company, ORDERS, fields.get("DocumentNumber"))
    renumber_rows(company, record, ORDERS)
    recompute(company, record, ORDERS)
    return company.save(ORDERS.table, record["DocumentNumber"], record, state.now())


def update_order(company: Company, state: FortnoxState, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    current = find_document(company, ORDERS, number)
    if current["Cancelled"]:
        raise _bad(DOCUMENT_CHANGE_REFUSED, "Ordern är makulerad och kan inte ändras.")  # [?]
    if current["InvoiceReference"] not in ("0", "", None):
        raise _bad(DOCUMENT_CHANGE_REFUSED, "Ordern är fakturerad och kan inte ändras.")  # [?]
    given = fields.get("DocumentNumber")
    if given not in (None, "") and text(given) != number:
        raise _bad(INVALID_FIELD_NAME, "Dokumentnumret kan inte ändras.")  # [?]
    record = copy.deepcopy(current)
    apply_head(company, record, fields, ORDERS, creating=False)
    customer = customers.find_customer(company, record["CustomerNumber"])
    if "OrderRows" in fields:
        apply_rows(company, record, fields["OrderRows"], ORDERS, customer, creating=False)
    renumber_rows(company, record, ORDERS)
    recompute(company, record, ORDERS)
    return company.save(ORDERS.table, number, record, state.now())


def cancel_order(company: Company, state: FortnoxState, number: str) -> dict[str, Any]:
    record = find_document(company, ORDERS, number)
    if record["InvoiceReference"] not in ("0", "", None):
        # An invoiced order is locked: credit the invoice instead (product §5b). [?] code and text
        raise _bad(DOCUMENT_CHANGE_REFUSED, "Ordern är fakturerad och kan inte makuleras.")
    if record["Cancelled"]:
        raise _bad(DOCUMENT_CHANGE_REFUSED, "Ordern är redan makulerad.")  # [?]
    record["Cancelled"] = True
    return company.save(ORDERS.table, number, record, state.now())


def render_order(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    number = record["DocumentNumber"]
    return {
        "@url": resource_url(request, f"orders/{number}"),
        "@urlTaxReductionList": resource_url(request, f"taxreductions?filter=orders&referencenumber={number}"),
        **record,
    }


def order_summary(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    """The list subset (RB orders/filter_hit.yml, 2024)."""
    return {
        "@url": resource_url(request, f"orders/{record['DocumentNumber']}"),
        "Cancelled": record["Cancelled"],
        "Currency": record["Currency"],
        "CustomerName": record["CustomerName"],
        "CustomerNumber": record["CustomerNumber"],
        "DeliveryDate": record["DeliveryDate"],
        "DocumentNumber": record["DocumentNumber"],
        "ExternalInvoiceReference1": record["ExternalInvoiceReference1"],
        "ExternalInvoiceReference2": record["ExternalInvoiceReference2"],
        "OrderDate": record["OrderDate"],
        "OrderType": record["OrderType"],
        "Project": record["Project"],
        "Sent": record["Sent"],
        "Total": record["Total"],
    }


def _invoiced(record: dict[str, Any]) -> bool:
    return record.get("InvoiceReference") not in ("0", "", None)


ORDER_SEARCHES: Final[dict[str, Matcher]] = {
    "customername": field_search("CustomerName"),
    "customernumber": field_search("CustomerNumber"),
    "label": label_search,
    "documentnumber": field_search("DocumentNumber"),
    "externalinvoicereference1": field_search("ExternalInvoiceReference1"),
    "externalinvoicereference2": field_search("ExternalInvoiceReference2"),
    # [?] not in the OAS order searches (§4 lists it for invoices); the brief asks for it on orders too
    "yourordernumber": field_search("YourOrderNumber"),
    "costcenter": field_search("CostCenter"),
    "project": field_search("Project"),
    "sent": flag_search("Sent"),
    "notcompleted": flag_search("NotCompleted"),
    "ourreference": field_search("OurReference"),
    "yourreference": field_search("YourReference"),
    "ordertype": field_search("OrderType"),
}
ORDER_SORTS: Final[dict[str, Callable[[dict[str, Any]], Any]]] = {
    "customername": lambda r: text(r.get("CustomerName")).casefold(),
    "customernumber": lambda r: customers.number_key(text(r.get("CustomerNumber"))),
    "orderdate": lambda r: text(r.get("OrderDate")),
    "documentnumber": document_number_key,
    "total": lambda r: Decimal(r.get("Total") or 0),
}


def order_filters(state: FortnoxState) -> dict[str, Callable[[dict[str, Any]], bool]]:
    current_day = today(state)
    return {
        "cancelled": lambda r: bool(r["Cancelled"]),
        # [?] "expired": neither cancelled nor invoiced, with a delivery date before today
        "expired": lambda r: (
            not r["Cancelled"] and not _invoiced(r) and bool(r.get("DeliveryDate")) and r["DeliveryDate"] < current_day
        ),
        "invoicecreated": _invoiced,
        "invoicenotcreated": lambda r: not _invoiced(r) and not r["Cancelled"],
    }


# --- the createinvoice answer switch -------------------------------------------------------------------------------

CreateInvoiceShape = Literal["order", "invoice"]


class CreateInvoiceAnswer(BaseModel):
    shape: CreateInvoiceShape


def createinvoice_shape(state: FortnoxState) -> CreateInvoiceShape:
    """What `PUT /3/orders/{n}/createinvoice` answers with: "order" (default, CS and WOO) or "invoice" (OAS)."""
    return "invoice" if state.createinvoice_shape == "invoice" else "order"


def sales_admin_router(state: FortnoxState) -> APIRouter:
    """/__admin/ switches of the sales documents."""
    router = APIRouter(prefix="/__admin", tags=["admin"])

    @router.post("/createinvoice-answers")
    def set_createinvoice_answer(body: CreateInvoiceAnswer) -> dict[str, str]:
        with state.lock:
            state.createinvoice_shape = body.shape
        return {"shape": body.shape}

    @router.get("/createinvoice-answers")
    def get_createinvoice_answer() -> dict[str, str]:
        with state.lock:
            return {"shape": createinvoice_shape(state)}

    @router.get("/emails")
    def sent_emails() -> list[dict[str, Any]]:
        """Every invoice e-mail the sandbox 'sent', per company (tests count them)."""
        with state.lock:
            return [
                {"TenantId": tenant_id, **mail}
                for tenant_id, company in sorted(state.companies.items())
                for mail in company.table("sentemails").values()
            ]

    return router


def orders_router() -> APIRouter:
    from bridge_sandboxes.fortnox import invoices  # invoices build on this module

    router = FortnoxRouter(prefix="/3/orders", tags=["orders"])
    company_dep = Depends(company_for("order"))
    body_dep = Depends(json_body)

    @router.get("")
    @router.get("/", include_in_schema=False)
    def list_orders(request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            return list_documents(
                request,
                company,
                ORDERS,
                searches=ORDER_SEARCHES,
                filters=order_filters(state),
                sorts=ORDER_SORTS,
                summary=lambda r: order_summary(request, r),
            )

    @router.get("/{number}")
    def get_order(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"Order": render_order(request, find_document(company, ORDERS, number))}

    @router.post("", status_code=201)
    @router.post("/", status_code=201, include_in_schema=False)
    def post_order(request: Request, body: Any = body_dep, company: Company = company_dep) -> Any:
        fields = unwrap(body, "Order")
        state = fortnox_state(request)
        with state.lock:
            return {"Order": render_order(request, create_order(company, state, fields))}

    @router.put("/{number}")
    def put_order(
        number: str, request: Request, body: Any = body_dep, company: Company = company_dep
    ) -> dict[str, Any]:
        fields = unwrap(body, "Order")
        state = fortnox_state(request)
        with state.lock:
            return {"Order": render_order(request, update_order(company, state, number, fields))}

    @router.put("/{number}/cancel")
    def cancel(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            return {"Order": render_order(request, cancel_order(company, state, number))}

    @router.put("/{number}/createinvoice")
    def create_invoice(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            order = find_document(company, ORDERS, number)
            invoice = invoices.invoice_from_order(company, state, order)
            if createinvoice_shape(state) == "invoice":
                return {"Invoice": invoices.render_invoice(request, invoice)}
            return {"Order": render_order(request, order)}

    return router
