"""Invoices: /3/invoices and their actions (fact sheet §5.6; scope `invoice`).

What the fact sheet says, followed exactly:
- POST makes a direct invoice; omitted fields come from the customer and the company's defaults; rows are like
  order rows without OrderedQuantity (DeliveredQuantity is the invoiced quantity) and add read-only
  PriceExcludingVAT / TotalExcludingVAT / VATCode; the RowId rules of orders apply (§5.6, §5.5).
- Once bookkept an invoice cannot be edited: cancel works only before bookkeeping, credit after ([M], §5.6).
- `GET …/email` sends the invoice by e-mail (a GET with a side effect); `GET …/print` answers the PDF and sets
  Sent; `GET …/preview` answers the PDF and leaves Sent alone.
- `PUT …/credit` makes a credit invoice, shown in `CreditInvoiceReference`.
- The live shapes (RB invoices/row_price_limit_round_up.yml, 2026): `Credit` is the string "false",
  references ("CreditInvoiceReference", "OrderReference", ...) are strings, `TermsOfPayment` "30", OCR
  = number + length digit + Luhn check digit (117 -> "11759", 7 -> "737", 23 -> "2345"); in lists
  `CurrencyRate` is a string (RB invoices/filter_hit.yml).

Guesses ([?]): the codes of every refusal; the e-mail's recipient falls back to the customer's EmailInvoice, then
Email, and an e-mail marks the invoice Sent; a credit invoice has the original's rows with negated quantities
(and negated freight and fee) and the original answers the credit action; a direct credit invoice is a POST with
`CreditInvoiceReference` (of a booked invoice) and negative rows, linked both ways like the credit action;
Balance = Total less registered payments, FullyPaid when a paid invoice's Balance is 0; DueDate = InvoiceDate +
TermsOfPayment days; vouchers are series "B", year 1 (as recorded).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox import customers, pdf
from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import INVALID_FIELD_NAME, INVALID_PARAMETER, FortnoxApiError
from bridge_sandboxes.fortnox.orders import (
    COMMON_READ_ONLY,
    COMMON_WRITABLE,
    DOCUMENT_CHANGE_REFUSED,
    ROW_READ_ONLY,
    ROW_WRITABLE,
    Kind,
    Matcher,
    _check_fields,
    _currency_rate,
    _customer,
    apply_head,
    apply_rows,
    claim_document_number,
    customer_head,
    document_number_key,
    field_search,
    find_document,
    flag_search,
    label_search,
    list_documents,
    money,
    recompute,
    renumber_rows,
    text,
    today,
)
from bridge_sandboxes.fortnox.state import Company, FortnoxState
from bridge_sandboxes.fortnox.wire import FortnoxRouter, as_text, json_body, resource_url, unwrap

INVOICE_NOT_FOUND: Final = 2000434  # (RB)
# [?] Codes the fact sheet does not know.
NO_EMAIL_ADDRESS: Final = 2000421
CREDIT_REFUSED: Final = 2000422
ZERO: Final = Decimal(0)

INVOICES: Final = Kind(
    table="invoices",
    root="Invoice",
    plural="Invoices",
    rows_key="InvoiceRows",
    date_field="InvoiceDate",
    path="invoices",
    not_found=INVOICE_NOT_FOUND,
    not_found_message="Kan inte hitta fakturan.",
    writable=COMMON_WRITABLE
    | {
        "InvoiceDate",
        "DueDate",
        "InvoiceType",
        "PaymentWay",
        "OCR",
        "EDIInformation",
        "EUQuarterlyReport",
        "CreditInvoiceReference",
        "TimeBasisReference",
        "InvoiceRows",
    },
    read_only=COMMON_READ_ONLY
    | {
        "Balance",
        "Booked",
        "Credit",
        "ContractReference",
        "OrderReference",
        "FinalPayDate",
        "FullyPaid",
        "LastRemindDate",
        "Reminders",
        "NoxFinans",
        "VoucherNumber",
        "VoucherSeries",
        "VoucherYear",
        "InvoicePeriodStart",
        "InvoicePeriodEnd",
        "AccountingMethod",
    },
    row_writable=ROW_WRITABLE,
    row_read_only=ROW_READ_ONLY | {"PriceExcludingVAT", "TotalExcludingVAT", "VATCode"},
)
PAYMENTS_TABLE: Final = "invoicepayments"
EMAILS_TABLE: Final = "sentemails"
DEFAULT_TERMS_OF_PAYMENT: Final = "30"  # as recorded for a customer without terms


def ocr_for(number: str) -> str:
    """Fortnox's OCR: the number, a length digit ((len + 2) mod 10) and a Luhn check digit (live recordings)."""
    body = number + str((len(number) + 2) % 10)
    total = 0
    for index, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def due_date(invoice_date: str, terms: str) -> str:
    days = int(terms) if terms.isdigit() else int(DEFAULT_TERMS_OF_PAYMENT)  # [?] codes name their days
    return (date.fromisoformat(invoice_date) + timedelta(days=days)).isoformat()


