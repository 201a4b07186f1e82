"""Order runs with fakes (product.md §5, §6): the orders run's watermark, retries and wake-ups, per-order
isolation, paused connections, backfill and its dry run, starting runs, webhooks, and the read side."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge_orders.app.order_runs import StartOrderRunRequest
from bridge_orders.app.order_sync import OVERLAP, RETRY_ERRORS_AFTER, WATERMARK
from bridge_orders.app.ports import OrderFilter, RunReport
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.ikas_order import IkasCustomer, IkasLine, IkasOrder, IkasTaxLine
from bridge_orders.domain.order_record import OrderRecord
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import Conflict, InvalidInput, NotFound
from bridge_platform.settings import BridgeSettings

from .run_fakes import (
    Customers,
    FakeDueTenants,
    FakeMarks,
    FakeOrderFeed,
    FakeOrderReads,
    FakeRunLedger,
    FakeStoreNames,
    FakeWakeUps,
    PausableFortnox,
    Progress,
    Relations,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # the clock fixture's time
TENANT, OTHER = "tenant-a", "tenant-b"
SYNC_FROM = NOW - timedelta(days=30)


def order(number: int, *, sku: str = "SKU-1", **changes: Any) -> IkasOrder:
    base = IkasOrder(
        id=f"o-{number}",
        number=str(number),
        status="CREATED",
        payment_status="PAID",
        package_status="UNFULFILLED",
        ordered_at=NOW - timedelta(days=2, minutes=number),
        updated_at=NOW - timedelta(days=1, minutes=number),
        currency="SEK",
        total_final_price=Decimal("199.00"),
        customer=IkasCustomer(f"buyer{number}@example.com", f"Buyer {number}", None, "sv"),
        billing_address=None,
        lines=(IkasLine(f"l-{number}", f"v-{sku}", sku, "Mug", Decimal(1), Decimal("149.00"), Decimal(25), "NEW"),),
        shipping_lines=(),
        tax_lines=(IkasTaxLine(Decimal(25), Decimal("29.80")),),
    )
    return dataclasses.replace(base, **changes)


def configure(database: Any, tenant: str = TENANT, **changes: Any) -> None:
    settings = OrderSettings(sync_automatically=True, sync_from=SYNC_FROM, **changes)
    database.settings[tenant] = TenantOrderSettings(tenant, settings, NOW)


@dataclass
class RunKit:
    """The orders service built with the export tests' fakes and the run fakes."""

    services: Services
    database: Any  # FakeDatabase: committed settings and records
    ikas: Any  # FakeIkasOrders: `orders` by id
    clock: Any  # FixedClock: `at`
    fortnox: PausableFortnox
    feed: FakeOrderFeed
    marks: FakeMarks
    wake_ups: FakeWakeUps
    ledger: FakeRunLedger
    relations: Relations


@pytest.fixture
def kit(database: Any, clock: Any, ikas: Any, fortnox: Any, tmp_path: Path) -> RunKit:
    pausable, feed, marks = PausableFortnox(fortnox), FakeOrderFeed(ikas), FakeMarks()
    wake_ups, ledger, relations = FakeWakeUps(), FakeRunLedger(clock.now), Relations({"SKU-1", "SKU-2"})
    services = build(
        BridgeSettings(data_dir=tmp_path),
        uow_for=database.unit_of_work,
        clock=clock,
        with_runs=False,
        ikas_orders=ikas,
        fortnox_orders=pausable,
        fortnox_customers=Customers(fortnox),
        order_feed=feed,
        store_names=FakeStoreNames(),
        order_reads=FakeOrderReads(database),
        order_marks=marks,
        wake_ups=wake_ups,
        run_ledger=ledger,
        due_tenants=FakeDueTenants(database.settings),
        article_numbers=relations,
    )
    return RunKit(services, database, ikas, clock, pausable, feed, marks, wake_ups, ledger, relations)


def run(kit: RunKit, tenant: str = TENANT) -> RunReport:
    assert kit.services.sync_orders is not None
    return kit.services.sync_orders(tenant, Progress())


def record(database: Any, ikas_order_id: str, tenant: str = TENANT) -> OrderRecord:
    record: OrderRecord = database.orders[(tenant, ikas_order_id)]
    return record


# -- the orders run ---------------------------------------------------------------------------------------------


