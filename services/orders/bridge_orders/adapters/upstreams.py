"""The orders service's ports over the shared ikas and Fortnox clients: map, decide nothing (style.md rule 4)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from bridge_orders.app.ports import (
    AttachedInvoice,
    FortnoxDocument,
    FortnoxInvoiceRef,
    FortnoxInvoiceState,
    FortnoxOrderState,
    FortnoxOrderSummary,
    FortnoxPayment,
    OrderHead,
    UnknownCustomer,
)
from bridge_orders.domain.after_transfer import CreditRow, FortnoxRow, RowPut
from bridge_orders.domain.ikas_order import (
    AttributeValues,
    IkasAddress,
    IkasAdjustment,
    IkasBaseUnit,
    IkasCustomer,
    IkasGiftPackageLine,
    IkasInvoice,
    IkasLine,
    IkasOrder,
    IkasPaymentMethod,
    IkasShippingLine,
    IkasTaxLine,
    IkasUnit,
)
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft, OrderRow
from bridge_orders.domain.order_record import Exchange
from bridge_platform.errors import OutcomeUnknown, UpstreamError, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.fortnox.client import (
    DocumentRow,
    FortnoxClient,
    Invoice,
    InvoicePayment,
    Order,
    decimal_of,
    dumps,
    text_of,
)
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

# "customer not found": 2000204 for a customer number a document names, 2000433 for /3/customers/{n}
# (fortnox-api.md §3; the sandbox answers an order for an unknown customer with 2000204).
CUSTOMER_NOT_FOUND: Final = frozenset({"2000204", "2000433"})


@contextmanager
def _request_on_failure(request: str) -> Iterator[None]:
    """A failed call's error carries the redacted request, so the timeline can show what was sent."""
    try:
        yield
    except UpstreamError as error:
        error.extra.setdefault("request", request)
        raise


@contextmanager
def _unknown_customer() -> Iterator[None]:
    """Fortnox's "customer not found" refusals as UnknownCustomer."""
    try:
        yield
    except UpstreamRejected as error:
        if error.upstream_code not in CUSTOMER_NOT_FOUND:
            raise
        raise UnknownCustomer(
            error.upstream, error.detail, error.status, error.upstream_code, dict(error.extra)
        ) from error


def _address(address: m.OrderAddress | None) -> IkasAddress | None:
    if address is None:
        return None
    return IkasAddress(
        first_name=address.first_name,
        last_name=address.last_name,
        company=address.company,
        address_line1=address.address_line1,
        address_line2=address.address_line2,
        postal_code=address.postal_code,
        city=address.city,
        country_iso2=address.country_iso2,
        phone=address.phone,
        tax_number=address.tax_number,
    )


def _line_name(line: m.OrderLine) -> str:
    values = ", ".join(value for _, value in line.variant.values if value)
    return f"{line.variant.name} ({values})" if values else line.variant.name