def new_invoice(invoice_date: str) -> dict[str, Any]:
    """An invoice's stored fields as Fortnox fills them in (RB invoices/row_price_limit_round_up.yml, 2026)."""
    return {
        "AccountingMethod": "ACCRUAL",
        "Address1": "",
        "Address2": "",
        "AdministrationFee": ZERO,
        "AdministrationFeeVAT": ZERO,
        "Balance": ZERO,
        "BasisTaxReduction": ZERO,
        "Booked": False,
        "Cancelled": False,
        "City": "",
        "Comments": "",
        "ContractReference": "0",
        "ContributionPercent": ZERO,
        "ContributionValue": ZERO,
        "CostCenter": "",
        "Country": "",
        "Credit": "false",
        "CreditInvoiceReference": "0",
        "Currency": "SEK",
        "CurrencyRate": Decimal(1),
        "CurrencyUnit": Decimal(1),
        "CustomerName": "",
        "CustomerNumber": "",
        "DeliveryAddress1": "",
        "DeliveryAddress2": "",
        "DeliveryCity": "",
        "DeliveryCountry": "",
        "DeliveryDate": None,
        "DeliveryName": "",
        "DeliveryZipCode": "",
        "DocumentNumber": "",
        "DueDate": None,
        "EDIInformation": {
            "EDIGlobalLocationNumber": None,
            "EDIGlobalLocationNumberDelivery": None,
            "EDIInvoiceExtra1": None,
            "EDIInvoiceExtra2": None,
            "EDIOurElectronicReference": None,
            "EDIYourElectronicReference": None,
            "EDIStatus": "",
        },
        "EUQuarterlyReport": False,
        "EmailInformation": {
            "EmailAddressFrom": None,
            "EmailAddressTo": "",
            "EmailAddressCC": None,
            "EmailAddressBCC": None,
            "EmailSubject": "Faktura {no} bifogas",
            "EmailBody": " ",
        },
        "ExternalInvoiceReference1": "",
        "ExternalInvoiceReference2": "",
        "FinalPayDate": None,
        "Freight": ZERO,
        "FreightVAT": ZERO,
        "FullyPaid": False,
        "Gross": ZERO,
        "HouseWork": False,
        "InvoiceDate": invoice_date,
        "InvoicePeriodEnd": "",
        "InvoicePeriodStart": "",
        "InvoiceReference": "0",
        "InvoiceRows": [],
        "InvoiceType": "INVOICE",
        "Labels": [],
        "Language": "SV",
        "LastRemindDate": None,
        "Net": ZERO,
        "NotCompleted": False,
        "NoxFinans": False,
        "OCR": "",
        "OfferReference": "0",
        "OrderReference": "0",
        "OrganisationNumber": "",
        "OurReference": "",
        "OutboundDate": invoice_date,
        "PaymentWay": "",
        "Phone1": "",
        "Phone2": "",
        "PriceList": "A",
        "PrintTemplate": "st",
        "Project": "",
        "Remarks": "",
        "Reminders": 0,
        "RoundOff": ZERO,
        "Sent": False,
        "TaxReduction": None,
        "TaxReductionType": "none",
        "TermsOfDelivery": "",
        "TermsOfPayment": DEFAULT_TERMS_OF_PAYMENT,
        "TimeBasisReference": None,
        "Total": ZERO,
        "TotalToPay": ZERO,
        "TotalVAT": ZERO,
        "VATIncluded": False,
        "VoucherNumber": None,
        "VoucherSeries": None,
        "VoucherYear": None,
        "WarehouseReady": False,
        "WayOfDelivery": "",
        "YourOrderNumber": "",
        "YourReference": "",
        "ZipCode": "",
    }