def test_the_run_sends_what_changed_and_a_second_run_writes_nothing(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {o.id: o for o in (order(1), order(2), order(3, ordered_at=SYNC_FROM - timedelta(days=1)))}

    first = run(kit)

    assert (first.state, first.counts) == ("succeeded", {"created": 2, "updated": 0, "unchanged": 1, "failed": 0})
    assert len(kit.fortnox.inner.orders) == 2
    assert kit.feed.walks == [SYNC_FROM]  # no watermark yet: from sync_from
    assert kit.marks.get(TENANT, WATERMARK) == NOW - OVERLAP
    assert kit.marks.get(TENANT, "last_order_sync") == NOW
    finds = kit.fortnox.inner.finds

    kit.clock.at = NOW + timedelta(minutes=5)
    second = run(kit)

    assert second.counts == {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    assert kit.feed.walks[-1] == NOW - OVERLAP
    assert (len(kit.fortnox.inner.orders), kit.fortnox.inner.finds) == (2, finds)  # nothing asked of Fortnox at all


def test_one_refused_order_does_not_stop_the_others(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {o.id: o for o in (order(1), order(2), order(3))}
    kit.fortnox.refuse_email = "buyer2@example.com"

    report = run(kit)

    assert report.state == "partially_failed"
    assert (report.counts["created"], report.counts["failed"]) == (2, 1)
    assert [(e["entity"], e["message"]) for e in report.errors] == [("2", "order 2: The customer was refused")]
    assert record(kit.database, "o-2").status == "error"
    # The failure is on the order's record, so the walk is accounted for and the watermark moves on.
    assert kit.marks.get(TENANT, WATERMARK) == NOW - OVERLAP
    assert kit.marks.get(TENANT, "last_order_sync") is None  # not a successful run


def test_a_failed_order_is_tried_again_once_its_failure_is_old_enough(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {"o-1": order(1)}
    kit.fortnox.refuse_email = "buyer1@example.com"
    run(kit)
    kit.fortnox.refuse_email = None

    kit.clock.at = NOW + timedelta(minutes=1)
    assert run(kit).counts["created"] == 0  # too soon
    kit.clock.at = NOW + RETRY_ERRORS_AFTER + timedelta(minutes=1)
    assert run(kit).counts["created"] == 1
    assert record(kit.database, "o-1").status == "created"


def test_an_order_waiting_for_relations_goes_out_once_they_exist(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {"o-1": order(1, sku="SKU-9")}

    first = run(kit)

    assert first.counts["unchanged"] == 1
    assert record(kit.database, "o-1").waiting_reason == "waiting for product relations: SKU-9"
    kit.relations.skus.add("SKU-9")  # the catalog linked it; the ikas order itself did not change
    kit.clock.at = NOW + timedelta(minutes=10)

    second = run(kit)

    assert second.counts["created"] == 1
    assert len(kit.fortnox.inner.orders) == 1


def test_a_paused_connection_stops_the_run_and_the_next_run_after_reconnecting_drains_it(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {o.id: o for o in (order(1), order(2))}
    kit.fortnox.paused = True

    paused = run(kit)

    assert paused.state == "failed"
    assert paused.errors[-1]["upstream_code"] is None or paused.errors[-1]["upstream_code"] == "needs_reauth"
    assert "reconnect" in paused.errors[-1]["hint"]
    assert record(kit.database, "o-2").status == "outgoing"  # the first one walked (oldest updatedAt: o-2)
    assert "paused" in (record(kit.database, "o-2").waiting_reason or "")
    assert kit.marks.get(TENANT, WATERMARK) is None  # the walk did not complete
    assert kit.fortnox.inner.orders == {}

    kit.fortnox.paused = False
    kit.clock.at = NOW + timedelta(minutes=3)
    drained = run(kit)

    assert (drained.state, drained.counts["created"]) == ("succeeded", 2)
    assert {r.status for r in kit.database.orders.values()} == {"created"}


def test_a_paused_ikas_connection_stops_the_run_before_anything_is_read(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {"o-1": order(1)}
    kit.feed.paused = True

    report = run(kit)

    assert report.state == "failed"
    assert report.errors[-1]["upstream_code"] == "needs_reauth"
    assert kit.marks.get(TENANT, WATERMARK) is None


def test_without_sync_from_the_run_reads_nothing(kit: RunKit) -> None:
    kit.database.settings[TENANT] = TenantOrderSettings(TENANT, OrderSettings(), NOW)
    kit.ikas.orders = {"o-1": order(1)}

    report = run(kit)

    assert report.state == "succeeded"
    assert kit.feed.walks == []
    assert kit.marks.get(TENANT, WATERMARK) is None


def test_a_run_whose_lease_was_lost_stops_and_moves_no_watermark(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {"o-1": order(1)}
    progress = Progress()
    progress.lost = True
    assert kit.services.sync_orders is not None

    kit.services.sync_orders(TENANT, progress)

    assert kit.marks.get(TENANT, WATERMARK) is None
    assert kit.database.orders == {}


# -- webhooks ---------------------------------------------------------------------------------------------------


def test_a_webhook_wakes_the_order_up_once_and_the_run_processes_it(kit: RunKit) -> None:
    configure(kit.database)
    # Updated before the watermark, so only the wake-up can bring it in.
    quiet = order(1, updated_at=SYNC_FROM - timedelta(days=1), ordered_at=SYNC_FROM + timedelta(hours=1))
    kit.ikas.orders = {"o-1": quiet}
    webhook = kit.services.handle_webhook
    assert webhook is not None

    assert webhook(TENANT, "o-1", "store/order/created") is True
    assert webhook(TENANT, "o-1", "store/order/updated") is True  # created+updated: still one wake-up

    assert [r.trigger for r in kit.ledger.runs.values()] == ["webhook"]  # the second found the first queued
    report = run(kit)
    assert report.counts["created"] == 1
    assert kit.wake_ups.rows == {}
    assert len(kit.fortnox.inner.orders) == 1


def test_a_webhook_while_a_run_is_going_queues_one_follow_up(kit: RunKit) -> None:
    configure(kit.database)
    webhook = kit.services.handle_webhook
    assert webhook is not None
    webhook(TENANT, "o-1", "store/order/created")
    (first,) = kit.ledger.runs
    kit.ledger.set_state(first, "running")

    webhook(TENANT, "o-2", "store/order/created")
    webhook(TENANT, "o-3", "store/order/updated")

    assert sorted(kit.ledger.runs) == [first, f"{first}-after"]
    assert set(kit.wake_ups.rows) == {(TENANT, "o-1"), (TENANT, "o-2"), (TENANT, "o-3")}


def test_a_webhook_is_ignored_when_automatic_sync_is_off(kit: RunKit) -> None:
    configure(kit.database, TENANT)
    kit.database.settings[OTHER] = TenantOrderSettings(OTHER, OrderSettings(sync_automatically=False), NOW)
    webhook = kit.services.handle_webhook
    assert webhook is not None

    assert webhook(OTHER, "o-1", "store/order/created") is False
    assert webhook("no-settings-yet", "o-1", "store/order/created") is False
    assert kit.wake_ups.rows == {}
    assert kit.ledger.runs == {}
    with pytest.raises(InvalidInput):
        webhook(TENANT, "o-1", "store/product/updated")


def test_a_wake_up_for_an_order_ikas_does_not_have_is_forgotten(kit: RunKit) -> None:
    configure(kit.database)
    kit.wake_ups.add(TENANT, "o-gone", "store/order/updated", NOW)

    report = run(kit)

    assert report.state == "succeeded"
    assert kit.wake_ups.rows == {}


# -- backfill ---------------------------------------------------------------------------------------------------


def backfill(kit: RunKit, start: datetime, end: datetime, *, dry_run: bool) -> RunReport:
    assert kit.services.sync_orders is not None
    payload = {"from": start.isoformat(), "to": end.isoformat(), "dry_run": dry_run}
    return kit.services.sync_orders.backfill(TENANT, payload, Progress())


def test_a_dry_run_backfill_plans_per_order_and_writes_nothing(kit: RunKit) -> None:
    configure(kit.database)
    old = SYNC_FROM - timedelta(days=10)
    kit.ikas.orders = {
        o.id: o
        for o in (
            order(1, ordered_at=old),  # before sync_from: a backfill sends it anyway
            order(2, ordered_at=old, status="CANCELLED"),
            order(3, ordered_at=old, sku="SKU-9"),
            order(4, ordered_at=old - timedelta(days=30)),  # outside the range
        )
    }
    commits = kit.database.commits

    report = backfill(kit, old - timedelta(days=1), old + timedelta(days=1), dry_run=True)

    planned = {p["entity"]: (p["action"], p["reason"]) for p in report.result["planned"]}
    assert planned == {
        "1": ("create", "not in Fortnox yet"),
        "2": ("skip", "the ikas order is cancelled"),
        "3": ("skip", "waiting for product relations: SKU-9"),
    }
    assert report.counts == {"created": 1, "updated": 0, "unchanged": 2, "failed": 0}
    assert (kit.fortnox.inner.orders, kit.database.orders, kit.database.commits) == ({}, {}, commits)


def test_a_backfill_sends_the_range_by_the_manual_rules(kit: RunKit) -> None:
    configure(kit.database, create_orders=False)  # manual rules: create_orders does not hold a backfill back
    old = SYNC_FROM - timedelta(days=10)
    kit.ikas.orders = {o.id: o for o in (order(1, ordered_at=old), order(2, ordered_at=old - timedelta(days=30)))}

    report = backfill(kit, old - timedelta(days=1), old + timedelta(days=1), dry_run=False)

    assert report.counts["created"] == 1
    assert [d.your_order_number for d in kit.fortnox.inner.orders.values()] == ["1"]
    again = backfill(kit, old - timedelta(days=1), old + timedelta(days=1), dry_run=True)
    assert again.result["planned"] == [{"action": "skip", "entity": "1", "reason": "already in Fortnox as order 1"}]


# -- starting and reading runs ----------------------------------------------------------------------------------


def test_starting_runs_checks_scope_trigger_and_range_and_refuses_a_second(kit: RunKit) -> None:
    start = kit.services.start_run
    assert start is not None
    for bad, field in [
        (StartOrderRunRequest(TENANT, "products"), "scope"),
        (StartOrderRunRequest(TENANT, "orders", trigger="cron"), "trigger"),
        (StartOrderRunRequest(TENANT, "backfill"), "backfill_from"),
        (StartOrderRunRequest(TENANT, "backfill", backfill_from=NOW, backfill_to=NOW), "backfill_to"),
        (StartOrderRunRequest(TENANT, "orders", dry_run=True), "scope"),
    ]:
        with pytest.raises(InvalidInput) as invalid:
            start(bad)
        assert invalid.value.violations[0].field == field

    first = start(StartOrderRunRequest(TENANT, "orders"))
    assert (first.scope, first.trigger, first.state) == ("orders", "on_demand", "queued")
    with pytest.raises(Conflict) as going:
        start(StartOrderRunRequest(TENANT, "orders"))
    assert going.value.details == {"run_id": first.id}
    backfill_run = start(
        StartOrderRunRequest(TENANT, "backfill", backfill_from=NOW - timedelta(days=1), backfill_to=NOW)
    )
    assert kit.ledger.payloads[backfill_run.id]["to"] == NOW.isoformat()

    get, listing = kit.services.get_run, kit.services.list_runs
    assert get is not None
    assert listing is not None
    with pytest.raises(NotFound):
        get(OTHER, first.id)
    assert listing(OTHER, None, 0, 0).runs == []
    assert listing(TENANT, "orders", 0, 0).total == 1
    with pytest.raises(InvalidInput):
        listing(TENANT, None, 1, 201)


def test_due_syncs_enqueue_one_run_per_tenant_with_automatic_sync(kit: RunKit) -> None:
    configure(kit.database, TENANT)
    kit.database.settings[OTHER] = TenantOrderSettings(OTHER, OrderSettings(), NOW)
    due = kit.services.run_due_syncs
    assert due is not None

    assert (due("orders").enqueued, due("orders").skipped) == (1, 1)
    assert {r.tenant_id for r in kit.ledger.runs.values()} == {TENANT}
    with pytest.raises(InvalidInput):
        due("products")


# -- the read side ----------------------------------------------------------------------------------------------


def test_list_filters_and_pages_newest_first(kit: RunKit) -> None:
    configure(kit.database)
    kit.ikas.orders = {o.id: o for o in (order(1), order(2), order(3, sku="SKU-9"))}
    run(kit)
    listing, get = kit.services.list_orders, kit.services.get_order
    assert listing is not None
    assert get is not None

    page = listing(TENANT, OrderFilter(), 0, 0)
    assert (page.page, page.page_size, page.total) == (1, 50, 3)
    assert [o.ikas_order_number for o in page.orders] == ["1", "2", "3"]  # ordered 1 minute apart, 1 newest
    assert page.last_order_sync_at == NOW
    assert [o.ikas_order_number for o in listing(TENANT, OrderFilter(query="BUYER2"), 1, 50).orders] == ["2"]
    assert [o.ikas_order_number for o in listing(TENANT, OrderFilter(status="outgoing"), 1, 50).orders] == ["3"]
    assert listing(TENANT, OrderFilter(), 2, 2).orders[0].ikas_order_number == "3"
    assert listing(OTHER, OrderFilter(), 1, 50).total == 0
    for bad in (OrderFilter(status="lost"), OrderFilter(ordered_from=NOW, ordered_to=NOW - timedelta(days=1))):
        with pytest.raises(InvalidInput):
            listing(TENANT, bad, 1, 50)
    with pytest.raises(InvalidInput):
        listing(TENANT, OrderFilter(), 1, 201)

    one = page.orders[0]
    assert get(TENANT, one.id).timeline
    with pytest.raises(NotFound):
        get(OTHER, one.id)


def test_the_first_run_of_a_tenant_leaves_others_alone(kit: RunKit) -> None:
    configure(kit.database, TENANT)
    configure(kit.database, OTHER)
    kit.ikas.orders = {"o-1": order(1)}

    run(kit, TENANT)

    assert {tenant for tenant, _ in kit.database.orders} == {TENANT}
    assert kit.marks.get(OTHER, WATERMARK) is None
