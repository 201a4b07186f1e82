"""The orders service's ports over the shared ikas and Fortnox clients: map, decide nothing (style.md rule 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge_orders.app.ports import FortnoxOrderSummary
from bridge_orders.domain.ikas_order import (
    IkasAddress,
    IkasCustomer,
    IkasLine,
    IkasOrder,
    IkasShippingLine,
    IkasTaxLine,
)
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft
from bridge_upstreams.fortnox.client import FortnoxClient, Order
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient


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
            )
            for line in order.lines
        ),
        shipping_lines=tuple(
            IkasShippingLine(s.title, s.final_price, s.tax_rate) for s in order.shipping_lines if not s.is_refunded
        ),
        tax_lines=tuple(IkasTaxLine(t.rate, t.amount) for t in order.tax_lines),
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


def _summary(order: Order) -> FortnoxOrderSummary:
    return FortnoxOrderSummary(
        number=order.number,
        currency=order.currency,
        total=order.total,
        total_vat=order.total_vat,
        round_off=order.round_off,
        freight_vat=order.freight_vat,
    )


def order_fields(draft: OrderDraft) -> dict[str, Any]:
    """The Fortnox Order body (fortnox-api.md §5.5); amounts stay Decimal (sent as exact JSON numbers)."""
    rows: list[dict[str, Any]] = []
    for row in draft.rows:
        fields: dict[str, Any] = {
            "Description": row.description,
            "OrderedQuantity": row.quantity,
            "DeliveredQuantity": row.quantity,
            "Price": row.price,
            "VAT": row.vat,
        }
        if row.article_number:
            fields["ArticleNumber"] = row.article_number
        if row.account_number is not None:
            fields["AccountNumber"] = row.account_number
        rows.append(fields)
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

    def find(self, tenant_id: str, key: str) -> FortnoxOrderSummary | None:
        order = self._client.find_order_by_external_reference(tenant_id, key)
        if order is None:
            invoice = self._client.find_invoice_by_external_reference(tenant_id, key)
            if invoice is not None and invoice.order_reference:
                order = self._client.get_order(tenant_id, invoice.order_reference)
        return _summary(order) if order is not None else None

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        return _summary(self._client.create_order(tenant_id, order_fields(draft)))


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
        self._client.update_customer(tenant_id, number, {"VATType": vat_type})