def _is_credit(record: Mapping[str, Any]) -> bool:
    return record.get("Credit") == "true"


def settle(company: Company, invoice: dict[str, Any]) -> None:
    """Balance and FullyPaid from the Total and the invoice's payments (in the invoice's currency) [?]."""
    number = invoice["DocumentNumber"]
    payments = [p for p in company.table(PAYMENTS_TABLE).values() if text(p["InvoiceNumber"]) == number]
    paid = sum((Decimal(p["AmountCurrency"]) for p in payments), ZERO)
    if invoice["Cancelled"]:
        invoice["Balance"] = ZERO
        invoice["FullyPaid"] = False
        return
    invoice["Balance"] = money(Decimal(invoice["Total"]) - paid)
    invoice["FullyPaid"] = bool(payments) and invoice["Balance"] == 0
    invoice["FinalPayDate"] = max(p["PaymentDate"] for p in payments) if invoice["FullyPaid"] else None


def _finish(company: Company, state: FortnoxState, record: dict[str, Any]) -> dict[str, Any]:
    """Totals, due date, OCR, balance; then stores the invoice."""
    renumber_rows(company, record, INVOICES)
    recompute(company, record, INVOICES)
    if not record.get("OCR"):
        record["OCR"] = ocr_for(record["DocumentNumber"])
    if not record.get("DueDate"):
        record["DueDate"] = due_date(record["InvoiceDate"], text(record.get("TermsOfPayment")))
    settle(company, record)
    return company.save(INVOICES.table, record["DocumentNumber"], record, state.now())


def _head_from_customer(company: Company, state: FortnoxState, customer: dict[str, Any]) -> dict[str, Any]:
    record = new_invoice(today(state))
    head = customer_head(customer, INVOICES)
    email = head.pop("EmailInformation")
    record.update(head)
    record["EmailInformation"].update(email)
    record["CurrencyRate"], record["CurrencyUnit"] = _currency_rate(company, record["Currency"])
    return record


def _creditable(company: Company, number: Any) -> dict[str, Any]:
    """The invoice a credit refers to: it must exist, be booked, not be cancelled, and not be a credit itself."""
    original = company.table(INVOICES.table).get(text(number))
    if original is None:
        raise FortnoxApiError(400, INVOICE_NOT_FOUND, f"Kan inte hitta fakturan ({text(number)}).")
    if original["Cancelled"]:
        raise FortnoxApiError(400, CREDIT_REFUSED, "En makulerad faktura kan inte krediteras.")  # [?]
    if not original["Booked"]:
        # [M] credit works after bookkeeping (§5.6); [?] code and text
        raise FortnoxApiError(400, CREDIT_REFUSED, "Fakturan måste vara bokförd för att kunna krediteras.")
    if _is_credit(original):
        raise FortnoxApiError(400, CREDIT_REFUSED, "En kreditfaktura kan inte krediteras.")  # [?]
    return original


def create_invoice(company: Company, state: FortnoxState, fields: Mapping[str, Any]) -> dict[str, Any]:
    """POST /3/invoices: a direct invoice, or a (partial) credit invoice with CreditInvoiceReference [?]."""
    _check_fields(fields, INVOICES.writable, INVOICES.read_only)
    customer = _customer(company, fields.get("CustomerNumber"))
    record = _head_from_customer(company, state, customer)
    apply_head(company, record, fields, INVOICES, creating=True)
    apply_rows(company, record, fields.get("InvoiceRows", []), INVOICES, customer, creating=True)
    credit_of = fields.get("CreditInvoiceReference")
    original = _creditable(company, credit_of) if credit_of not in (None, "", "0", 0) else None
    record["DocumentNumber"] = claim_document_number(company, INVOICES, fields.get("DocumentNumber"))
    if original is not None:
        record["Credit"] = "true"
        record["CreditInvoiceReference"] = original["DocumentNumber"]
        original["CreditInvoiceReference"] = record["DocumentNumber"]
        company.touch(INVOICES.table, original["DocumentNumber"], state.now())
    return _finish(company, state, record)