def ikas_order_of(order: m.Order) -> IkasOrder:
    customer = order.customer
    return IkasOrder(
        id=order.id,
        number=order.number or order.id,
        status=order.status,
        payment_status=order.payment_status,
        package_status=order.package_status,
        ordered_at=order.ordered_at or order.updated_at or datetime.now(UTC),
        updated_at=order.updated_at,
        currency=order.currency,
        total_final_price=order.total_final_price,
        customer=IkasCustomer(
            email=customer.email,
            name=customer.full_name or " ".join(n for n in (customer.first_name, customer.last_name) if n) or None,
            phone=customer.phone,
            preferred_language=customer.preferred_language,
        )
        if customer is not None
        else None,
        billing_address=_address(order.billing_address),
        lines=tuple(
            IkasLine(
                id=line.id,
                variant_id=line.variant.id,
                sku=line.variant.sku,
                name=_line_name(line),
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.tax_rate,
                status=line.status,
                product_id=line.variant.product_id,
                unit=IkasUnit(line.variant.unit.amount, line.variant.unit.type) if line.variant.unit else None,
                base_unit=IkasBaseUnit(
                    line.variant.base_unit_amount, line.variant.base_unit_type, line.variant.base_unit_name
                )
                if line.variant.base_unit_type
                else None,
            )
            for line in order.lines
        ),
        shipping_lines=tuple(
            IkasShippingLine(s.title, s.final_price, s.tax_rate) for s in order.shipping_lines if not s.is_refunded
        ),
        tax_lines=tuple(IkasTaxLine(t.rate, t.amount) for t in order.tax_lines),
        adjustments=tuple(IkasAdjustment(a.name, a.type, a.amount, a.amount_type) for a in order.adjustments),
        gift_package_lines=tuple(
            IkasGiftPackageLine(g.price, g.tax_rate) for g in order.gift_package_lines if not g.is_refunded
        ),
        invoices=tuple(
            IkasInvoice(i.id, i.number, i.app_id or None, i.store_app_id or None, i.created_at) for i in order.invoices
        ),
        payment_methods=tuple(IkasPaymentMethod(p.type, p.amount) for p in order.payment_methods),
        refunded_shipping_lines=tuple(
            IkasShippingLine(s.title, s.final_price, s.tax_rate) for s in order.shipping_lines if s.is_refunded
        ),
    )


class HttpIkasOrders:
    """IkasOrders over the ikas Admin API v1."""

    def __init__(self, client: IkasClient) -> None:
        self._client = client

    def get_order(self, tenant_id: str, ikas_order_id: str) -> IkasOrder | None:
        found = self._client.get_order(tenant_id, ikas_order_id)
        return ikas_order_of(found) if found is not None else None

    def prices_include_vat(self, tenant_id: str) -> bool:
        settings = self._client.get_global_tax_settings(tenant_id)
        return not (settings is not None and settings.tax_excluded_on_prices)

    def attribute_values(self, tenant_id: str, attribute: str, product_ids: Collection[str]) -> AttributeValues:
        attributes = [a for a in self._client.list_product_attributes(tenant_id, name=attribute) if not a.deleted]
        chosen = [a for a in attributes if a.name == attribute]
        if not chosen or not product_ids:
            return AttributeValues()
        options = {option_id: name for a in chosen for option_id, name in a.options}
        wanted = {a.id for a in chosen}

        def value_of(values: tuple[m.AttributeValue, ...]) -> str | None:
            for value in values:
                if value.attribute_id in wanted:
                    text = options.get(value.option_id or "") or value.value
                    if text and text.strip():
                        return text.strip()
            return None

        by_variant: dict[str, str] = {}
        by_product: dict[str, str] = {}
        for product in self._client.product_attribute_values(tenant_id, list(product_ids)):
            if (found := value_of(product.values)) is not None:
                by_product[product.product_id] = found
            for variant_id, values in product.variants.items():
                if (found := value_of(values)) is not None:
                    by_variant[variant_id] = found
        return AttributeValues(by_variant=by_variant, by_product=by_product)


class HttpIkasOrderInvoices:
    """IkasOrderInvoices over the ikas Admin API v1 (addOrderInvoice, fact sheet §6.5).

    `appId` [?]: the app's storeAppId (getAuthorizedApp), which ikas also records as the invoice's storeAppId;
    read once per tenant and process."""

    def __init__(self, client: IkasClient) -> None:
        self._client = client
        self._app_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def app_id(self, tenant_id: str) -> str:
        with self._lock:
            known = self._app_ids.get(tenant_id)
        if known is not None:
            return known
        app_id = self._client.get_authorized_app(tenant_id).store_app_id
        with self._lock:
            self._app_ids[tenant_id] = app_id
        return app_id

    def attach(
        self,
        tenant_id: str,
        ikas_order_id: str,
        invoice_number: str,
        pdf: bytes,
        *,
        buyer_is_company: bool,
        notify_customer: bool,
    ) -> AttachedInvoice:
        app_id = self.app_id(tenant_id)
        kind = "COMPANY" if buyer_is_company else "INDIVIDUAL"
        request = (
            f"addOrderInvoice(orderId: {ikas_order_id}, invoiceNumber: {invoice_number}, type: {kind}, "
            f"appId: {app_id}, sendNotificationToCustomer: {str(notify_customer).lower()}, "
            f"base64: <the invoice PDF, {len(pdf)} bytes>)"
        )
        with _request_on_failure(request):
            invoices = self._client.add_order_invoice(
                tenant_id,
                m.InvoiceAttachment(
                    order_id=ikas_order_id,
                    invoice_number=invoice_number,
                    app_id=app_id,
                    pdf=pdf,
                    type=kind,
                    send_notification_to_customer=notify_customer,
                ),
            )
        ours = [i for i in invoices if i.number == invoice_number and i.store_app_id == app_id]
        listed = ", ".join(f"{i.number}{' (PDF)' if i.has_pdf else ''}" for i in invoices) or "none"
        return AttachedInvoice(
            created_at=ours[-1].created_at if ours else None,
            exchange=Exchange(request, f"the order's invoices: {listed}"),
        )


