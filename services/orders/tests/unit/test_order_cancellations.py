"""Following ikas cancellations with fakes (product.md §5b, orders.follow_cancellations): the Fortnox order
cancelled before invoicing, the invoice bookkept and credited after, each once; repeats do nothing more; lost
answers looked up."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.order_record import (
    CANCEL_FORTNOX_ORDER,
    CREATE_INVOICE,
    CREDIT_INVOICE,
    UNKNOWN_OUTCOME_SETTLE,
    OrderRecord,
)
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import OutcomeUnknown
from bridge_platform.settings import BridgeSettings

from .run_fakes import (
    Customers,
    FakeMarks,
    FakeOrderFeed,
    FakeOrderReads,
    FakeStoreNames,
    FakeWakeUps,
    Progress,
    Relations,
)
from .test_order_documents import INVOICING, NOW, ON, TENANT, ikas_order


def settings_are(database: Any, settings: OrderSettings) -> None:
    database.settings[TENANT] = TenantOrderSettings(TENANT, settings, NOW)


def process(services: Services) -> Any:
    return services.process_order(ProcessOrderRequest(TENANT, "o-1"))


def stored(database: Any) -> OrderRecord:
    record: OrderRecord = database.orders[(TENANT, "o-1")]
    return record


def cancel_in_ikas(ikas: Any) -> None:
    ikas.orders["o-1"] = dataclasses.replace(ikas.orders["o-1"], status="CANCELLED", payment_status="REFUNDED")


def steps_of(record: OrderRecord, step: str) -> list[str]:
    return [a.outcome for a in record.timeline if a.step == step]


def test_cancelled_before_invoicing_cancels_the_fortnox_order_once(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    cancel_in_ikas(ikas)
    result = process(services)
    record = stored(database)
    assert (result.outcome, result.wrote, record.fortnox_state) == ("already_sent", True, "cancelled")
    assert fortnox.cancelled == {record.fortnox_order_number}
    assert steps_of(record, CANCEL_FORTNOX_ORDER) == ["started", "cancelled"]
    settings_are(database, INVOICING)  # a cancelled order is not invoiced afterwards, and nothing is done again
    again = process(services)
    assert (again.wrote, fortnox.settlement_writes, fortnox.invoices) == (False, ["cancel 1"], {})


def test_cancelled_after_invoicing_bookkeeps_and_credits_the_invoice_once(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    cancel_in_ikas(ikas)
    process(services)
    record = stored(database)
    assert record.fortnox_state == "credited"
    assert fortnox.credits == {"500": "900"}
    assert fortnox.settlement_writes == ["bookkeep 500", "credit 500"]
    assert fortnox.cancelled == set()
    assert steps_of(record, CREDIT_INVOICE) == ["started", "credited"]
    assert "credit invoice 900" in record.timeline[-1].detail
    process(services)
    assert fortnox.settlement_writes == ["bookkeep 500", "credit 500"]


def test_without_follow_cancellations_nothing_is_cancelled(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, dataclasses.replace(ON, follow_cancellations=False))
    ikas.orders["o-1"] = ikas_order()
    process(services)
    cancel_in_ikas(ikas)
    process(services)
    assert (stored(database).fortnox_state, fortnox.settlement_writes) == ("order", [])


def test_an_order_invoiced_meanwhile_is_credited_not_cancelled(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    fortnox.invoices["777"], fortnox.invoice_of["1"] = "1", "777"  # invoiced by hand in Fortnox
    cancel_in_ikas(ikas)
    process(services)
    record = stored(database)
    assert (record.fortnox_invoice_number, record.fortnox_state) == ("777", "credited")
    assert fortnox.settlement_writes == ["bookkeep 777", "credit 777"]
    assert steps_of(record, CREATE_INVOICE) == ["found"]


def test_a_lost_answer_on_the_credit_makes_one_credit_invoice(
    services: Services, database: Any, fortnox: Any, ikas: Any, clock: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    cancel_in_ikas(ikas)
    fortnox.fail_after["credit"] = OutcomeUnknown("fortnox", "the connection dropped")
    assert process(services).outcome == "unknown"
    assert (stored(database).intent, stored(database).fortnox_state) == (CREDIT_INVOICE, "invoiced")
    assert process(services).outcome == "busy"
    clock.at += UNKNOWN_OUTCOME_SETTLE + timedelta(seconds=1)
    process(services)
    record = stored(database)
    assert (record.fortnox_state, record.intent, record.error) == ("credited", None, None)
    assert fortnox.settlement_writes == ["bookkeep 500", "credit 500"]
    assert steps_of(record, CREDIT_INVOICE)[-2:] == ["resumed", "found"]


def test_a_lost_answer_on_the_cancel_is_looked_up(
    services: Services, database: Any, fortnox: Any, ikas: Any, clock: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    cancel_in_ikas(ikas)
    fortnox.fail_after["cancel"] = OutcomeUnknown("fortnox", "the connection dropped")
    assert process(services).outcome == "unknown"
    clock.at += UNKNOWN_OUTCOME_SETTLE + timedelta(seconds=1)
    process(services)
    record = stored(database)
    assert (record.fortnox_state, record.error) == ("cancelled", None)
    assert fortnox.settlement_writes == ["cancel 1"]
    assert steps_of(record, CANCEL_FORTNOX_ORDER)[-2:] == ["resumed", "found"]


def test_the_run_brings_a_cancelled_order_in_fortnox_to_its_step_once(
    database: Any,
    clock: Any,
    ikas: Any,
    fortnox: Any,
    fortnox_after_invoicing: Any,
    fortnox_documents: Any,
    tmp_path: Path,
) -> None:
    """§5's selection skips a cancelled order for sending; one already in Fortnox still reaches the cancellation
    through the run's watermark (its updatedAt moved), and a second run writes nothing."""
    invoices, settlements = fortnox_after_invoicing
    feed, marks = FakeOrderFeed(ikas), FakeMarks()
    services = build(
        BridgeSettings(data_dir=tmp_path),
        uow_for=database.unit_of_work,
        clock=clock,
        with_runs=False,
        ikas_orders=ikas,
        ikas_invoices=ikas,
        fortnox_orders=fortnox,
        fortnox_customers=Customers(fortnox),
        fortnox_invoices=invoices,
        fortnox_registers=fortnox,
        fortnox_settlements=settlements,
        fortnox_documents=fortnox_documents,
        order_feed=feed,
        store_names=FakeStoreNames(),
        order_reads=FakeOrderReads(database),
        order_marks=marks,
        wake_ups=FakeWakeUps(),
        article_numbers=Relations({"SKU-1", "SKU-2"}),
    )
    sync = services.sync_orders
    assert sync is not None
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    assert sync(TENANT, Progress()).counts["created"] == 1
    clock.at += timedelta(minutes=5)
    ikas.orders["o-1"] = dataclasses.replace(ikas.orders["o-1"], status="CANCELLED", updated_at=clock.at)
    report = sync(TENANT, Progress())
    assert (report.state, report.counts["updated"]) == ("succeeded", 1)
    assert (stored(database).fortnox_state, fortnox.settlement_writes) == ("cancelled", ["cancel 1"])
    clock.at += timedelta(minutes=5)
    ikas.orders["o-1"] = dataclasses.replace(ikas.orders["o-1"], updated_at=clock.at)  # another change in ikas
    assert sync(TENANT, Progress()).counts["updated"] == 0
    assert fortnox.settlement_writes == ["cancel 1"]
