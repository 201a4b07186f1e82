"""Invoice payments, /3/invoicepayments (scope `payment`), and modes of payment, /3/modesofpayments (scope
`settings`) (fact sheet §5.6b [M]).

- POST needs `InvoiceNumber` of an existing invoice; `Amount` is in SEK, `AmountCurrency` in the invoice's
  currency; `ModeOfPayment` must be an existing code of /3/modesofpayments; `Number`, `Booked`, the voucher and the
  `Invoice*` echo fields are read-only.
- `PUT /3/invoicepayments/{Number}/bookkeep` books a payment [?: the action name is unverified (§5.6b)].
- The invoice's `Balance` and `FullyPaid` follow its payments (invoices.settle).
- Every company has the modes BG, PG, KORT and SWISH [?: the sandbox's seed; real companies have their own].

Guesses ([?]): a payment needs a booked, not cancelled invoice; `ModeOfPayment` is required; Number and
InvoiceNumber are JSON integers; AmountCurrency defaults to Amount converted with the invoice's rate (and the
other way round); a booked payment cannot be changed or deleted; payments are booked in voucher series "C";
the codes of the refusals; `invoicenumber` is the list's one search.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Final

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import INVALID_FIELD_NAME, INVALID_PARAMETER, READ_ONLY_FIELD, FortnoxApiError
from bridge_sandboxes.fortnox.invoices import INVOICE_NOT_FOUND, INVOICES, PAYMENTS_TABLE, settle
from bridge_sandboxes.fortnox.orders import _date, text, today
from bridge_sandboxes.fortnox.state import Company, FortnoxState
from bridge_sandboxes.fortnox.totals import money
from bridge_sandboxes.fortnox.wire import (
    FortnoxRouter,
    changed_since,
    contains,
    json_body,
    one_filter,
    page_of,
    paginate,
    resource_url,
    sort_order,
    to_number,
    unwrap,
)

MODES_TABLE: Final = "modesofpayments"
# [?] Codes the fact sheet does not know.
PAYMENT_NOT_FOUND: Final = 2000427
MODE_OF_PAYMENT_NOT_FOUND: Final = 2000426
PAYMENT_REFUSED: Final = 2000425

DEFAULT_MODES: Final = (  # [?] the sandbox's seed: code, description, account (BAS)
    ("BG", "Bankgiro", 1930),
    ("PG", "Plusgiro", 1920),
    ("KORT", "Kortbetalning", 1580),
    ("SWISH", "Swish", 1930),
)
WRITABLE: Final = frozenset(
    [
        "InvoiceNumber",
        "Amount",
        "AmountCurrency",
        "Currency",
        "CurrencyRate",
        "CurrencyUnit",
        "PaymentDate",
        "ModeOfPayment",
        "ModeOfPaymentAccount",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "WriteOffs",
    ]
)
READ_ONLY: Final = frozenset(
    [
        "@url",
        "Number",
        "Booked",
        "Source",
        "VoucherNumber",
        "VoucherSeries",
        "VoucherYear",
        "InvoiceCustomerName",
        "InvoiceCustomerNumber",
        "InvoiceDueDate",
        "InvoiceOCR",
        "InvoiceTotal",
    ]
)


def seed_modes_of_payment(company: Company, at: Any) -> None:
    """Gives a company the default modes of payment once (also called lazily by every handler here)."""
    marker = f"{MODES_TABLE}:seeded"
    if company.sequences.get(marker):
        return
    company.sequences[marker] = 1
    for code, description, account in DEFAULT_MODES:
        if code not in company.table(MODES_TABLE):
            company.save(MODES_TABLE, code, {"Code": code, "Description": description, "AccountNumber": account}, at)


def _bad(code: int, message: str) -> FortnoxApiError:
    return FortnoxApiError(400, code, message)


def _find_payment(company: Company, number: str) -> dict[str, Any]:
    record = company.table(PAYMENTS_TABLE).get(number)
    if record is None:
        raise FortnoxApiError(404, PAYMENT_NOT_FOUND, "Kan inte hitta inbetalningen.")
    return record


def _invoice_for_payment(company: Company, number: Any) -> dict[str, Any]:
    if number in (None, ""):
        raise _bad(INVOICE_NOT_FOUND, "Fakturanummer saknas (InvoiceNumber).")
    invoice = company.table(INVOICES.table).get(text(number))
    if invoice is None:
        raise _bad(INVOICE_NOT_FOUND, f"Kan inte hitta fakturan ({text(number)}).")
    if invoice["Cancelled"]:
        raise _bad(PAYMENT_REFUSED, "En makulerad faktura kan inte betalas.")  # [?]
    if not invoice["Booked"]:
        raise _bad(PAYMENT_REFUSED, "Fakturan måste vara bokförd innan en inbetalning registreras.")  # [?]
    return invoice


def _apply(company: Company, state: FortnoxState, record: dict[str, Any], fields: dict[str, Any]) -> None:
    for name in fields:
        if name in READ_ONLY:
            raise _bad(READ_ONLY_FIELD, f"Felaktigt fältnamn ({name}). Fältet är skrivskyddat.")
        if name not in WRITABLE:
            raise _bad(INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")
    invoice = company.table(INVOICES.table)[text(record["InvoiceNumber"])]
    rate = (
        Decimal(fields["CurrencyRate"]) if fields.get("CurrencyRate") is not None else Decimal(invoice["CurrencyRate"])
    )
    unit = (
        Decimal(fields["CurrencyUnit"]) if fields.get("CurrencyUnit") is not None else Decimal(invoice["CurrencyUnit"])
    )
    if rate <= 0 or unit <= 0:
        raise _bad(INVALID_PARAMETER, "Ogiltig valutakurs.")
    if fields.get("Currency") not in (None, "") and fields["Currency"] != invoice["Currency"]:
        raise _bad(INVALID_PARAMETER, "Valutan måste vara fakturans valuta.")  # [?]
    amount = money(to_number(fields["Amount"], "Amount")) if fields.get("Amount") is not None else None
    amount_currency = (
        money(to_number(fields["AmountCurrency"], "AmountCurrency"))
        if fields.get("AmountCurrency") is not None
        else None
    )
    if amount is None and amount_currency is None and "Amount" not in record:
        raise _bad(INVALID_PARAMETER, "Belopp saknas (Amount).")  # [?]
    if amount is not None and amount_currency is None:
        amount_currency = amount if invoice["Currency"] == "SEK" else money(amount * unit / rate)
    elif amount_currency is not None and amount is None:
        amount = amount_currency if invoice["Currency"] == "SEK" else money(amount_currency * rate / unit)
    if amount is not None and amount_currency is not None:
        record["Amount"], record["AmountCurrency"] = amount, amount_currency
    record["Currency"], record["CurrencyRate"], record["CurrencyUnit"] = invoice["Currency"], rate, unit
    if "PaymentDate" in fields:
        record["PaymentDate"] = _date(fields["PaymentDate"], "PaymentDate") or today(state)
    mode = fields.get("ModeOfPayment", record.get("ModeOfPayment"))
    if mode in (None, ""):
        raise _bad(MODE_OF_PAYMENT_NOT_FOUND, "Betalsätt saknas (ModeOfPayment).")  # [?] required
    found = company.table(MODES_TABLE).get(text(mode))
    if found is None:
        raise _bad(MODE_OF_PAYMENT_NOT_FOUND, f"Kunde inte hitta betalsätt ({mode}).")
    record["ModeOfPayment"] = found["Code"]
    if fields.get("ModeOfPaymentAccount") is not None:
        record["ModeOfPaymentAccount"] = int(to_number(fields["ModeOfPaymentAccount"], "ModeOfPaymentAccount"))
    elif "ModeOfPayment" in fields or record.get("ModeOfPaymentAccount") is None:
        record["ModeOfPaymentAccount"] = found["AccountNumber"]
    for name in ("ExternalInvoiceReference1", "ExternalInvoiceReference2"):
        if fields.get(name) is not None:
            record[name] = text(fields[name])
    if "WriteOffs" in fields:
        if not isinstance(fields["WriteOffs"], list):
            raise _bad(INVALID_PARAMETER, "Ogiltiga avskrivningar (WriteOffs).")
        record["WriteOffs"] = fields["WriteOffs"]


def _settle_invoice(company: Company, state: FortnoxState, invoice_number: Any) -> None:
    invoice = company.table(INVOICES.table).get(text(invoice_number))
    if invoice is not None:
        settle(company, invoice)
        company.touch(INVOICES.table, invoice["DocumentNumber"], state.now())


def create_payment(company: Company, state: FortnoxState, fields: dict[str, Any]) -> dict[str, Any]:
    invoice = _invoice_for_payment(company, fields.get("InvoiceNumber"))
    record: dict[str, Any] = {
        "Booked": False,
        "ExternalInvoiceReference1": "",
        "ExternalInvoiceReference2": "",
        "InvoiceCustomerName": invoice["CustomerName"],
        "InvoiceCustomerNumber": invoice["CustomerNumber"],
        "InvoiceDueDate": invoice["DueDate"],
        "InvoiceNumber": int(invoice["DocumentNumber"]),
        "InvoiceOCR": invoice["OCR"],
        "InvoiceTotal": invoice["Total"],
        "ModeOfPayment": None,
        "ModeOfPaymentAccount": None,
        "PaymentDate": today(state),
        "Source": "manual",
        "VoucherNumber": None,
        "VoucherSeries": None,
        "VoucherYear": None,
        "WriteOffs": [],
    }
    _apply(company, state, record, fields)
    number = company.next_number(PAYMENTS_TABLE)
    record["Number"] = int(number)
    company.save(PAYMENTS_TABLE, number, record, state.now())
    _settle_invoice(company, state, invoice["DocumentNumber"])
    return record


def _render(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    return {"@url": resource_url(request, f"invoicepayments/{record['Number']}"), **record}


def _summary(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    names = ("Amount", "Booked", "Currency", "CurrencyRate", "CurrencyUnit", "InvoiceNumber", "Number", "PaymentDate")
    return {"@url": resource_url(request, f"invoicepayments/{record['Number']}"), **{n: record[n] for n in names}}


def payments_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/invoicepayments", tags=["invoicepayments"])
    company_dep = Depends(company_for("payment"))
    body_dep = Depends(json_body)

    @router.get("")
    @router.get("/", include_in_schema=False)
    def list_payments(request: Request, company: Company = company_dep) -> dict[str, Any]:
        params = request.query_params
        chosen = one_filter(params, ("invoicenumber",), ())
        page = page_of(params)
        descending = sort_order(params)
        with fortnox_state(request).lock:
            changed = changed_since(company, PAYMENTS_TABLE, params)
            records = [r for key, r in company.table(PAYMENTS_TABLE).items() if changed(key)]
            if chosen is not None:
                records = [r for r in records if contains(r["InvoiceNumber"], chosen[1])]
            records.sort(key=lambda r: int(r["Number"]), reverse=descending)
            shown, meta = paginate(records, page)
            return {"MetaInformation": meta, "InvoicePayments": [_summary(request, r) for r in shown]}

    @router.get("/{number}")
    def get_payment(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"InvoicePayment": _render(request, _find_payment(company, number))}

    @router.post("", status_code=201)
    @router.post("/", status_code=201, include_in_schema=False)
    def post_payment(request: Request, body: Any = body_dep, company: Company = company_dep) -> Any:
        fields = unwrap(body, "InvoicePayment")
        state = fortnox_state(request)
        with state.lock:
            seed_modes_of_payment(company, state.now())
            return {"InvoicePayment": _render(request, create_payment(company, state, fields))}

    @router.put("/{number}")
    def put_payment(
        number: str, request: Request, body: Any = body_dep, company: Company = company_dep
    ) -> dict[str, Any]:
        fields = unwrap(body, "InvoicePayment")
        state = fortnox_state(request)
        with state.lock:
            seed_modes_of_payment(company, state.now())
            record = copy.deepcopy(_find_payment(company, number))
            if record["Booked"]:
                raise _bad(PAYMENT_REFUSED, "En bokförd inbetalning kan inte ändras.")  # [?]
            given = fields.get("InvoiceNumber")
            if given not in (None, "") and text(given) != text(record["InvoiceNumber"]):
                raise _bad(INVALID_FIELD_NAME, "Fakturanumret kan inte ändras.")  # [?]
            _apply(company, state, record, {k: v for k, v in fields.items() if k != "InvoiceNumber"})
            company.save(PAYMENTS_TABLE, number, record, state.now())
            _settle_invoice(company, state, record["InvoiceNumber"])
            return {"InvoicePayment": _render(request, record)}

    @router.delete("/{number}", status_code=204)
    def delete_payment(number: str, request: Request, company: Company = company_dep) -> Response:
        state = fortnox_state(request)
        with state.lock:
            record = _find_payment(company, number)
            if record["Booked"]:
                raise _bad(PAYMENT_REFUSED, "En bokförd inbetalning kan inte tas bort.")  # [?]
            company.remove(PAYMENTS_TABLE, number)
            _settle_invoice(company, state, record["InvoiceNumber"])
        return Response(status_code=204)

    @router.put("/{number}/bookkeep")  # [?] the action name (§5.6b)
    def bookkeep_payment(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            record = _find_payment(company, number)
            if record["Booked"]:
                raise _bad(PAYMENT_REFUSED, "Inbetalningen är redan bokförd.")  # [?]
            record["Booked"] = True
            record["VoucherSeries"] = "C"  # [?] the payments series
            record["VoucherNumber"] = int(company.next_number("vouchers:C"))
            record["VoucherYear"] = 1
            company.save(PAYMENTS_TABLE, number, record, state.now())
            return {"InvoicePayment": _render(request, record)}

    return router


def modes_of_payment_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/modesofpayments", tags=["modesofpayments"])
    company_dep = Depends(company_for("settings", "payment"))  # §1.8: settings; [?] payment accepted too

    def render(request: Request, record: dict[str, Any]) -> dict[str, Any]:
        return {"@url": resource_url(request, f"modesofpayments/{record['Code']}"), **record}

    @router.get("")
    @router.get("/", include_in_schema=False)
    def list_modes(request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            seed_modes_of_payment(company, state.now())
            records = [render(request, r) for _, r in sorted(company.table(MODES_TABLE).items())]
        shown, meta = paginate(records, page_of(request.query_params))
        return {"MetaInformation": meta, "ModesOfPayments": shown}

    @router.get("/{code}")
    def get_mode(code: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            seed_modes_of_payment(company, state.now())
            record = company.table(MODES_TABLE).get(code)
            if record is None:
                raise FortnoxApiError(404, MODE_OF_PAYMENT_NOT_FOUND, f"Kunde inte hitta betalsätt ({code}).")
            return {"ModeOfPayment": render(request, record)}

    return router
