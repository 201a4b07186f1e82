"""FortnoxClient against the sandbox: customers, orders, invoices, payments, modes of payment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge_platform.errors import NotFound, UpstreamRejected
from bridge_upstreams.fortnox.client import FortnoxClient

DEMO_TENANT = "1001"
Fortnox = Any  # the conftest's bundle; conftest is not importable under --import-mode=importlib


@pytest.fixture
def sales(fortnox: Fortnox) -> Fortnox:
    for path, method in (("/3/customers", "POST"), ("/3/orders", "POST"), ("/3/invoices", "GET")):
        if not fortnox.admin.has(path, method):
            pytest.skip(f"the Fortnox sandbox does not serve {method} {path} yet")
    return fortnox


def _customer(c: FortnoxClient, email: str, **fields: Any) -> str:
    return c.create_customer(DEMO_TENANT, {"Name": email.split("@")[0].title(), "Email": email, **fields}).number


def _order(c: FortnoxClient, customer: str, reference: str, quantity: int = 2) -> str:
    fields = {
        "CustomerNumber": customer,
        "ExternalInvoiceReference1": reference,
        "YourOrderNumber": reference.split(":")[-1],
        "Currency": "SEK",
        "VATIncluded": True,
        "OrderRows": [
            {
                "ArticleNumber": "FX-2004",
                "OrderedQuantity": quantity,
                "DeliveredQuantity": quantity,
                "Price": Decimal("49.00"),
            }
        ],
    }
    return c.create_order(DEMO_TENANT, fields).number


def test_customers_found_by_exact_email_and_organisation_number(sales: Fortnox) -> None:
    c: FortnoxClient = sales.client
    johanna = _customer(c, "johanna@example.com")
    anna = _customer(c, "anna@example.com")
    company = _customer(c, "info@firma.se", Type="COMPANY", OrganisationNumber="556012-3456")
    _customer(c, "other@firma.se", Type="COMPANY", OrganisationNumber="556012-34567")
    found = c.find_customer_by_email(DEMO_TENANT, "anna@example.com")
    assert found is not None
    assert found.number == anna
    found = c.find_customer_by_email(DEMO_TENANT, "Johanna@Example.com")
    assert found is not None
    assert found.number == johanna
    assert c.find_customer_by_email(DEMO_TENANT, "nna@example.com") is None
    by_number = c.find_customer_by_organisation_number(DEMO_TENANT, "556012-3456")
    assert by_number is not None
    assert by_number.number == company
    assert c.find_customer_by_organisation_number(DEMO_TENANT, "556012") is None
    updated = c.update_customer(DEMO_TENANT, anna, {"VATType": "EUVAT", "CountryCode": "DE"})
    assert updated.vat_type == "EUVAT"
    got = c.get_customer(DEMO_TENANT, anna)
    assert got is not None
    assert got.country_code == "DE"
    assert c.get_customer(DEMO_TENANT, "999999") is None


def test_order_found_by_exact_reference_updated_and_cancelled(sales: Fortnox) -> None:
    c: FortnoxClient = sales.client
    customer = _customer(c, "buyer@example.com")
    ten = _order(c, customer, "ikas:10")
    one = _order(c, customer, "ikas:1")
    found = c.find_order_by_external_reference(DEMO_TENANT, "ikas:1")
    assert found is not None
    assert found.number == one
    assert found.rows[0].ordered_quantity == 2
    assert found.total is not None
    assert isinstance(found.total, Decimal)
    assert c.find_order_by_external_reference(DEMO_TENANT, "ikas:") is None
    updated = c.update_order(DEMO_TENANT, ten, {"Remarks": "Leave at the door"})
    assert updated.raw["Remarks"] == "Leave at the door"
    cancelled = c.cancel_order(DEMO_TENANT, ten)
    assert cancelled.cancelled is True
    assert c.get_order(DEMO_TENANT, "987654") is None
    with pytest.raises(NotFound):
        c.cancel_order(DEMO_TENANT, "987654")


def test_unknown_article_on_an_order_is_translated(sales: Fortnox) -> None:
    c: FortnoxClient = sales.client
    customer = _customer(c, "x@example.com")
    with pytest.raises(UpstreamRejected) as caught:
        c.create_order(
            DEMO_TENANT,
            {"CustomerNumber": customer, "OrderRows": [{"ArticleNumber": "NOPE-1", "OrderedQuantity": 1}]},
        )
    assert caught.value.upstream_code in ("2001302", "2000428")
    assert "article" in caught.value.detail.lower()
    assert caught.value.extra["fortnox_message"]


@pytest.mark.parametrize("shape", ["order", "invoice"])
def test_createinvoice_accepts_both_answer_shapes(sales: Fortnox, shape: str) -> None:
    if not sales.admin.has("/__admin/createinvoice-answers", "POST"):
        pytest.skip("the Fortnox sandbox has no /__admin/createinvoice-answers yet")
    sales.admin.post("/createinvoice-answers", {"shape": shape})
    c: FortnoxClient = sales.client
    order = _order(c, _customer(c, "inv@example.com"), f"ikas:{shape}")
    invoice_number = c.create_invoice_from_order(DEMO_TENANT, order)
    invoice = c.get_invoice(DEMO_TENANT, invoice_number)
    assert invoice is not None
    assert invoice.order_reference == order
    reread = c.get_order(DEMO_TENANT, order)
    assert reread is not None
    assert reread.invoice_reference == invoice_number


def test_invoice_find_email_pdf_bookkeep_pay_and_credit(sales: Fortnox) -> None:
    c: FortnoxClient = sales.client
    order = _order(c, _customer(c, "pay@example.com"), "ikas:77")
    invoice_number = c.create_invoice_from_order(DEMO_TENANT, order)
    found = c.find_invoice_by_external_reference(DEMO_TENANT, "ikas:77")
    assert found is not None
    assert found.number == invoice_number
    assert c.find_invoice_by_external_reference(DEMO_TENANT, "ikas:7") is None

    assert c.preview_invoice(DEMO_TENANT, invoice_number).startswith(b"%PDF")
    preview_state = c.get_invoice(DEMO_TENANT, invoice_number)
    assert preview_state is not None
    assert not preview_state.sent
    assert c.print_invoice(DEMO_TENANT, invoice_number).startswith(b"%PDF")

    if sales.admin.has(f"/3/invoices/{invoice_number}/email"):
        c.email_invoice(DEMO_TENANT, invoice_number)
        if sales.admin.has("/__admin/emails"):
            assert len(sales.admin.get("/emails")) == 1

    booked = c.bookkeep_invoice(DEMO_TENANT, invoice_number)
    assert booked.booked is True
    if sales.admin.has("/3/invoicepayments", "POST"):
        modes = c.modes_of_payment(DEMO_TENANT)
        assert modes
        assert booked.total is not None
        payment = c.create_invoice_payment(
            DEMO_TENANT,
            {
                "InvoiceNumber": invoice_number,
                "Amount": booked.total,
                "ModeOfPayment": modes[0].code,
                "PaymentDate": "2026-11-24",
            },
        )
        assert payment.amount == booked.total
        assert c.bookkeep_invoice_payment(DEMO_TENANT, payment.number).booked is True
        assert [p.number for p in c.invoice_payments(DEMO_TENANT, invoice_number)] == [payment.number]
    if sales.admin.has(f"/3/invoices/{invoice_number}/credit", "PUT"):
        credit = c.credit_invoice(DEMO_TENANT, invoice_number)
        credit_invoice = c.get_invoice(DEMO_TENANT, credit)
        assert credit_invoice is not None
        assert credit_invoice.credit is True
        again = c.find_invoice_by_external_reference(DEMO_TENANT, "ikas:77")
        assert again is not None
        assert again.number == invoice_number


def test_invoice_not_found_for_an_action(sales: Fortnox) -> None:
    with pytest.raises(NotFound):
        sales.client.bookkeep_invoice(DEMO_TENANT, "999999")
    assert sales.client.get_invoice(DEMO_TENANT, "999999") is None