def _figures(order: Order) -> str:
    shown = {
        "DocumentNumber": order.number,
        "Total": order.total,
        "TotalVAT": order.total_vat,
        "RoundOff": order.round_off,
        "FreightVAT": order.freight_vat,
        "Currency": order.currency,
    }
    return dumps({"Order": {k: v for k, v in shown.items() if v is not None}}).decode()


def _summary(order: Order, exchange: Exchange | None = None) -> FortnoxOrderSummary:
    return FortnoxOrderSummary(
        number=order.number,
        currency=order.currency,
        total=order.total,
        total_vat=order.total_vat,
        round_off=order.round_off,
        freight_vat=order.freight_vat,
        exchange=exchange,
        invoice_number=order.invoice_reference,
        cancelled=bool(order.cancelled),
    )


def row_fields(row: OrderRow | FortnoxRow, quantity: Decimal, *, order: bool) -> dict[str, Any]:
    """One document row's fields (fortnox-api.md §5.5-5.6): an order row has OrderedQuantity too; an invoice row's
    quantity is DeliveredQuantity only (negative on a credit invoice)."""
    fields: dict[str, Any] = {"Description": row.description}
    if order:
        fields["OrderedQuantity"] = quantity
    fields.update(DeliveredQuantity=quantity, Price=row.price, VAT=row.vat)
    if row.article_number:
        fields["ArticleNumber"] = row.article_number
    if row.account_number is not None:
        fields["AccountNumber"] = row.account_number
    if row.unit:
        fields["Unit"] = row.unit
    return fields


def order_fields(draft: OrderDraft) -> dict[str, Any]:
    """The Fortnox Order body (fortnox-api.md §5.5); amounts stay Decimal (sent as exact JSON numbers)."""
    rows = [row_fields(row, row.quantity, order=True) for row in draft.rows]
    body: dict[str, Any] = {
        "CustomerNumber": draft.customer_number,
        "OrderDate": draft.order_date.isoformat(),
        "YourOrderNumber": draft.your_order_number,
        "ExternalInvoiceReference1": draft.external_invoice_reference1,
        "Language": draft.language,
        "Currency": draft.currency,
        "VATIncluded": draft.vat_included,
        "OrderRows": rows,
    }
    if draft.freight is not None:
        body["Freight"] = draft.freight
    return body


