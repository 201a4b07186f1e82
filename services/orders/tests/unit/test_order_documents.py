"""The documents after the Fortnox order (product.md §5): the record's invoice, e-mail and PDF steps, units,
adjustments, sales accounts and the totals check, and ProcessOrder and the per-order actions with fakes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services
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
    IkasShippingLine,
    IkasTaxLine,
    IkasUnit,
)
from bridge_orders.domain.mapping import MappingError, OrderDraft, order_draft, row_quantity
from bridge_orders.domain.order_record import (
    ATTACH_INVOICE_PDF,
    CLAIM_LEASE,
    CREATE_INVOICE,
    SEND_INVOICE_EMAIL,
    UNKNOWN_OUTCOME_SETTLE,
    Exchange,
    OrderBusy,
    OrderRecord,
    StepNotPossible,
)
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_orders.domain.totals import FortnoxTotals, check_totals
from bridge_platform.errors import Conflict, NotFound, OutcomeUnknown, UpstreamRejected, UpstreamUnavailable

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TENANT = "tenant-a"
ON = OrderSettings(sync_automatically=True, sync_from=NOW - timedelta(days=30))
INVOICING = dataclasses.replace(ON, create_invoice=True)
MAILING = dataclasses.replace(ON, create_invoice=True, send_invoice_email=True)


def line(**changes: Any) -> IkasLine:
    base = IkasLine("l-1", "v-1", "SKU-1", "Mug", Decimal(2), Decimal("99.50"), Decimal(25), "UNFULFILLED", "p-1")
    return dataclasses.replace(base, **changes)


def ikas_order(**changes: Any) -> IkasOrder:
    base = IkasOrder(
        id="o-1",
        number="1001",
        status="CREATED",
        payment_status="PAID",
        package_status="UNFULFILLED",
        ordered_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        currency="SEK",
        total_final_price=Decimal("299.00"),
        customer=IkasCustomer("anna@example.com", "Anna Berg", None, "sv-SE"),
        billing_address=IkasAddress(
            "Anna", "Berg", None, "Storgatan 1", None, "11122", "Stockholm", "SE", "+46701234567", None
        ),
        lines=(
            line(),
            IkasLine("l-2", "v-2", "SKU-2", "Tea", Decimal(1), Decimal("50.00"), Decimal(12), "UNFULFILLED", "p-2"),
        ),
        shipping_lines=(IkasShippingLine("Post", Decimal("50.00"), Decimal(25)),),
        tax_lines=(IkasTaxLine(Decimal(25), Decimal("49.80")), IkasTaxLine(Decimal(12), Decimal("5.36"))),
    )
    return dataclasses.replace(base, **changes)


def draft(order: IkasOrder, settings: OrderSettings = ON, **kwargs: Any) -> OrderDraft:
    made = order_draft(
        order,
        settings,
        customer_number="7",
        article_numbers={"v-1": "SKU-1", "v-2": "SKU-2"},
        prices_include_vat=kwargs.pop("gross", True),
        **kwargs,
    )
    assert isinstance(made, OrderDraft)
    return made


# -- the record's steps ---------------------------------------------------------------------------------------


def created_record() -> OrderRecord:
    made = OrderRecord(id="r", tenant_id=TENANT, ikas_order_id="o-1", ikas_order_number="1001", ordered_at=NOW, at=NOW)
    made.claim("w", NOW)
    made.record_created("w", "12", found=False, fortnox_total=None, at=NOW)
    return made


def invoiced_record() -> OrderRecord:
    made = created_record()
    call = made.claim_step(CREATE_INVOICE, "w", NOW)
    assert call is not None
    made.record_invoice("w", "500", found=False, at=NOW)
    return made


def test_a_step_needs_the_document_it_builds_on() -> None:
    fresh = OrderRecord(id="r", tenant_id=TENANT, ikas_order_id="o-1", ikas_order_number="1", ordered_at=NOW, at=NOW)
    with pytest.raises(StepNotPossible, match="not in Fortnox yet"):
        fresh.claim_step(CREATE_INVOICE, "w", NOW)
    for step in (SEND_INVOICE_EMAIL, ATTACH_INVOICE_PDF):
        with pytest.raises(StepNotPossible, match="no invoice yet"):
            created_record().claim_step(step, "w", NOW)


def test_the_invoice_step_records_the_invoice_and_fortnox_state_follows() -> None:
    made = created_record()
    call = made.claim_step(CREATE_INVOICE, "w", NOW)
    assert call is not None
    assert (call.intent, call.fortnox_order_number, call.key, call.resumed) == (
        "create_invoice",
        "12",
        "ikas:o-1",
        False,
    )
    assert made.fortnox_state == "order"
    made.record_invoice("w", "500", found=False, at=NOW, exchange=Exchange("PUT createinvoice", "Invoice 500"))
    assert (made.fortnox_invoice_number, made.fortnox_state, made.intent, made.status) == (
        "500",
        "invoiced",
        None,
        "created",
    )
    assert made.claim_step(CREATE_INVOICE, "w2", NOW) is None
    entry = made.timeline[-1]
    assert (entry.step, entry.outcome, entry.request, entry.response) == (
        "create_invoice",
        "created",
        "PUT createinvoice",
        "Invoice 500",
    )


def test_an_unknown_invoice_settles_then_resumes_with_a_look_up() -> None:
    made = created_record()
    made.claim_step(CREATE_INVOICE, "a", NOW)
    made.record_unknown("a", "dropped", NOW)
    assert (made.status, made.intent) == ("error", "create_invoice")
    assert made.error is not None
    assert "invoice" in made.error.message
    with pytest.raises(OrderBusy):
        made.claim_step(CREATE_INVOICE, "b", NOW + timedelta(seconds=1))
    again = made.claim_step(CREATE_INVOICE, "b", NOW + UNKNOWN_OUTCOME_SETTLE)
    assert again is not None
    assert again.resumed
    made.record_invoice("b", "500", found=True, at=NOW + UNKNOWN_OUTCOME_SETTLE)
    assert (made.status, made.error) == ("created", None)


def test_an_email_is_asked_once_and_again_only_explicitly() -> None:
    made = invoiced_record()
    assert made.claim_step(SEND_INVOICE_EMAIL, "w", NOW) is not None
    made.record_email_sent("w", NOW)
    assert (made.invoice_email_state, made.invoice_email_at) == ("sent", NOW)
    assert made.claim_step(SEND_INVOICE_EMAIL, "w", NOW) is None
    resend = made.claim_step(SEND_INVOICE_EMAIL, "w", NOW, again=True)
    assert resend is not None
    assert not resend.resumed


def test_a_lost_email_answer_is_unknown_at_once_and_never_settles_into_a_retry() -> None:
    made = invoiced_record()
    made.claim_step(SEND_INVOICE_EMAIL, "w", NOW)
    made.record_unknown("w", "the connection dropped", NOW, Exchange("GET …/email", "no answer"))
    assert (made.invoice_email_state, made.intent, made.claim_token, made.error, made.status) == (
        "unknown",
        None,
        None,
        None,
        "created",
    )
    assert made.claim_step(SEND_INVOICE_EMAIL, "w", NOW + timedelta(days=1)) is None
    entry = made.timeline[-1]
    assert (entry.outcome, entry.request) == ("unknown", "GET …/email")
    assert "Resend" in entry.detail


def test_a_worker_that_died_after_the_email_intent_leaves_the_email_unknown() -> None:
    made = invoiced_record()
    made.claim_step(SEND_INVOICE_EMAIL, "dead", NOW)  # committed, then the worker died
    with pytest.raises(OrderBusy):
        made.claim_step(SEND_INVOICE_EMAIL, "next", NOW + timedelta(seconds=1))
    assert made.claim_step(SEND_INVOICE_EMAIL, "next", NOW + CLAIM_LEASE) is None
    assert (made.invoice_email_state, made.intent) == ("unknown", None)
    assert made.claim_step(SEND_INVOICE_EMAIL, "next", NOW + CLAIM_LEASE, again=True) is not None


def test_a_dead_email_intent_becomes_unknown_when_another_step_claims() -> None:
    made = invoiced_record()
    made.claim_step(SEND_INVOICE_EMAIL, "dead", NOW)
    call = made.claim_step(ATTACH_INVOICE_PDF, "next", NOW + CLAIM_LEASE)
    assert call is not None
    assert made.invoice_email_state == "unknown"
    assert made.intent == "attach_invoice_pdf"


def test_a_paused_connection_leaves_the_email_to_be_asked_later() -> None:
    made = invoiced_record()
    made.claim_step(SEND_INVOICE_EMAIL, "w", NOW)
    made.pause("w", "paused", NOW)
    assert (made.invoice_email_state, made.intent, made.status) == ("not_requested", None, "created")
    assert made.claim_step(SEND_INVOICE_EMAIL, "w2", NOW) is not None


def test_an_attachment_found_or_made_is_recorded_once() -> None:
    made = invoiced_record()
    made.claim_step(ATTACH_INVOICE_PDF, "w", NOW)
    made.record_attached("w", NOW, found=True)
    assert made.invoice_attached_at == NOW
    assert made.claim_step(ATTACH_INVOICE_PDF, "w", NOW) is None
    assert made.claim_step(ATTACH_INVOICE_PDF, "w", NOW, again=True) is not None


# -- units -----------------------------------------------------------------------------------------------------

COFFEE = line(
    name="Ground coffee",
    quantity=Decimal(2),
    unit_price=Decimal("119.00"),
    vat_rate=Decimal(12),
    unit=IkasUnit(Decimal(500), "GRAM"),
    base_unit=IkasBaseUnit(Decimal(1), "KILOGRAM"),
)


def test_a_base_priced_line_is_in_its_base_unit_with_the_same_row_total() -> None:
    quantity = row_quantity(COFFEE, ON, None)
    assert (quantity.quantity, quantity.price, quantity.unit and quantity.unit.code, quantity.note) == (
        Decimal(1),
        Decimal("238.00"),
        "kg",
        "",
    )
    assert row_quantity(line(), ON, None).unit is None  # no base prices: the article's own unit


def test_a_base_unit_that_is_not_exact_to_the_ore_stays_in_pieces() -> None:
    odd = dataclasses.replace(COFFEE, quantity=Decimal(1), unit=IkasUnit(Decimal(333), "GRAM"))
    quantity = row_quantity(odd, ON, None)
    assert (quantity.quantity, quantity.price, quantity.unit and quantity.unit.code, quantity.note) == (
        Decimal(1),
        Decimal("119.00"),
        "st",
        " (333 g)",
    )


def test_the_unit_attribute_on_the_variant_else_the_product_else_the_base_unit() -> None:
    by_attribute = dataclasses.replace(ON, unit_source="attribute", unit_attribute="Enhet")
    both = AttributeValues(by_variant={"v-1": "påse"}, by_product={"p-1": "förp"})
    assert row_quantity(COFFEE, by_attribute, both).unit.code == "påse"  # type: ignore[union-attr]
    product_only = AttributeValues(by_product={"p-1": "förp"})
    quantity = row_quantity(COFFEE, by_attribute, product_only)
    assert (quantity.quantity, quantity.unit and quantity.unit.code) == (Decimal(2), "förp")  # items, not kg
    assert row_quantity(COFFEE, by_attribute, AttributeValues()).unit.code == "kg"  # type: ignore[union-attr]
    with pytest.raises(MappingError, match="longer than Fortnox allows"):
        row_quantity(COFFEE, by_attribute, AttributeValues(by_variant={"v-1": "x" * 21}))


def test_a_custom_base_unit_uses_its_name_and_the_draft_lists_the_units() -> None:
    bunch = dataclasses.replace(COFFEE, unit=None, base_unit=IkasBaseUnit(Decimal(1), "CUSTOM", "knippe"))
    made = draft(ikas_order(lines=(COFFEE, bunch), shipping_lines=(), tax_lines=(), total_final_price=Decimal(476)))
    assert [(r.unit, r.quantity, r.price) for r in made.rows] == [
        ("kg", Decimal(1), Decimal("238.00")),
        ("knippe", Decimal(2), Decimal("119.00")),
    ]
    assert [u.code for u in made.units] == ["kg", "knippe"]


# -- adjustments, gift packaging, sales accounts -----------------------------------------------------------------


def test_adjustments_folded_into_the_lines_add_no_rows() -> None:
    folded = ikas_order(adjustments=(IkasAdjustment("SUMMER", "DECREMENT", Decimal(10), "RATIO"),))
    assert [r.description for r in draft(folded).rows] == ["Mug", "Tea"]


def test_an_unfolded_discount_becomes_rows_per_rate_and_the_total_equals_total_final_price() -> None:
    # 41.20 off the order, not folded into the lines; ikas's tax lines show where: 30.00 at 25 % (VAT 6.00 less)
    # and 11.20 at 12 % (VAT 1.20 less).
    tea = IkasLine("l-2", "v-2", "SKU-2", "Tea", Decimal(1), Decimal("56.00"), Decimal(12), "UNFULFILLED", "p-2")
    order = ikas_order(
        lines=(line(), tea),
        total_final_price=Decimal("313.80"),  # 199 + 56 + 50 shipping + 50 gift packaging - 41.20
        adjustments=(IkasAdjustment("Coupon SAVE", "DECREMENT", Decimal("41.20"), "AMOUNT"),),
        gift_package_lines=(IkasGiftPackageLine(Decimal("50.00"), Decimal(25)),),
        tax_lines=(IkasTaxLine(Decimal(25), Decimal("53.80")), IkasTaxLine(Decimal(12), Decimal("4.80"))),
    )
    rows_mode = dataclasses.replace(ON, shipping="order_row")
    made = draft(order, rows_mode)
    assert [(r.description, r.price, r.vat) for r in made.rows[3:]] == [
        ("Gift packaging", Decimal("50.00"), Decimal(25)),
        ("Coupon SAVE (12 % VAT)", Decimal("-11.20"), Decimal(12)),
        ("Coupon SAVE (25 % VAT)", Decimal("-30.00"), Decimal(25)),
    ]
    assert sum((r.price * r.quantity for r in made.rows), Decimal(0)) == order.total_final_price


def test_a_surcharge_at_one_rate_is_one_row() -> None:
    order = ikas_order(
        lines=(line(),),
        total_final_price=Decimal("259.00"),  # 199 + 50 shipping + 10 surcharge
        adjustments=(IkasAdjustment("Small order fee", "INCREMENT", Decimal(10), "AMOUNT"),),
        tax_lines=(IkasTaxLine(Decimal(25), Decimal("51.80")),),
    )
    made = draft(order, dataclasses.replace(ON, shipping="order_row"))
    assert [(r.description, r.price, r.vat) for r in made.rows[2:]] == [
        ("Small order fee", Decimal("10.00"), Decimal(25))
    ]


def test_rows_at_a_rate_sweden_does_not_have_need_a_sales_account() -> None:
    oss = ikas_order(
        lines=(line(vat_rate=Decimal(19)),),
        shipping_lines=(IkasShippingLine("DHL", Decimal("10.00"), Decimal(19)),),
        tax_lines=(IkasTaxLine(Decimal(19), Decimal("33.37")),),
        total_final_price=Decimal("209.00"),
    )
    rows_mode = dataclasses.replace(ON, shipping="order_row")
    with pytest.raises(MappingError, match="no sales account for 19 % VAT") as refused:
        draft(oss, rows_mode)
    assert refused.value.hint == 'map the rate to an account in the order settings (orders.sales_accounts "19")'
    made = draft(oss, dataclasses.replace(rows_mode, sales_accounts={"19": 3019}))
    assert [(r.article_number, r.account_number) for r in made.rows] == [("SKU-1", 3019), (None, 3019)]
    standard = draft(ikas_order(), dataclasses.replace(rows_mode, sales_accounts={"25": 3001}))
    assert [r.account_number for r in standard.rows] == [None, None, 3001]  # article rows keep the article's


# -- the totals check ---------------------------------------------------------------------------------------------


def test_totals_match_and_the_round_off_is_explained_not_counted() -> None:
    checked = check_totals(
        ikas_order(total_final_price=Decimal("298.60"), tax_lines=(IkasTaxLine(Decimal(25), Decimal("59.72")),)),
        FortnoxTotals(Decimal("299.00"), Decimal("59.72"), Decimal("0.40"), Decimal("10.00"), "SEK"),
        freight_mode=True,
        prices_include_vat=True,
    )
    assert checked.matches
    assert checked.fortnox_total.amount == Decimal("299.00")
    assert checked.explanation == (
        "Fortnox rounds the total to whole kronor: its total 299.00 SEK includes a round-off of +0.40 SEK, "
        "which is not counted as a difference."
    )


def test_a_difference_from_fortnox_freight_vat_is_named_separately() -> None:
    # ikas charged 6 % on shipping (50.00 incl. 2.83 VAT); Fortnox adds 25 % to the net freight 47.17 = 11.79.
    order = ikas_order(
        shipping_lines=(IkasShippingLine("Post", Decimal("50.00"), Decimal(6)),),
        tax_lines=(
            IkasTaxLine(Decimal(25), Decimal("39.80")),
            IkasTaxLine(Decimal(12), Decimal("5.36")),
            IkasTaxLine(Decimal(6), Decimal("2.83")),
        ),
    )
    checked = check_totals(
        order,
        FortnoxTotals(Decimal("308.00"), Decimal("56.95"), Decimal("0.04"), Decimal("11.79"), "SEK"),
        freight_mode=True,
        prices_include_vat=True,
    )
    assert not checked.matches
    assert "a difference of +8.96 SEK" in checked.explanation
    assert "Of it, +8.96 SEK is Fortnox's VAT on the freight" in checked.explanation
    assert "not explained" not in checked.explanation


def test_an_unexplained_difference_says_so() -> None:
    checked = check_totals(
        ikas_order(),
        FortnoxTotals(Decimal("301.00"), Decimal("55.16"), Decimal(0), None, "SEK"),
        freight_mode=False,
        prices_include_vat=True,
    )
    assert not checked.matches
    assert checked.explanation.endswith(
        "The +2.00 SEK is not explained by the freight VAT or the round-off: compare the rows of the Fortnox order "
        "with the ikas order."
    )


# -- ProcessOrder and the actions with fakes -------------------------------------------------------------------


@pytest.fixture
def shop(services: Services, database: Any, ikas: Any) -> Services:
    database.settings[TENANT] = TenantOrderSettings(TENANT, INVOICING, NOW)
    ikas.orders["o-1"] = ikas_order()
    return services


def settings_are(database: Any, settings: OrderSettings) -> None:
    database.settings[TENANT] = TenantOrderSettings(TENANT, settings, NOW)


def process(services: Services, manual: bool = False) -> Any:
    return services.process_order(ProcessOrderRequest(TENANT, "o-1", manual=manual))


def stored(database: Any) -> OrderRecord:
    record: OrderRecord = database.orders[(TENANT, "o-1")]
    return record


def test_order_invoice_and_pdf_each_once_and_a_second_call_does_nothing(
    shop: Services, fortnox: Any, ikas: Any, database: Any
) -> None:
    first = process(shop)
    assert (first.outcome, first.status, first.wrote) == ("created", "created", True)
    assert list(fortnox.invoices) == ["500"]
    assert fortnox.emails == []
    assert fortnox.pdfs == [("500", True)]  # print: the attachment is the delivery
    assert [(a["number"], a["notify"]) for a in ikas.attachments] == [("500", True)]
    record = stored(database)
    assert (record.fortnox_invoice_number, record.fortnox_state, record.invoice_attached_at) == ("500", "invoiced", NOW)
    assert [(a.step, a.outcome) for a in record.timeline] == [
        ("create_fortnox_order", "started"),
        ("create_fortnox_order", "created"),
        ("create_invoice", "started"),
        ("create_invoice", "created"),
        ("attach_invoice_pdf", "started"),
        ("attach_invoice_pdf", "attached"),
    ]
    calls = fortnox.invoice_calls
    again = process(shop)
    assert (again.outcome, again.wrote) == ("already_sent", False)
    assert (len(fortnox.invoices), len(ikas.attachments), fortnox.invoice_calls) == (1, 1, calls)


def test_without_create_invoice_only_the_order_is_made(shop: Services, fortnox: Any, database: Any) -> None:
    settings_are(database, ON)
    assert process(shop).outcome == "created"
    assert fortnox.invoices == {}
    assert fortnox.invoice_calls == 0


def test_fortnox_emails_the_invoice_and_the_pdf_stays_a_preview_without_ikas_notifying(
    shop: Services, fortnox: Any, ikas: Any, database: Any
) -> None:
    settings_are(database, MAILING)
    process(shop)
    assert fortnox.emails == ["500"]
    assert fortnox.pdfs == [("500", False)]
    assert [a["notify"] for a in ikas.attachments] == [False]
    assert stored(database).invoice_email_state == "sent"
    process(shop)
    assert fortnox.emails == ["500"]


def test_an_invoice_already_made_in_fortnox_is_found_by_the_order_reference(
    shop: Services, fortnox: Any, database: Any
) -> None:
    settings_are(database, ON)
    assert process(shop).outcome == "created"  # the order, not invoiced (create_invoice off)
    fortnox.invoice_of["1"] = "777"  # the merchant invoiced Fortnox order 1 by hand before Bridge's step
    fortnox.invoices["777"] = "1"
    settings_are(database, INVOICING)
    assert process(shop).outcome == "already_sent"
    assert list(fortnox.invoices) == ["777"]
    assert fortnox.invoice_calls == 1  # the order's InvoiceReference answered; no search, no createinvoice
    assert [a.outcome for a in stored(database).timeline if a.step == "create_invoice"] == ["started", "found"]
    assert stored(database).fortnox_invoice_number == "777"


def test_an_order_created_in_the_same_attempt_is_invoiced_without_a_read(shop: Services, fortnox: Any) -> None:
    """The create's answer is the order's state, and no earlier createinvoice can be unaccounted for: the
    order is neither read again nor its key searched among the invoices; only createinvoice is called."""
    assert process(shop).outcome == "created"
    assert list(fortnox.invoices) == ["500"]
    assert fortnox.invoice_calls == 1  # createinvoice alone
    assert (fortnox.finds, fortnox.invoice_searches) == (1, 0)  # one look-up before the create, orders only


def test_an_order_invoiced_by_hand_just_after_its_create_is_found_on_the_next_attempt(
    shop: Services, fortnox: Any, database: Any
) -> None:
    def merchant_invoices() -> None:  # in the moment between Bridge's create and its createinvoice
        fortnox.invoice_of["1"], fortnox.invoices["777"] = "777", "1"

    fortnox.after_create = merchant_invoices
    first = process(shop)
    assert (first.outcome, first.status) == ("failed", "error")  # Fortnox refused the second invoice
    assert list(fortnox.invoices) == ["777"]
    again = process(shop)
    assert again.status == "created"
    assert (list(fortnox.invoices), stored(database).fortnox_invoice_number) == (["777"], "777")


def test_a_lost_invoice_answer_is_looked_up_after_settling(
    shop: Services, fortnox: Any, clock: Any, database: Any
) -> None:
    fortnox.fail_after["create_invoice"] = OutcomeUnknown("fortnox", "the connection dropped")
    first = process(shop)
    assert (first.outcome, first.status) == ("unknown", "error")
    assert stored(database).intent == "create_invoice"
    assert process(shop).outcome == "busy"
    clock.at = NOW + UNKNOWN_OUTCOME_SETTLE
    found = process(shop)
    assert (found.outcome, found.status) == ("already_sent", "created")
    assert list(fortnox.invoices) == ["500"]
    assert [a.outcome for a in stored(database).timeline if a.step == "create_invoice"] == [
        "started",
        "unknown",
        "resumed",
        "found",
    ]


def test_a_worker_dying_after_createinvoice_ends_with_one_invoice(
    shop: Services, fortnox: Any, clock: Any, database: Any
) -> None:
    fortnox.fail_after["create_invoice"] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        process(shop)
    assert process(shop).outcome == "busy"
    clock.at = NOW + CLAIM_LEASE
    process(shop)
    assert list(fortnox.invoices) == ["500"]
    assert stored(database).fortnox_invoice_number == "500"


def test_a_lost_email_answer_is_never_asked_again_by_itself_but_resend_asks(
    shop: Services, fortnox: Any, ikas: Any, clock: Any, database: Any
) -> None:
    settings_are(database, MAILING)
    fortnox.fail_after["email"] = OutcomeUnknown(
        "fortnox", "GET /3/invoices/500/email was sent but its answer was lost"
    )
    result = process(shop)
    assert result.outcome == "unknown"
    record = stored(database)
    assert (record.invoice_email_state, record.status, record.intent) == ("unknown", "created", None)
    assert record.invoice_attached_at == NOW  # the PDF still goes on the ikas order, without a notification
    assert [a["notify"] for a in ikas.attachments] == [False]
    clock.at = NOW + timedelta(days=1)
    process(shop)
    assert fortnox.emails == ["500"]
    resent = shop.resend_invoice_email(TENANT, "o-1")
    assert (resent.invoice_email_state, resent.invoice_email_at) == ("sent", NOW + timedelta(days=1))
    assert fortnox.emails == ["500", "500"]


def test_a_worker_dying_after_the_email_leaves_it_unknown_and_never_asks_twice(
    shop: Services, fortnox: Any, clock: Any, database: Any
) -> None:
    settings_are(database, MAILING)
    fortnox.fail_after["email"] = SystemExit("killed")
    with pytest.raises(SystemExit):
        process(shop)
    assert stored(database).intent == "send_invoice_email"
    assert process(shop).outcome == "busy"
    clock.at = NOW + CLAIM_LEASE
    process(shop)
    assert fortnox.emails == ["500"]
    assert stored(database).invoice_email_state == "unknown"


def test_an_email_fortnox_certainly_did_not_send_may_be_asked_for_again(
    shop: Services, fortnox: Any, database: Any
) -> None:
    settings_are(database, MAILING)
    fortnox.fail_before["email"] = UpstreamUnavailable("fortnox", "GET /3/invoices/500/email never reached fortnox")
    failed = process(shop)
    assert (failed.outcome, failed.status) == ("failed", "error")
    assert stored(database).invoice_email_state == "not_requested"
    fortnox.fail_before["email"] = UpstreamRejected("fortnox", "the invoice has no e-mail address", 400, "2000000")
    assert process(shop).outcome == "failed"
    assert process(shop).status == "created"
    assert fortnox.emails == ["500"]


def test_a_lost_attachment_answer_is_found_on_the_ikas_order_after_settling(
    shop: Services, ikas: Any, clock: Any, database: Any
) -> None:
    ikas.fail_after["attach"] = OutcomeUnknown("ikas", "addOrderInvoice answered 503")
    assert process(shop).outcome == "unknown"
    assert stored(database).invoice_attached_at is None
    clock.at = NOW + UNKNOWN_OUTCOME_SETTLE
    assert process(shop).status == "created"
    assert len(ikas.attachments) == 1
    assert stored(database).invoice_attached_at == NOW  # when ikas says it was attached


def test_another_apps_invoice_with_the_same_number_is_not_ours(shop: Services, ikas: Any, database: Any) -> None:
    foreign = IkasInvoice("x", "500", "other-app", "other-app", NOW)
    ikas.orders["o-1"] = ikas_order(invoices=(foreign,))
    process(shop)
    assert len(ikas.attachments) == 1
    assert ikas.attachments[0]["company"] is False


def test_attach_now_finds_what_is_attached_and_never_attaches_twice(shop: Services, ikas: Any) -> None:
    process(shop)
    record = shop.attach_invoice_pdf(TENANT, "o-1")
    assert record.timeline[-1].outcome == "found"
    assert len(ikas.attachments) == 1


def test_a_paused_connection_at_the_invoice_waits_and_drains_later(shop: Services, fortnox: Any, database: Any) -> None:
    fortnox.fail_before["create_invoice"] = Conflict("reconnect Fortnox", {"reason": "needs_reauth"})
    paused = process(shop)
    assert (paused.outcome, paused.status) == ("waiting", "created")
    assert (stored(database).claim_token, stored(database).fortnox_invoice_number) == (None, None)
    assert process(shop).status == "created"
    assert list(fortnox.invoices) == ["500"]


def test_actions_need_the_documents_they_build_on(shop: Services, database: Any, fortnox: Any) -> None:
    with pytest.raises(NotFound):
        shop.create_invoice(TENANT, "o-1")
    settings_are(database, dataclasses.replace(ON, create_orders=False))
    process(shop)  # listed, waiting for manual sending
    with pytest.raises(StepNotPossible, match="not in Fortnox yet"):
        shop.create_invoice(TENANT, "o-1")
    process(shop, manual=True)
    for action in (shop.resend_invoice_email, shop.attach_invoice_pdf, shop.get_invoice_pdf):
        with pytest.raises(StepNotPossible, match="no invoice yet"):
            action(TENANT, "o-1")
    record = shop.create_invoice(TENANT, "o-1")  # create_invoice is off: on demand
    assert (record.fortnox_invoice_number, record.invoice_attached_at) == ("500", NOW)
    pdf = shop.get_invoice_pdf(TENANT, "o-1")
    assert (pdf.pdf, pdf.filename) == (b"%PDF-1.4 invoice 500", "invoice-500.pdf")
    assert fortnox.pdfs[-1] == ("500", False)  # a download never marks the invoice sent
    assert shop.create_invoice(TENANT, "o-1").fortnox_invoice_number == "500"
    assert len(fortnox.invoices) == 1


def test_an_action_while_another_worker_holds_the_order_is_a_conflict(
    shop: Services, database: Any, clock: Any
) -> None:
    process(shop)
    record = stored(database)
    record.claim_token, record.claim_expires_at = "other-worker", NOW + CLAIM_LEASE
    with pytest.raises(OrderBusy):
        shop.resend_invoice_email(TENANT, "o-1")


def test_a_currency_fortnox_lacks_is_a_clear_error_before_any_create(
    shop: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    ikas.orders["o-1"] = ikas_order(currency="NOK")
    failed = process(shop)
    assert (failed.outcome, failed.status) == ("failed", "error")
    error = stored(database).error
    assert error is not None
    assert error.message == "Fortnox has no currency NOK, the currency of this order"
    assert error.hint is not None
    assert "add NOK" in error.hint
    assert fortnox.orders == {}


def test_a_missing_unit_is_created_in_fortnox_and_a_refused_one_is_an_error_with_a_hint(
    shop: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    litre = dataclasses.replace(
        COFFEE, unit=IkasUnit(Decimal(500), "MILLIGRAM"), base_unit=IkasBaseUnit(Decimal(1), "GRAM")
    )
    ikas.orders["o-1"] = ikas_order(lines=(litre,), total_final_price=Decimal("288.00"))
    fortnox.units.discard("g")
    fortnox.refuse_units = True
    assert process(shop).outcome == "failed"
    error = stored(database).error
    assert error is not None
    assert error.message.startswith("Fortnox has no unit 'g' and Bridge could not create it")
    fortnox.refuse_units = False
    assert process(shop).outcome == "created"
    assert fortnox.created_units == ["g"]
    assert fortnox.orders["1"].rows[0].unit == "g"


def test_the_unit_attribute_is_read_only_for_base_priced_lines(shop: Services, ikas: Any, database: Any) -> None:
    settings_are(database, dataclasses.replace(INVOICING, unit_source="attribute", unit_attribute="Enhet"))
    process(shop)
    assert ikas.attribute_reads == []  # no line applies base prices
    ikas.orders["o-2"] = ikas_order(id="o-2", lines=(COFFEE,), total_final_price=Decimal("288.00"))
    ikas.attributes = AttributeValues(by_product={"p-1": "påse"})
    shop.process_order(ProcessOrderRequest(TENANT, "o-2"))
    assert ikas.attribute_reads == [("Enhet", frozenset({"p-1"}))]


def test_the_totals_are_checked_after_the_order_is_made(shop: Services, database: Any) -> None:
    process(shop)
    record = stored(database)
    assert record.totals_match is True
    assert record.fortnox_total is not None
    assert record.fortnox_total.amount == Decimal("299.00")  # rows 249.00 + freight 40.00 + its VAT 10.00
    assert record.totals_explanation is None


def test_a_refused_attachment_waits_for_the_merchant_instead_of_every_run(
    shop: Services, ikas: Any, database: Any
) -> None:
    ikas.fail_before["attach"] = UpstreamRejected("ikas", "appId is not valid", 200, "ARGUMENT_VALIDATION_ERROR")
    refused = process(shop)
    assert (refused.outcome, refused.status) == ("failed", "error")
    assert stored(database).timeline[-1].outcome == "refused"
    process(shop)
    assert ikas.attachments == []  # no second refused call by itself (ikas blocks apps that fail often)
    record = shop.attach_invoice_pdf(TENANT, "o-1")
    assert (record.invoice_attached_at, record.status, len(ikas.attachments)) == (NOW, "created", 1)
