"""register_payment with fakes (product.md §5b): one bookkept payment of the invoice's total with the mapped mode of
payment, in either order of payment and invoice; an unmapped method a note until mapped; lost answers looked up."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services
from bridge_orders.domain.ikas_order import IkasPaymentMethod
from bridge_orders.domain.order_record import REGISTER_PAYMENT, UNKNOWN_OUTCOME_SETTLE, OrderRecord
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import OutcomeUnknown, UpstreamRejected

from .test_order_documents import NOW, ON, TENANT, ikas_order

PAYING = dataclasses.replace(ON, create_invoice=True, register_payments=True, modes_of_payment={"CREDIT_CARD": "KORT"})
CARD = (IkasPaymentMethod("CREDIT_CARD", Decimal("299.00")),)


def settings_are(database: Any, settings: OrderSettings) -> None:
    database.settings[TENANT] = TenantOrderSettings(TENANT, settings, NOW)


def process(services: Services) -> Any:
    return services.process_order(ProcessOrderRequest(TENANT, "o-1"))


def stored(database: Any) -> OrderRecord:
    record: OrderRecord = database.orders[(TENANT, "o-1")]
    return record


@pytest.fixture
def paid_order(ikas: Any) -> None:
    ikas.orders["o-1"] = ikas_order(payment_methods=CARD)


def invoice_total(fortnox: Any) -> Decimal:
    (order_number,) = fortnox.orders
    total: Decimal = fortnox._summary(order_number, fortnox.orders[order_number]).total
    return total


@pytest.mark.usefixtures("paid_order")
def test_a_paid_order_gets_one_bookkept_payment_of_the_invoice_total_after_invoicing(
    services: Services, database: Any, fortnox: Any
) -> None:
    settings_are(database, PAYING)
    result = process(services)
    assert (result.outcome, result.wrote) == ("created", True)
    record = stored(database)
    assert (record.fortnox_state, record.error, record.intent) == ("paid", None, None)
    (payment,) = fortnox.payments.values()
    assert payment == {
        "invoice": record.fortnox_invoice_number,
        "amount": invoice_total(fortnox),
        "mode": "KORT",
        "booked": True,
    }
    assert fortnox.settlement_writes == ["bookkeep 500", "pay 500", "bookkeep payment 1"]
    assert [a.outcome for a in record.timeline if a.step == REGISTER_PAYMENT] == ["started", "created"]
    again = process(services)
    assert (again.outcome, again.wrote) == ("already_sent", False)
    assert len(fortnox.settlement_writes) == 3


def test_a_payment_before_the_invoice_is_registered_once_the_invoice_exists(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    ikas.orders["o-1"] = ikas_order(payment_methods=CARD, payment_status="WAITING")
    settings_are(database, dataclasses.replace(PAYING, create_invoice=False))
    process(services)
    assert (stored(database).fortnox_state, fortnox.payments) == ("order", {})
    ikas.orders["o-1"] = ikas_order(payment_methods=CARD)  # paid now; still no invoice
    process(services)
    assert (stored(database).fortnox_state, fortnox.payments) == ("order", {})
    settings_are(database, PAYING)  # the invoice comes later: the payment follows it in the same call
    process(services)
    assert stored(database).fortnox_state == "paid"
    assert len(fortnox.payments) == 1


def test_an_invoiced_order_that_becomes_paid_is_paid_then(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    ikas.orders["o-1"] = ikas_order(payment_methods=CARD, payment_status="WAITING")
    settings_are(database, PAYING)
    process(services)
    assert (stored(database).fortnox_state, fortnox.payments) == ("invoiced", {})
    ikas.orders["o-1"] = ikas_order(payment_methods=CARD)
    assert process(services).wrote
    assert stored(database).fortnox_state == "paid"


@pytest.mark.usefixtures("paid_order")
def test_without_register_payments_nothing_is_paid(services: Services, database: Any, fortnox: Any) -> None:
    settings_are(database, dataclasses.replace(PAYING, register_payments=False))
    process(services)
    assert (stored(database).fortnox_state, fortnox.payments, fortnox.booked) == ("invoiced", {}, set())


@pytest.mark.usefixtures("paid_order")
def test_an_unmapped_method_leaves_a_note_once_and_is_paid_when_mapped(
    services: Services, database: Any, fortnox: Any
) -> None:
    settings_are(database, dataclasses.replace(PAYING, modes_of_payment={"BANK_REDIRECT": "BG"}))
    first = process(services)
    process(services)
    record = stored(database)
    assert first.outcome == "waiting"
    assert (record.status, record.fortnox_state, fortnox.payments, fortnox.booked) == ("error", "invoiced", {}, set())
    assert record.error is not None
    assert "CREDIT_CARD" in record.error.message
    assert record.error.hint is not None
    assert "map the ikas payment method CREDIT_CARD in orders.modes_of_payment" in record.error.hint
    assert [a.outcome for a in record.timeline if a.step == REGISTER_PAYMENT] == ["refused"]  # shown once
    settings_are(database, PAYING)
    process(services)
    record = stored(database)
    assert (record.status, record.fortnox_state, record.error) == ("created", "paid", None)
    assert [p["mode"] for p in fortnox.payments.values()] == ["KORT"]


@pytest.mark.usefixtures("paid_order")
@pytest.mark.parametrize("write", ["pay", "bookkeep_payment"])
def test_a_lost_answer_is_looked_up_and_never_pays_twice(
    services: Services, database: Any, fortnox: Any, clock: Any, write: str
) -> None:
    settings_are(database, PAYING)
    fortnox.fail_after[write] = OutcomeUnknown("fortnox", "the connection dropped")
    result = process(services)
    record = stored(database)
    assert (result.outcome, record.intent, record.fortnox_state) == ("unknown", REGISTER_PAYMENT, "invoiced")
    assert process(services).outcome == "busy"  # the settling time: nobody looks before a late answer lands
    clock.at += UNKNOWN_OUTCOME_SETTLE + timedelta(seconds=1)
    process(services)
    record = stored(database)
    assert (record.fortnox_state, record.intent, record.error) == ("paid", None, None)
    (payment,) = fortnox.payments.values()
    assert payment["booked"] is True
    assert fortnox.settlement_writes == ["bookkeep 500", "pay 500", "bookkeep payment 1"]
    assert [a.outcome for a in record.timeline if a.step == REGISTER_PAYMENT][-2:] == ["resumed", "found"]


@pytest.mark.usefixtures("paid_order")
def test_a_refused_payment_is_an_error_and_nothing_half_written(
    services: Services, database: Any, fortnox: Any
) -> None:
    settings_are(database, PAYING)
    fortnox.fail_before["pay"] = UpstreamRejected("fortnox", "Kunde inte hitta betalsätt (KORT).", 400, "2000426")
    result = process(services)
    record = stored(database)
    assert (result.outcome, record.status, record.intent, fortnox.payments) == ("failed", "error", None, {})
    assert record.error is not None
    assert record.error.upstream_code == "2000426"
    process(services)  # tried again (the invoice is booked already: not bookkept twice)
    assert stored(database).fortnox_state == "paid"
    assert fortnox.settlement_writes == ["bookkeep 500", "pay 500", "bookkeep payment 1"]