class HttpFortnoxOrders:
    """FortnoxOrders over the Fortnox REST API v3."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def find(self, tenant_id: str, key: str, *, in_invoices: bool) -> FortnoxOrderSummary | None:
        request = f"GET /3/orders?externalinvoicereference1={key}"
        with _request_on_failure(request):
            order = self._client.find_order_by_external_reference(tenant_id, key)
            if order is None and in_invoices:
                request = f"GET /3/invoices?externalinvoicereference1={key}"
                invoice = self._client.find_invoice_by_external_reference(tenant_id, key)
                if invoice is not None and invoice.order_reference:
                    order = self._client.get_order(tenant_id, invoice.order_reference)
        return _summary(order, Exchange(request, _figures(order))) if order is not None else None

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        fields = order_fields(draft)
        request = f"POST /3/orders {dumps({'Order': fields}).decode()}"
        with _request_on_failure(request), _unknown_customer():
            order = self._client.create_order(tenant_id, fields)
        return _summary(order, Exchange(request, _figures(order)))


class HttpFortnoxInvoices:
    """FortnoxInvoices over the Fortnox REST API v3 (fortnox-api.md §5.5, §5.6)."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def order_state(self, tenant_id: str, order_number: str) -> FortnoxOrderState | None:
        request = f"GET /3/orders/{order_number}"
        with _request_on_failure(request):
            order = self._client.get_order(tenant_id, order_number)
        if order is None:
            return None
        response = dumps(
            {
                "Order": {
                    "DocumentNumber": order.number,
                    "InvoiceReference": order.invoice_reference or "0",
                    "Cancelled": bool(order.cancelled),
                }
            }
        ).decode()
        return FortnoxOrderState(
            order.number, order.invoice_reference, bool(order.cancelled), Exchange(request, response)
        )

    def find(self, tenant_id: str, key: str) -> FortnoxInvoiceRef | None:
        request = f"GET /3/invoices?externalinvoicereference1={key}"
        with _request_on_failure(request):
            invoice = self._client.find_invoice_by_external_reference(tenant_id, key)
        if invoice is None:
            return None
        return FortnoxInvoiceRef(invoice.number, Exchange(request, f"Invoice {invoice.number}"))

    def create_from_order(self, tenant_id: str, order_number: str) -> FortnoxInvoiceRef:
        request = f"PUT /3/orders/{order_number}/createinvoice"
        with _request_on_failure(request):
            number = self._client.create_invoice_from_order(tenant_id, order_number)
        return FortnoxInvoiceRef(
            number, Exchange(request, f"Invoice {number} (InvoiceReference of order {order_number})")
        )

    def email(self, tenant_id: str, invoice_number: str) -> Exchange:
        # The e-mail's own text (EmailInformation) is never shown: only that Fortnox was asked and what it said.
        request = f"GET /3/invoices/{invoice_number}/email"
        with _request_on_failure(request):
            invoice = self._client.email_invoice(tenant_id, invoice_number)
        return Exchange(request, f"Invoice {invoice.number}, Sent: {str(bool(invoice.sent)).lower()}")

    def pdf(self, tenant_id: str, invoice_number: str, *, mark_sent: bool) -> bytes:
        request = f"GET /3/invoices/{invoice_number}/{'print' if mark_sent else 'preview'}"
        with _request_on_failure(request):
            if mark_sent:
                return self._client.print_invoice(tenant_id, invoice_number)
            return self._client.preview_invoice(tenant_id, invoice_number)


HOME_CURRENCY: Final = "SEK"
CENT: Final = Decimal("0.01")


def _in_invoice_currency(payment: InvoicePayment, currency: str) -> Decimal:
    """A payment's amount in the invoice's currency: AmountCurrency when Fortnox gives it, else Amount (SEK)
    through the payment's rate (the list of payments names Amount, CurrencyRate and CurrencyUnit only)."""
    raw = payment.raw
    given = decimal_of(raw.get("AmountCurrency"))
    amount = payment.amount or Decimal(0)
    if given is not None:
        return given
    if currency == HOME_CURRENCY:
        return amount
    rate, unit = decimal_of(raw.get("CurrencyRate")), decimal_of(raw.get("CurrencyUnit")) or Decimal(1)
    return (amount * unit / rate).quantize(CENT) if rate else amount


