"""Order export (product.md §5): selection, mapping, the record's state machine, and ExportOrder with fakes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge_orders.app.export_order import ExportOrderRequest
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.ikas_order import (
    IkasAddress,
    IkasCustomer,
    IkasLine,
    IkasOrder,
    IkasShippingLine,
    IkasTaxLine,
)
from bridge_orders.domain.mapping import (
    MissingRelations,
    OrderDraft,
    customer_draft,
    language,
    order_draft,
    vat_type,
)
from bridge_orders.domain.order_record import (
    CLAIM_LEASE,
    UNKNOWN_OUTCOME_SETTLE,
    Money,
    OrderBusy,
    OrderError,
    OrderRecord,
    idempotency_key,
)
from bridge_orders.domain.selection import WAITING_FOR_MANUAL_SENDING, WAITING_FOR_PAYMENT, select
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import OutcomeUnknown
from bridge_platform.settings import BridgeSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TENANT = "tenant-a"
ON = OrderSettings(sync_automatically=True, sync_from=NOW - timedelta(days=30))


def address(**changes: Any) -> IkasAddress:
    base = IkasAddress("Anna", "Berg", None, "Storgatan 1", None, "11122", "Stockholm", "SE", "+46701234567", None)
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
        billing_address=address(),
        lines=(
            IkasLine("l-1", "v-1", "SKU-1", "Mug", Decimal(2), Decimal("99.50"), Decimal(25), "UNFULFILLED"),
            IkasLine("l-2", "v-2", "SKU-2", "Tea", Decimal(1), Decimal("50.00"), Decimal(12), "UNFULFILLED"),
        ),
        shipping_lines=(IkasShippingLine("Post", Decimal("50.00"), Decimal(25)),),
        tax_lines=(IkasTaxLine(Decimal(25), Decimal("49.80")), IkasTaxLine(Decimal(12), Decimal("5.36"))),
    )
    return dataclasses.replace(base, **changes)


# -- selection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["DRAFT", "CANCELLED", "WAITING_UPSELL_ACTION"])
def test_drafts_cancelled_and_upsell_orders_are_never_sent(status: str) -> None:
    assert select(ikas_order(status=status), ON, manual=True).skip_reason


def test_a_failed_payment_is_never_sent() -> None:
    assert select(ikas_order(payment_status="FAILED"), ON, manual=False).skip_reason


def test_orders_placed_before_sync_from_are_not_sent_automatically_but_by_hand() -> None:
    early = ikas_order(ordered_at=NOW - timedelta(days=60))
    assert select(early, ON, manual=False).skip_reason == "placed before orders.sync_from"
    assert select(early, OrderSettings(), manual=False).skip_reason  # sync_from null: nothing automatic
    assert select(early, ON, manual=True).send


def test_send_when_paid_waits_for_payment() -> None:
    paid_only = dataclasses.replace(ON, send_when="paid")
    assert select(ikas_order(payment_status="WAITING"), paid_only, manual=False).waiting_reason == WAITING_FOR_PAYMENT
    assert select(ikas_order(payment_status="WAITING"), ON, manual=False).send
    assert select(ikas_order(payment_status="PAID"), paid_only, manual=False).send


def test_create_orders_off_waits_for_manual_sending() -> None:
    manual_only = dataclasses.replace(ON, create_orders=False)
    assert select(ikas_order(), manual_only, manual=False).waiting_reason == WAITING_FOR_MANUAL_SENDING
    assert select(ikas_order(), manual_only, manual=True).send


# -- mapping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "preferred", "expected"),
    [
        ("always_en", "sv", "EN"),
        ("always_sv", "en", "SV"),
        ("customer_else_en", "SV-se", "SV"),
        ("customer_else_en", "tr-TR", "EN"),
        ("customer_else_sv", "en_GB", "EN"),
        ("customer_else_sv", None, "SV"),
    ],
)
def test_language_rules(setting: str, preferred: str | None, expected: str) -> None:
    order = ikas_order(customer=IkasCustomer("a@b.se", "A", None, preferred))
    assert language(order, OrderSettings(language=setting)) == expected


def test_vat_type_follows_the_vat_charged_and_the_billing_address() -> None:
    no_vat: tuple[IkasTaxLine, ...] = ()
    assert vat_type(ikas_order()) == "SEVAT"
    eu_company = address(country_iso2="DE", company="GmbH", tax_number="DE123456789")
    assert vat_type(ikas_order(billing_address=eu_company, tax_lines=no_vat)) == "EUREVERSEDVAT"
    assert vat_type(ikas_order(billing_address=address(country_iso2="NO"), tax_lines=no_vat)) == "EXPORT"
    oss = (IkasTaxLine(Decimal(19), Decimal("40")),)
    assert vat_type(ikas_order(billing_address=address(country_iso2="DE"), tax_lines=oss)) == "EUVAT"
    assert vat_type(ikas_order(billing_address=address(country_iso2="DE"))) == "SEVAT"  # Swedish VAT charged


def test_a_company_customer_carries_type_vat_number_and_organisation_number() -> None:
    company = address(company="Berg AB", tax_number="SE556677889901")
    draft = customer_draft(ikas_order(billing_address=company))
    assert (draft.type, draft.name, draft.vat_number, draft.organisation_number) == (
        "COMPANY",
        "Berg AB",
        "SE556677889901",
        "5566778899",
    )
    assert customer_draft(ikas_order()).type == "PRIVATE"
    assert customer_draft(ikas_order()).country_code == "SE"


def test_related_lines_carry_article_numbers_and_shipping_goes_into_net_freight() -> None:
    draft = order_draft(
        ikas_order(), ON, customer_number="7", article_numbers={"v-1": "SKU-1", "v-2": "SKU-2"}, prices_include_vat=True
    )
    assert isinstance(draft, OrderDraft)
    assert draft.external_invoice_reference1 == "ikas:o-1"
    assert draft.your_order_number == "1001"
    assert (draft.currency, draft.language, draft.vat_included) == ("SEK", "SV", True)
    assert [(r.article_number, r.quantity, r.price, r.vat) for r in draft.rows] == [
        ("SKU-1", Decimal(2), Decimal("99.50"), Decimal(25)),
        ("SKU-2", Decimal(1), Decimal("50.00"), Decimal(12)),
    ]
    assert draft.freight == Decimal("40.00")  # 50 incl. 25 % VAT; Fortnox adds its VAT to Freight


def test_shipping_as_order_rows_with_the_sales_account_of_its_rate() -> None:
    rows_mode = dataclasses.replace(ON, shipping="order_row", sales_accounts={"25": 3001})
    draft = order_draft(
        ikas_order(), rows_mode, customer_number="7", article_numbers={"v-1": "A", "v-2": "B"}, prices_include_vat=True
    )
    assert isinstance(draft, OrderDraft)
    assert draft.freight is None
    shipping = draft.rows[-1]
    assert (shipping.description, shipping.price, shipping.vat, shipping.account_number) == (
        "Post",
        Decimal("50.00"),
        Decimal(25),
        3001,
    )


def test_unrelated_lines_wait_naming_the_skus_unless_free_text_rows_are_allowed() -> None:
    waiting = order_draft(ikas_order(), ON, customer_number="7", article_numbers={"v-1": "A"}, prices_include_vat=True)
    assert isinstance(waiting, MissingRelations)
    assert waiting.waiting_reason == "waiting for product relations: SKU-2"
    free_text = dataclasses.replace(ON, sync_items_without_relation=True, sales_accounts={"12": 3002})
    draft = order_draft(
        ikas_order(), free_text, customer_number="7", article_numbers={"v-1": "A"}, prices_include_vat=False
    )
    assert isinstance(draft, OrderDraft)
    assert (draft.rows[1].article_number, draft.rows[1].description, draft.rows[1].account_number) == (
        None,
        "Tea",
        3002,
    )
    assert draft.vat_included is False
    assert draft.freight == Decimal("50.00")  # net store: the shipping price is already net


# -- the record's state machine ------------------------------------------------------------------------------


def record() -> OrderRecord:
    return OrderRecord(id="r", tenant_id=TENANT, ikas_order_id="o-1", ikas_order_number="1001", ordered_at=NOW, at=NOW)


def test_a_claim_records_the_intent_and_keeps_other_workers_out_until_it_lapses() -> None:
    made = record()
    call = made.claim("worker-a", NOW)
    assert call is not None
    assert call.key == idempotency_key("o-1") == "ikas:o-1"
    assert made.intent == "create_fortnox_order"
    assert not call.resumed
    with pytest.raises(OrderBusy):
        made.claim("worker-b", NOW + timedelta(seconds=1))
    taken_over = made.claim("worker-b", NOW + CLAIM_LEASE)  # worker-a died
    assert taken_over is not None
    assert taken_over.resumed
    with pytest.raises(OrderBusy):  # worker-a comes back: its outcome is not recorded, worker-b's look-up decides
        made.record_created("worker-a", "5", found=False, fortnox_total=None, at=NOW + CLAIM_LEASE)
    made.record_created("worker-b", "5", found=True, fortnox_total=None, at=NOW + CLAIM_LEASE)
    assert (made.status, made.fortnox_order_number, made.intent, made.claim_token) == ("created", "5", None, None)
    assert made.claim("worker-c", NOW + 2 * CLAIM_LEASE) is None  # never a second create
    assert [a.outcome for a in made.timeline] == ["started", "resumed", "found"]


def test_a_shorter_lease_lets_another_worker_take_a_dead_workers_claim_sooner() -> None:
    """BRIDGE_ORDER_CLAIM_LEASE_S: the lease each claim carries, for the order and for every later step."""
    lease = timedelta(seconds=10)
    made = record()
    assert made.claim("worker-a", NOW, lease=lease) is not None
    assert made.claim_expires_at == NOW + lease
    with pytest.raises(OrderBusy):
        made.claim("worker-b", NOW + lease - timedelta(seconds=1), lease=lease)
    taken_over = made.claim("worker-b", NOW + lease, lease=lease)
    assert taken_over is not None
    assert taken_over.resumed


def test_the_claim_lease_comes_from_the_settings(tmp_path: Path, database: Any, ikas: Any, fortnox: Any) -> None:
    services = build(
        BridgeSettings(data_dir=tmp_path, order_claim_lease_s=12),
        uow_for=database.unit_of_work,
        ikas_orders=ikas,
        article_numbers=ikas,
        fortnox_orders=fortnox,
        fortnox_customers=fortnox,
        ikas_invoices=ikas,
        fortnox_invoices=fortnox,
        fortnox_registers=fortnox,
        fortnox_settlements=fortnox,
    )
    assert services.export_order._claim_lease == timedelta(seconds=12)
    assert services.process_order._steps._claim_lease == timedelta(seconds=12)


def test_an_unknown_outcome_settles_before_anyone_looks_again() -> None:
    made = record()
    call = made.claim("a", NOW)
    assert call is not None
    made.record_unknown("a", "dropped", NOW)
    assert made.status == "error"
    assert made.error is not None
    assert made.intent == "create_fortnox_order"
    with pytest.raises(OrderBusy):
        made.claim("a", NOW + timedelta(seconds=1))
    again = made.claim("b", NOW + UNKNOWN_OUTCOME_SETTLE)
    assert again is not None
    assert again.resumed


def test_status_precedence_error_fulfilled_created_outgoing() -> None:
    made = record()
    assert made.status == "outgoing"
    made.wait("waiting for the schedule", NOW)
    assert made.waiting_reason == "waiting for the schedule"
    made.claim("a", NOW)
    made.record_created("a", "9", found=False, fortnox_total=None, at=NOW)
    assert (made.status, made.waiting_reason) == ("created", None)
    made.wait("ignored once created", NOW)
    assert made.waiting_reason is None
    total = Money(Decimal(1), "SEK")
    made.observe(
        number="1001",
        ordered_at=NOW,
        customer_name="A",
        customer_email=None,
        package_status="DELIVERED",
        total=total,
        at=NOW,
    )
    assert made.status == "fulfilled"
    made.claim_token = "b"
    made.record_failure("b", OrderError("later step failed", None, None, NOW))
    assert made.status == "error"


# -- ExportOrder with fakes ----------------------------------------------------------------------------------


@pytest.fixture
def export(services: Services, database: Any, ikas: Any) -> Services:
    database.settings[TENANT] = TenantOrderSettings(TENANT, ON, NOW)
    ikas.orders["o-1"] = ikas_order()
    return services


def send(services: Services, manual: bool = False) -> Any:
    return services.export_order(ExportOrderRequest(TENANT, "o-1", manual=manual))


def test_an_order_is_created_once_and_looked_up_first(export: Services, fortnox: Any) -> None:
    first = send(export)
    assert (first.outcome, first.status, first.fortnox_order_number) == ("created", "created", "1")
    assert send(export).outcome == "already_sent"
    assert len(fortnox.orders) == 1
    assert fortnox.finds == 1
    assert fortnox.customers["100"].email == "anna@example.com"


def test_a_lost_answer_is_looked_up_after_settling_and_never_created_twice(
    export: Services, fortnox: Any, clock: Any, database: Any
) -> None:
    def lose_answer() -> None:
        raise OutcomeUnknown("fortnox", "the connection dropped after the request was sent")

    fortnox.after_create = lose_answer
    assert send(export).outcome == "unknown"
    stored = database.orders[(TENANT, "o-1")]
    assert stored.status == "error"
    assert stored.intent == "create_fortnox_order"
    assert send(export).outcome == "busy"  # still settling
    clock.at = NOW + UNKNOWN_OUTCOME_SETTLE
    again = send(export)
    assert (again.outcome, again.fortnox_order_number) == ("found", "1")
    assert len(fortnox.orders) == 1


def test_a_crash_between_intent_and_outcome_is_resolved_by_the_look_up(
    export: Services, fortnox: Any, clock: Any, database: Any
) -> None:
    def crash() -> None:
        raise KeyboardInterrupt  # the process dies: no outcome is recorded

    fortnox.after_create = crash
    with pytest.raises(KeyboardInterrupt):
        send(export)
    assert database.orders[(TENANT, "o-1")].intent == "create_fortnox_order"
    assert send(export).outcome == "busy"  # the dead worker's claim still holds
    clock.at = NOW + CLAIM_LEASE
    assert send(export).outcome == "found"
    assert len(fortnox.orders) == 1
    assert [a.outcome for a in database.orders[(TENANT, "o-1")].timeline] == ["started", "resumed", "found"]


def test_a_refusal_is_an_error_with_the_error_object_and_a_retry_is_safe(export: Services, fortnox: Any) -> None:
    fortnox.reject = True
    failed = send(export)
    assert (failed.outcome, failed.status) == ("failed", "error")
    fortnox.reject = False
    assert send(export).outcome == "created"
    assert len(fortnox.orders) == 1


def test_the_error_object_names_the_upstream_code_and_hint(export: Services, fortnox: Any, database: Any) -> None:
    fortnox.reject = True
    send(export)
    error = database.orders[(TENANT, "o-1")].error
    assert (error.message, error.upstream_code, error.hint, error.at) == (
        "The article was not found in Fortnox",
        "2001302",
        "h",
        NOW,
    )


def test_create_orders_off_lists_the_order_as_outgoing_until_sent_by_hand(
    export: Services, database: Any, fortnox: Any
) -> None:
    database.settings[TENANT] = TenantOrderSettings(TENANT, dataclasses.replace(ON, create_orders=False), NOW)
    waiting = send(export)
    assert (waiting.outcome, waiting.status, waiting.reason) == ("waiting", "outgoing", WAITING_FOR_MANUAL_SENDING)
    assert not fortnox.orders
    assert send(export, manual=True).outcome == "created"


def test_unrelated_lines_wait_with_the_skus_then_go_once_related(
    export: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    unrelated = IkasLine("l-3", "v-3", "SKU-9", "Poster", Decimal(1), Decimal(10), Decimal(25), "UNFULFILLED")
    ikas.orders["o-1"] = ikas_order(lines=(*ikas_order().lines, unrelated))
    waiting = send(export)
    assert (waiting.status, waiting.reason) == ("outgoing", "waiting for product relations: SKU-9")
    assert not fortnox.orders
    ikas.orders["o-1"] = ikas_order()
    assert send(export).outcome == "created"


def test_a_returning_customer_is_matched_by_email_and_its_vat_type_corrected(
    export: Services, ikas: Any, fortnox: Any
) -> None:
    fortnox.create_customer(TENANT, dataclasses.replace(customer_draft(ikas_order()), vat_type="EXPORT"))
    send(export)
    assert list(fortnox.customers) == ["100"]
    assert fortnox.vat_types["100"] == "SEVAT"
    assert fortnox.orders["1"].customer_number == "100"


def test_orders_before_sync_from_are_not_listed(export: Services, ikas: Any, database: Any) -> None:
    ikas.orders["o-1"] = ikas_order(ordered_at=NOW - timedelta(days=90))
    skipped = send(export)
    assert (skipped.outcome, skipped.status) == ("skipped", None)
    assert (TENANT, "o-1") not in database.orders


# -- the key look-up before the create -----------------------------------------------------------------------


def test_a_first_attempt_looks_the_key_up_among_the_orders_only_and_an_unclear_one_among_the_invoices_too(
    export: Services, fortnox: Any, clock: Any
) -> None:
    def lose_answer() -> None:
        raise OutcomeUnknown("fortnox", "the connection dropped after the request was sent")

    fortnox.after_create = lose_answer
    assert send(export).outcome == "unknown"
    assert (fortnox.finds, fortnox.invoice_searches) == (1, 0)
    clock.at = NOW + UNKNOWN_OUTCOME_SETTLE
    assert send(export).outcome == "found"
    assert (fortnox.finds, fortnox.invoice_searches) == (2, 1)


# -- the customer cache (product.md §5: "cached per tenant") ---------------------------------------------------


def another_order(n: int, **changes: Any) -> IkasOrder:
    return ikas_order(id=f"o-{n}", number=f"10{n:02d}", **changes)


def send_order(services: Services, ikas: Any, order: IkasOrder) -> Any:
    ikas.orders[order.id] = order
    return services.export_order(ExportOrderRequest(TENANT, order.id))


def test_a_returning_buyer_costs_no_customer_call(export: Services, ikas: Any, fortnox: Any, database: Any) -> None:
    assert send(export).outcome == "created"
    assert fortnox.customer_calls == ["email", "create"]
    cached = database.customers[(TENANT, "email", "anna@example.com")]
    assert (cached.customer_number, cached.vat_type) == ("100", "SEVAT")
    commits = database.commits
    second = send_order(export, ikas, another_order(2, customer=IkasCustomer("Anna@Example.com ", "Anna", None, None)))
    assert second.outcome == "created"
    assert fortnox.customer_calls == ["email", "create"]  # the same buyer (e-mail compared ignoring case)
    assert fortnox.orders["2"].customer_number == "100"
    assert database.commits == commits + 3  # listed, intent, outcome: an unchanged cache entry is not written again


def test_a_company_is_cached_by_its_organisation_number_too_and_the_email_still_comes_first(
    export: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    company = address(company="Berg AB", tax_number="SE556677889901")
    fortnox.create_customer(
        TENANT, dataclasses.replace(customer_draft(ikas_order(billing_address=company)), email=None)
    )
    fortnox.customer_calls.clear()
    assert send_order(export, ikas, another_order(1, billing_address=company)).outcome == "created"
    assert fortnox.customer_calls == ["email", "organisation_number"]  # matched by organisation number
    assert database.customers[(TENANT, "organisation_number", "5566778899")].customer_number == "100"
    assert database.customers[(TENANT, "email", "anna@example.com")].customer_number == "100"

    colleague = IkasCustomer("erik@berg.se", "Erik Berg", None, None)
    assert send_order(export, ikas, another_order(2, billing_address=company, customer=colleague)).outcome == "created"
    # A new e-mail is asked of Fortnox first (the match's order); the organisation number then comes from the cache.
    assert fortnox.customer_calls == ["email", "organisation_number", "email"]
    assert fortnox.orders["2"].customer_number == "100"


def test_a_vat_type_the_order_needs_is_written_to_fortnox_before_the_order_and_the_cache_follows(
    export: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    send(export)
    norway = address(country_iso2="NO")
    export_order = another_order(2, billing_address=norway, tax_lines=())
    assert send_order(export, ikas, export_order).outcome == "created"
    assert fortnox.customer_calls == ["email", "create", "vat_type"]
    assert fortnox.vat_types["100"] == "EXPORT"
    assert database.customers[(TENANT, "email", "anna@example.com")].vat_type == "EXPORT"
    assert send_order(export, ikas, another_order(3, billing_address=norway, tax_lines=())).outcome == "created"
    assert fortnox.customer_calls == ["email", "create", "vat_type"]  # known to be EXPORT now
    assert send_order(export, ikas, another_order(4)).outcome == "created"
    assert fortnox.customer_calls == ["email", "create", "vat_type", "vat_type"]
    assert fortnox.vat_types["100"] == database.customers[(TENANT, "email", "anna@example.com")].vat_type == "SEVAT"


def test_a_cached_customer_deleted_in_fortnox_fails_the_order_clearly_and_the_retry_matches_again(
    export: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    send(export)
    del fortnox.customers["100"]  # deleted in Fortnox; Bridge's cache still points at it
    failed = send_order(export, ikas, another_order(2))
    assert (failed.outcome, failed.status) == ("failed", "error")
    error = database.orders[(TENANT, "o-2")].error
    assert error.message == (
        "Fortnox has no customer 100 any more, the customer Bridge had matched to this buyer; Bridge forgot the match"
    )
    assert error.upstream_code == "2000204"
    assert error.hint is not None
    assert "matches the buyer again" in error.hint
    assert (TENANT, "email", "anna@example.com") not in database.customers
    assert list(fortnox.orders) == ["1"]

    retried = send_order(export, ikas, another_order(2))
    assert (retried.outcome, retried.status) == ("created", "created")
    assert fortnox.orders["2"].customer_number == "101"  # matched again: not found, so created
    assert database.customers[(TENANT, "email", "anna@example.com")].customer_number == "101"


def test_a_cached_customer_deleted_in_fortnox_is_forgotten_when_its_vat_type_is_set(
    export: Services, ikas: Any, fortnox: Any, database: Any
) -> None:
    send(export)
    del fortnox.customers["100"]
    outside_eu = another_order(2, billing_address=address(country_iso2="NO"), tax_lines=())
    failed = send_order(export, ikas, outside_eu)
    assert (failed.outcome, failed.status) == ("failed", "error")
    assert database.orders[(TENANT, "o-2")].error.upstream_code == "2000433"
    assert (TENANT, "email", "anna@example.com") not in database.customers
    assert send_order(export, ikas, outside_eu).outcome == "created"
    assert (fortnox.orders["2"].customer_number, fortnox.vat_types["101"]) == ("101", "EXPORT")


def test_the_cache_is_per_tenant(export: Services, ikas: Any, fortnox: Any, database: Any) -> None:
    send(export)
    database.settings["tenant-b"] = TenantOrderSettings("tenant-b", ON, NOW)
    ikas.orders["o-9"] = another_order(9)
    assert export.export_order(ExportOrderRequest("tenant-b", "o-9")).outcome == "created"
    assert fortnox.customer_calls == ["email", "create", "email"]  # tenant-b's own match, not tenant-a's cache
    assert set(database.customers) == {(TENANT, "email", "anna@example.com"), ("tenant-b", "email", "anna@example.com")}