def update_invoice(company: Company, state: FortnoxState, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    current = find_document(company, INVOICES, number)
    if current["Booked"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Fakturan är bokförd och kan inte ändras.")  # [M]; [?] code
    if current["Cancelled"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Fakturan är makulerad och kan inte ändras.")  # [?]
    for name in ("DocumentNumber", "CreditInvoiceReference"):
        given = fields.get(name)
        if given not in (None, "") and text(given) != current[name]:
            raise FortnoxApiError(400, INVALID_FIELD_NAME, f"{name} kan inte ändras.")  # [?]
    record = copy.deepcopy(current)
    apply_head(company, record, fields, INVOICES, creating=False)
    if "InvoiceRows" in fields:
        customer = customers.find_customer(company, record["CustomerNumber"])
        apply_rows(company, record, fields["InvoiceRows"], INVOICES, customer, creating=False)
    if ("InvoiceDate" in fields or "TermsOfPayment" in fields) and "DueDate" not in fields:
        record["DueDate"] = None  # recomputed from the new date or terms
    return _finish(company, state, record)


ORDER_HEAD_COPIED: Final = [
    "CustomerName",
    "Address1",
    "Address2",
    "ZipCode",
    "City",
    "Country",
    "Phone1",
    "Phone2",
    "OrganisationNumber",
    "DeliveryName",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryZipCode",
    "DeliveryCity",
    "DeliveryCountry",
    "DeliveryDate",
    "YourReference",
    "OurReference",
    "YourOrderNumber",
    "ExternalInvoiceReference1",
    "ExternalInvoiceReference2",
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
    "PriceList",
    "Project",
    "CostCenter",
    "Labels",
    "NotCompleted",
    "TaxReductionType",
    "StockPointCode",
]
ROW_COPIED: Final = [
    "AccountNumber",
    "ArticleNumber",
    "CostCenter",
    "DeliveredQuantity",
    "Description",
    "Discount",
    "DiscountType",
    "HouseWork",
    "HouseWorkHoursToReport",
    "HouseWorkType",
    "Price",
    "Project",
    "StockPointCode",
    "Unit",
    "VAT",
]


def _invoice_row(source: Mapping[str, Any], *, negate: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ContributionPercent": "0",
        "ContributionValue": "0",
        "Cost": ZERO,
        "PriceExcludingVAT": ZERO,
        "RowId": 0,
        "Total": ZERO,
        "TotalExcludingVAT": ZERO,
        "VATCode": "",
    }
    row.update({name: copy.deepcopy(source.get(name)) for name in ROW_COPIED})
    if negate:
        row["DeliveredQuantity"] = as_text(-Decimal(row["DeliveredQuantity"]))
    return row


def invoice_from_order(company: Company, state: FortnoxState, order: dict[str, Any]) -> dict[str, Any]:
    """PUT /3/orders/{n}/createinvoice: the invoice of the order's delivered quantities; sets InvoiceReference."""
    if order["Cancelled"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Ordern är makulerad och kan inte faktureras.")  # [?]
    if order["InvoiceReference"] not in ("0", "", None):
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Ordern är redan fakturerad.")  # [?]
    customer = customers.find_customer(company, order["CustomerNumber"])
    record = new_invoice(today(state))
    if customer is not None:
        email = customer_head(customer, INVOICES)["EmailInformation"]
        record["EmailInformation"].update(email)
        if customer.get("TermsOfPayment"):
            record["TermsOfPayment"] = customer["TermsOfPayment"]
    record["CustomerNumber"] = order["CustomerNumber"]
    record.update({name: copy.deepcopy(order[name]) for name in ORDER_HEAD_COPIED if name in order})
    if order.get("TermsOfPayment"):
        record["TermsOfPayment"] = order["TermsOfPayment"]
    record["OrderReference"] = order["DocumentNumber"]
    # [?] every order row is carried over with its delivered quantity (rows delivered 0 invoice nothing)
    record["InvoiceRows"] = [_invoice_row(row) for row in order["OrderRows"]]
    record["DocumentNumber"] = claim_document_number(company, INVOICES, None)
    invoice = _finish(company, state, record)
    order["InvoiceReference"] = invoice["DocumentNumber"]
    company.touch("orders", order["DocumentNumber"], state.now())
    return invoice


def credit_invoice(company: Company, state: FortnoxState, number: str) -> dict[str, Any]:
    """PUT /3/invoices/{n}/credit: a credit invoice of the whole invoice; answers the original [?]."""
    original = find_document(company, INVOICES, number)
    _creditable(company, number)
    if original["CreditInvoiceReference"] not in ("0", "", None):
        raise FortnoxApiError(400, CREDIT_REFUSED, "Fakturan är redan krediterad.")  # [?]
    record = copy.deepcopy(original)
    record.update(
        {
            "Balance": ZERO,
            "Booked": False,
            "Credit": "true",
            "CreditInvoiceReference": original["DocumentNumber"],
            "DueDate": None,
            "FinalPayDate": None,
            "FullyPaid": False,
            "InvoiceDate": today(state),
            "OCR": "",
            "OutboundDate": today(state),
            "Sent": False,
            "VoucherNumber": None,
            "VoucherSeries": None,
            "VoucherYear": None,
            "Freight": -Decimal(original["Freight"]),
            "AdministrationFee": -Decimal(original["AdministrationFee"]),
            "InvoiceRows": [_invoice_row(row, negate=True) for row in original["InvoiceRows"]],
        }
    )
    record["DocumentNumber"] = claim_document_number(company, INVOICES, None)
    credit = _finish(company, state, record)
    original["CreditInvoiceReference"] = credit["DocumentNumber"]
    company.touch(INVOICES.table, number, state.now())
    return original


def bookkeep_invoice(company: Company, state: FortnoxState, number: str) -> dict[str, Any]:
    record = find_document(company, INVOICES, number)
    if record["Cancelled"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "En makulerad faktura kan inte bokföras.")  # [?]
    if record["Booked"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Fakturan är redan bokförd.")  # [?]
    record["Booked"] = True
    record["VoucherSeries"] = "B"  # as recorded (customer-invoice series)
    record["VoucherNumber"] = int(company.next_number("vouchers:B"))
    record["VoucherYear"] = 1
    return company.save(INVOICES.table, number, record, state.now())


def cancel_invoice(company: Company, state: FortnoxState, number: str) -> dict[str, Any]:
    record = find_document(company, INVOICES, number)
    if record["Booked"]:
        # [M] cancel works only before bookkeeping (§5.6); [?] code and text
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "En bokförd faktura kan inte makuleras; kreditera den.")
    if record["Cancelled"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "Fakturan är redan makulerad.")  # [?]
    record["Cancelled"] = True
    settle(company, record)
    return company.save(INVOICES.table, number, record, state.now())


def email_invoice(company: Company, state: FortnoxState, number: str) -> dict[str, Any]:
    """GET /3/invoices/{n}/email: records the e-mail the sandbox 'sends' and marks the invoice Sent [?]."""
    record = find_document(company, INVOICES, number)
    if record["Cancelled"]:
        raise FortnoxApiError(400, DOCUMENT_CHANGE_REFUSED, "En makulerad faktura kan inte skickas.")  # [?]
    info = record.get("EmailInformation") or {}
    customer = customers.find_customer(company, record["CustomerNumber"]) or {}
    to = text(info.get("EmailAddressTo")) or text(customer.get("EmailInvoice")) or text(customer.get("Email"))
    if not to:
        raise FortnoxApiError(400, NO_EMAIL_ADDRESS, "Fakturan saknar e-postadress.")  # [?]
    key = company.next_number(EMAILS_TABLE)
    company.save(
        EMAILS_TABLE,
        key,
        {
            "Number": int(key),
            "InvoiceNumber": number,
            "To": to,
            "Cc": info.get("EmailAddressCC"),
            "Bcc": info.get("EmailAddressBCC"),
            "From": info.get("EmailAddressFrom"),
            "Subject": text(info.get("EmailSubject")).replace("{no}", number),
            "Body": text(info.get("EmailBody")),
            "SentAt": state.now().isoformat(),
        },
        state.now(),
    )
    record["Sent"] = True
    return company.save(INVOICES.table, number, record, state.now())


def emails_sent(company: Company, number: str | None = None) -> list[dict[str, Any]]:
    """The e-mails sent so far (for tests and /__admin/emails), optionally for one invoice."""
    mails = sorted(company.table(EMAILS_TABLE).values(), key=lambda mail: mail["Number"])
    return [mail for mail in mails if number is None or mail["InvoiceNumber"] == number]


def render_invoice(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    number = record["DocumentNumber"]
    return {
        "@url": resource_url(request, f"invoices/{number}"),
        "@urlTaxReductionList": resource_url(request, f"taxreductions?filter=invoices&referencenumber={number}"),
        **record,
    }


def invoice_summary(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    """The list subset (RB invoices/filter_hit.yml, 2026): CurrencyRate as a string there."""
    return {
        "@url": resource_url(request, f"invoices/{record['DocumentNumber']}"),
        "Balance": record["Balance"],
        "Booked": record["Booked"],
        "Cancelled": record["Cancelled"],
        "CostCenter": record["CostCenter"],
        "Currency": record["Currency"],
        "CurrencyRate": as_text(Decimal(record["CurrencyRate"])),
        "CurrencyUnit": record["CurrencyUnit"],
        "CustomerName": record["CustomerName"],
        "CustomerNumber": record["CustomerNumber"],
        "DocumentNumber": record["DocumentNumber"],
        "DueDate": record["DueDate"],
        "ExternalInvoiceReference1": record["ExternalInvoiceReference1"],
        "ExternalInvoiceReference2": record["ExternalInvoiceReference2"],
        "InvoiceDate": record["InvoiceDate"],
        "InvoiceType": record["InvoiceType"],
        "NoxFinans": record["NoxFinans"],
        "OCR": record["OCR"],
        "VoucherNumber": record["VoucherNumber"],
        "VoucherSeries": record["VoucherSeries"],
        "VoucherYear": record["VoucherYear"],
        "WayOfDelivery": record["WayOfDelivery"],
        "TermsOfPayment": record["TermsOfPayment"],
        "Project": record["Project"],
        "Sent": record["Sent"],
        "Total": record["Total"],
        "FinalPayDate": record["FinalPayDate"],
    }


def _article_search(record: dict[str, Any], value: str) -> bool:
    return any(
        text(row.get("ArticleNumber")) and value.casefold() in row["ArticleNumber"].casefold()
        for row in record["InvoiceRows"]
    )


INVOICE_SEARCHES: Final[dict[str, Matcher]] = {
    "customername": field_search("CustomerName"),
    "customernumber": field_search("CustomerNumber"),
    "documentnumber": field_search("DocumentNumber"),
    "externalinvoicereference1": field_search("ExternalInvoiceReference1"),
    "externalinvoicereference2": field_search("ExternalInvoiceReference2"),
    "yourordernumber": field_search("YourOrderNumber"),
    "ocr": field_search("OCR"),
    "ourreference": field_search("OurReference"),
    "yourreference": field_search("YourReference"),
    "costcenter": field_search("CostCenter"),
    "project": field_search("Project"),
    "label": label_search,
    "sent": flag_search("Sent"),
    "notcompleted": flag_search("NotCompleted"),
    "credit": lambda r, value: r["Credit"] == value.strip().lower(),
    "invoicetype": field_search("InvoiceType"),
    "articlenumber": _article_search,
    # [?] each of the pair counts as the request's one search
    "fromfinalpaydate": lambda r, value: bool(r["FinalPayDate"]) and r["FinalPayDate"] >= value,
    "tofinalpaydate": lambda r, value: bool(r["FinalPayDate"]) and r["FinalPayDate"] <= value,
}
INVOICE_SORTS: Final[dict[str, Callable[[dict[str, Any]], Any]]] = {  # [?] the OAS names none for invoices
    "documentnumber": document_number_key,
    "customername": lambda r: text(r.get("CustomerName")).casefold(),
    "customernumber": lambda r: customers.number_key(text(r.get("CustomerNumber"))),
    "invoicedate": lambda r: text(r.get("InvoiceDate")),
    "duedate": lambda r: text(r.get("DueDate")),
    "total": lambda r: Decimal(r.get("Total") or 0),
}


def invoice_filters(state: FortnoxState) -> dict[str, Callable[[dict[str, Any]], bool]]:
    current_day = today(state)

    def unpaid(record: dict[str, Any]) -> bool:  # [?] booked, not cancelled, something left to pay
        return record["Booked"] and not record["Cancelled"] and Decimal(record["Balance"]) != 0

    return {
        "cancelled": lambda r: bool(r["Cancelled"]),
        "fullypaid": lambda r: bool(r["FullyPaid"]),
        "unpaid": unpaid,
        "unpaidoverdue": lambda r: unpaid(r) and text(r.get("DueDate")) < current_day,
        "unbooked": lambda r: not r["Booked"] and not r["Cancelled"],
    }


def invoices_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/invoices", tags=["invoices"])
    company_dep = Depends(company_for("invoice"))
    body_dep = Depends(json_body)

    @router.get("")
    @router.get("/", include_in_schema=False)
    def list_invoices(request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            return list_documents(
                request,
                company,
                INVOICES,
                searches=INVOICE_SEARCHES,
                filters=invoice_filters(state),
                sorts=INVOICE_SORTS,
                summary=lambda r: invoice_summary(request, r),
            )

    @router.get("/{number}")
    def get_invoice(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"Invoice": render_invoice(request, find_document(company, INVOICES, number))}

    @router.post("", status_code=201)
    @router.post("/", status_code=201, include_in_schema=False)
    def post_invoice(request: Request, body: Any = body_dep, company: Company = company_dep) -> Any:
        fields = unwrap(body, "Invoice")
        state = fortnox_state(request)
        with state.lock:
            return {"Invoice": render_invoice(request, create_invoice(company, state, fields))}

    @router.put("/{number}")
    def put_invoice(
        number: str, request: Request, body: Any = body_dep, company: Company = company_dep
    ) -> dict[str, Any]:
        fields = unwrap(body, "Invoice")
        state = fortnox_state(request)
        with state.lock:
            return {"Invoice": render_invoice(request, update_invoice(company, state, number, fields))}

    def action(name: str, run: Callable[[Company, FortnoxState, str], dict[str, Any]], method: str) -> None:
        def handler(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
            state = fortnox_state(request)
            with state.lock:
                return {"Invoice": render_invoice(request, run(company, state, number))}

        router.add_api_route(f"/{{number}}/{name}", handler, methods=[method], name=f"invoice_{name}")

    action("bookkeep", bookkeep_invoice, "PUT")
    action("cancel", cancel_invoice, "PUT")
    action("credit", credit_invoice, "PUT")
    action("email", email_invoice, "GET")  # a GET with a side effect (§5.6 [H])

    def document_pdf(number: str, request: Request, company: Company, *, mark_sent: bool) -> Response:
        state = fortnox_state(request)
        with state.lock:
            record = find_document(company, INVOICES, number)
            if mark_sent and not record["Sent"]:
                record["Sent"] = True
                company.touch(INVOICES.table, number, state.now())
            content = pdf.invoice_pdf(company, copy.deepcopy(record))
        return Response(content=content, media_type="application/pdf")

    @router.get("/{number}/print")
    def print_invoice(number: str, request: Request, company: Company = company_dep) -> Response:
        return document_pdf(number, request, company, mark_sent=True)

    @router.get("/{number}/preview")
    def preview_invoice(number: str, request: Request, company: Company = company_dep) -> Response:
        return document_pdf(number, request, company, mark_sent=False)

    return router


__all__ = ["INVALID_PARAMETER", "INVOICES", "create_invoice", "invoice_from_order", "invoices_router", "settle"]