class HttpFortnoxSettlements:
    """FortnoxSettlements over the Fortnox REST API v3 (fortnox-api.md §5.6, §5.6b)."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def invoice_state(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceState | None:
        request = f"GET /3/invoices/{invoice_number}"
        with _request_on_failure(request):
            invoice = self._client.get_invoice(tenant_id, invoice_number)
        if invoice is None:
            return None
        shown = {
            "DocumentNumber": invoice.number,
            "Total": invoice.total,
            "Currency": invoice.currency,
            "Booked": bool(invoice.booked),
            "Cancelled": bool(invoice.cancelled),
            "Balance": invoice.balance,
            "CreditInvoiceReference": invoice.credit_invoice_reference or "0",
        }
        return FortnoxInvoiceState(
            number=invoice.number,
            currency=invoice.currency or HOME_CURRENCY,
            total=invoice.total or Decimal(0),
            booked=bool(invoice.booked),
            cancelled=bool(invoice.cancelled),
            credit_invoice_number=invoice.credit_invoice_reference,
            exchange=Exchange(request, dumps({"Invoice": shown}).decode()),
        )

    def bookkeep_invoice(self, tenant_id: str, invoice_number: str) -> Exchange:
        request = f"PUT /3/invoices/{invoice_number}/bookkeep"
        with _request_on_failure(request):
            invoice = self._client.bookkeep_invoice(tenant_id, invoice_number)
        return Exchange(request, f"Invoice {invoice.number}, Booked: {str(bool(invoice.booked)).lower()}")

    def payments(self, tenant_id: str, invoice_number: str, currency: str) -> list[FortnoxPayment]:
        request = f"GET /3/invoicepayments?invoicenumber={invoice_number}"
        with _request_on_failure(request):
            found = self._client.invoice_payments(tenant_id, invoice_number)
        return [self._payment(p, currency, Exchange(request, self._shown(p))) for p in found]

    def register_payment(
        self, tenant_id: str, invoice_number: str, amount: Decimal, currency: str, mode_of_payment: str
    ) -> FortnoxPayment:
        # Amount is in SEK, AmountCurrency in the invoice's currency (§5.6b): a foreign invoice is paid in its own.
        fields: dict[str, Any] = {"InvoiceNumber": int(invoice_number), "ModeOfPayment": mode_of_payment}
        fields["Amount" if currency == HOME_CURRENCY else "AmountCurrency"] = amount
        request = f"POST /3/invoicepayments {dumps({'InvoicePayment': fields}).decode()}"
        with _request_on_failure(request):
            payment = self._client.create_invoice_payment(tenant_id, fields)
        return self._payment(payment, currency, Exchange(request, self._shown(payment)))

    def bookkeep_payment(self, tenant_id: str, payment_number: str) -> Exchange:
        request = f"PUT /3/invoicepayments/{payment_number}/bookkeep"
        with _request_on_failure(request):
            payment = self._client.bookkeep_invoice_payment(tenant_id, payment_number)
        return Exchange(request, self._shown(payment))

    def credit_invoice(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceRef:
        request = f"PUT /3/invoices/{invoice_number}/credit"
        with _request_on_failure(request):
            number = self._client.credit_invoice(tenant_id, invoice_number)
        return FortnoxInvoiceRef(
            number, Exchange(request, f"Invoice {invoice_number}, CreditInvoiceReference {number}")
        )

    def cancel_order(self, tenant_id: str, order_number: str) -> Exchange:
        request = f"PUT /3/orders/{order_number}/cancel"
        with _request_on_failure(request):
            order = self._client.cancel_order(tenant_id, order_number)
        return Exchange(request, f"Order {order.number}, Cancelled: {str(bool(order.cancelled)).lower()}")

    @staticmethod
    def _payment(payment: InvoicePayment, currency: str, exchange: Exchange) -> FortnoxPayment:
        return FortnoxPayment(payment.number, _in_invoice_currency(payment, currency), bool(payment.booked), exchange)

    @staticmethod
    def _shown(payment: InvoicePayment) -> str:
        shown = {
            "Number": payment.number,
            "InvoiceNumber": payment.invoice_number,
            "Amount": payment.amount,
            "ModeOfPayment": payment.mode_of_payment,
            "Booked": bool(payment.booked),
        }
        return dumps({"InvoicePayment": {k: v for k, v in shown.items() if v is not None}}).decode()


def _fortnox_row(row: DocumentRow) -> FortnoxRow:
    return FortnoxRow(
        row.row_id,
        row.article_number,
        row.description or "",
        row.delivered_quantity or Decimal(0),
        row.price or Decimal(0),
        row.vat or Decimal(0),
        row.account_number,
        row.unit,
    )


def _rows_shown(rows: tuple[FortnoxRow, ...]) -> list[dict[str, Any]]:
    return [
        {"RowId": r.row_id, "ArticleNumber": r.article_number, "DeliveredQuantity": r.quantity, "Price": r.price}
        for r in rows
    ]


def _order_document(order: Order, request: str) -> FortnoxDocument:
    rows = tuple(_fortnox_row(r) for r in order.rows)
    shown = {"DocumentNumber": order.number, "Freight": order.freight, "OrderRows": _rows_shown(rows)}
    return FortnoxDocument(
        number=order.number,
        rows=rows,
        freight=order.freight or Decimal(0),
        exchange=Exchange(request, dumps({"Order": shown}).decode()),
        invoice_number=order.invoice_reference,
        cancelled=bool(order.cancelled),
        total=order.total,
    )


def _invoice_document(invoice: Invoice, request: str) -> FortnoxDocument:
    rows = tuple(_fortnox_row(r) for r in invoice.rows)
    shown = {
        "DocumentNumber": invoice.number,
        "Credit": bool(invoice.credit),
        "Booked": bool(invoice.booked),
        "Freight": invoice.freight,
        "Total": invoice.total,
        "InvoiceRows": _rows_shown(rows),
    }
    return FortnoxDocument(
        number=invoice.number,
        rows=rows,
        freight=invoice.freight or Decimal(0),
        exchange=Exchange(request, dumps({"Invoice": shown}).decode()),
        cancelled=bool(invoice.cancelled),
        booked=bool(invoice.booked),
        credit=bool(invoice.credit),
        total=invoice.total,
        customer_number=invoice.customer_number,
        currency=invoice.currency,
        vat_included=invoice.vat_included is not False,
        your_order_number=text_of(invoice.raw.get("YourOrderNumber")),
        language=text_of(invoice.raw.get("Language")),
    )


class HttpFortnoxDocuments:
    """FortnoxDocuments over the Fortnox REST API v3 (fortnox-api.md §5.5, §5.6)."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def order(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        request = f"GET /3/orders/{number}"
        with _request_on_failure(request):
            order = self._client.get_order(tenant_id, number)
        return _order_document(order, request) if order is not None else None

    def update_order(
        self, tenant_id: str, number: str, rows: Sequence[RowPut], freight: Decimal | None, head: OrderHead | None
    ) -> FortnoxDocument:
        sent: list[dict[str, Any]] = []
        for put in rows:
            fields = row_fields(put.row, put.row.quantity, order=True) if put.row is not None else {}
            if put.row_id is not None:
                fields = {"RowId": int(put.row_id) if put.row_id.isdigit() else put.row_id, **fields}
            sent.append(fields)
        body: dict[str, Any] = {"OrderRows": sent}
        if freight is not None:
            body["Freight"] = freight
        if head is not None:
            body.update(
                CustomerName=head.name,
                Address1=head.address1,
                Address2=head.address2,
                ZipCode=head.zip_code,
                City=head.city,
            )
        request = f"PUT /3/orders/{number} {dumps({'Order': body}).decode()}"
        with _request_on_failure(request):
            order = self._client.update_order(tenant_id, number, body)
        return _order_document(order, request)

    def invoice(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        request = f"GET /3/invoices/{number}"
        with _request_on_failure(request):
            invoice = self._client.get_invoice(tenant_id, number)
        return _invoice_document(invoice, request) if invoice is not None else None

    def credits_of(self, tenant_id: str, key: str, invoice_number: str) -> list[FortnoxDocument]:
        request = f"GET /3/invoices?externalinvoicereference1={key}"
        with _request_on_failure(request):
            invoices = self._client.invoices_by_external_reference(tenant_id, key)
        return [
            _invoice_document(i, request)
            for i in invoices
            if i.credit and i.credit_invoice_reference == invoice_number and not i.cancelled
        ]

    def create_credit(
        self, tenant_id: str, invoice: FortnoxDocument, key: str, rows: Sequence[CreditRow], freight: Decimal
    ) -> FortnoxInvoiceRef:
        # The credited rows as the invoice has them (its prices and VAT), with negative quantities.
        credit_rows = [row_fields(credit.invoiced, -credit.quantity, order=False) for credit in rows]
        number = invoice.number
        body: dict[str, Any] = {
            "CustomerNumber": invoice.customer_number,
            "CreditInvoiceReference": int(number) if number.isdigit() else number,
            "ExternalInvoiceReference1": key,
            "Currency": invoice.currency,
            "VATIncluded": invoice.vat_included,
            "InvoiceRows": credit_rows,
        }
        if invoice.your_order_number:
            body["YourOrderNumber"] = invoice.your_order_number
        if invoice.language:
            body["Language"] = invoice.language
        if freight:
            body["Freight"] = -freight
        request = f"POST /3/invoices {dumps({'Invoice': body}).decode()}"
        with _request_on_failure(request):
            credit_invoice = self._client.create_invoice(tenant_id, body)
        return FortnoxInvoiceRef(
            credit_invoice.number,
            Exchange(request, f"Invoice {credit_invoice.number}, Credit: true, Total {credit_invoice.total}"),
        )


class HttpFortnoxRegisters:
    """FortnoxRegisters over the Fortnox REST API v3 (units, currencies)."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def has_currency(self, tenant_id: str, code: str) -> bool:
        return self._client.get_currency(tenant_id, code) is not None

    def ensure_unit(self, tenant_id: str, code: str, description: str) -> bool:
        if self._client.get_unit(tenant_id, code) is not None:
            return False
        try:
            self._client.create_unit(tenant_id, code, description[:100] or code)
        except UpstreamError as error:
            # A unit code is unique: a create refused (or lost) because another attempt made it is success.
            if self._client.get_unit(tenant_id, code) is not None:
                return True
            if isinstance(error, OutcomeUnknown):  # it did not happen after all, and repeating it is safe
                raise UpstreamUnavailable("fortnox", f"the unit {code} could not be created now") from error
            raise
        return True


def customer_fields(draft: CustomerDraft) -> dict[str, Any]:
    fields: dict[str, Any] = {"Name": draft.name, "Type": draft.type, "VATType": draft.vat_type}
    optional = {
        "Email": draft.email,
        "EmailInvoice": draft.email,
        "Phone1": draft.phone,
        "Address1": draft.address1,
        "Address2": draft.address2,
        "ZipCode": draft.zip_code,
        "City": draft.city,
        "CountryCode": draft.country_code,
        "OrganisationNumber": draft.organisation_number,
        "VATNumber": draft.vat_number,
    }
    fields.update({key: value for key, value in optional.items() if value})
    return fields


class HttpFortnoxCustomers:
    """FortnoxCustomers over the Fortnox REST API v3."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client

    def find_by_email(self, tenant_id: str, email: str) -> tuple[str, str | None] | None:
        found = self._client.find_customer_by_email(tenant_id, email)
        return (found.number, found.vat_type) if found is not None else None

    def find_by_organisation_number(self, tenant_id: str, number: str) -> tuple[str, str | None] | None:
        found = self._client.find_customer_by_organisation_number(tenant_id, number)
        return (found.number, found.vat_type) if found is not None else None

    def create(self, tenant_id: str, draft: CustomerDraft) -> str:
        return self._client.create_customer(tenant_id, customer_fields(draft)).number

    def set_vat_type(self, tenant_id: str, number: str, vat_type: str) -> None:
        with _unknown_customer():
            self._client.update_customer(tenant_id, number, {"VATType": vat_type})
