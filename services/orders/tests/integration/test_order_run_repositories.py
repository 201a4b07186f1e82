"""The orders run's storage on SQLite and PostgreSQL: the read side's filters (case-insensitive beyond ASCII,
LIKE wildcards taken literally), the records a run picks up again, marks, wake-ups under concurrent webhooks,
and the ledger's follow-up runs and pages; every query scoped to one tenant."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bridge_orders.adapters.db.order_reads import SqlOrderReads, register_sql_functions
from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.runs import SqlOrderMarks, SqlRunLedger, SqlWakeUps
from bridge_orders.adapters.db.tables import map_tables, runs
from bridge_orders.app.ports import OrderFilter, WakeUp
from bridge_orders.bootstrap import MIGRATIONS
from bridge_orders.domain.order_record import Money, OrderError, OrderRecord
from bridge_orders.domain.selection import WAITING_FOR_PAYMENT
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.jobs import PRIORITY_ORDERS, RunQueue, make_huey

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A, B = "tenant-a", "tenant-b"


@dataclass
class Storage:
    engine: Engine
    uow_for: partial[SqlOrdersUnitOfWork]
    reads: SqlOrderReads


@pytest.fixture
def storage(database_url: str) -> Storage:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    engine = make_engine(database_url)
    register_sql_functions(engine)
    sessions = session_factory(engine)
    return Storage(engine, partial(SqlOrdersUnitOfWork, sessions), SqlOrderReads(sessions))


def add(storage: Storage, tenant: str, number: int, name: str, email: str | None, **state: object) -> OrderRecord:
    record = OrderRecord(
        id=f"{tenant}-{number}",
        tenant_id=tenant,
        ikas_order_id=f"ikas-{number}",
        ikas_order_number=str(number),
        ordered_at=AT - timedelta(hours=number),
        at=AT,
    )
    record.observe(
        number=str(number),
        ordered_at=AT - timedelta(hours=number),
        customer_name=name,
        customer_email=email,
        package_status=None,
        total=Money(Decimal("100.00"), "SEK"),
        at=AT - timedelta(minutes=number),
    )
    for attribute, value in state.items():
        setattr(record, attribute, value)
    with storage.uow_for(tenant) as uow:
        uow.orders.add(record)
        uow.commit()
    return record


def numbers(records: list[OrderRecord]) -> list[str]:
    return [r.ikas_order_number for r in records]


def test_the_list_searches_case_insensitively_filters_and_pages_newest_first(storage: Storage) -> None:
    add(storage, A, 1, "Åsa Öberg", "ASA.OBERG@example.se")
    add(storage, A, 2, "Erik Svensson", "erik@example.com", status="created", fortnox_order_number="7")
    add(storage, A, 3, "100% Design AB", "info@design.se")
    add(storage, A, 4, "Anna_Berg", None)
    add(storage, B, 1, "Åsa Öberg", "asa.oberg@example.se")
    reads = storage.reads

    def page(filters: OrderFilter, page: int = 1, size: int = 50) -> tuple[list[str], int]:
        found, total = reads.page(A, filters, page, size)
        return numbers(found), total

    assert page(OrderFilter()) == (["1", "2", "3", "4"], 4)  # ordered one hour apart, 1 newest
    assert page(OrderFilter(query="åsa")) == (["1"], 1)  # Å folds on SQLite too
    assert page(OrderFilter(query="ÖBERG")) == (["1"], 1)
    assert page(OrderFilter(query="asa.oberg@EXAMPLE")) == (["1"], 1)
    assert page(OrderFilter(query="3")) == (["3"], 1)  # the order number
    assert page(OrderFilter(query="%")) == (["3"], 1)  # a literal percent sign, not a wildcard
    assert page(OrderFilter(query="a_b")) == (["4"], 1)  # a literal underscore
    assert page(OrderFilter(status="created")) == (["2"], 1)
    assert page(OrderFilter(ordered_from=AT - timedelta(hours=3), ordered_to=AT - timedelta(hours=1))) == (
        ["2", "3"],
        2,
    )
    assert page(OrderFilter(), page=2, size=3) == (["4"], 4)
    assert reads.by_id(A, "tenant-a-1") is not None
    assert reads.by_id(B, "tenant-a-1") is None  # another tenant's id


def test_the_records_a_run_picks_up_again(storage: Storage) -> None:
    add(storage, A, 1, "Waits for relations", None, waiting_reason="waiting for product relations: X")
    add(storage, A, 2, "Waits for payment", None, waiting_reason=WAITING_FOR_PAYMENT)
    add(storage, A, 3, "Done", None, status="created", fortnox_order_number="9")
    add(storage, A, 4, "Failed", None, status="error", error=OrderError("no", None, None, AT))
    add(storage, A, 5, "Unclear", None, status="created", fortnox_order_number="10", intent="create_invoice")
    add(storage, B, 6, "Other tenant", None)

    found = storage.reads.unfinished(A, [WAITING_FOR_PAYMENT], 100)

    assert sorted(numbers(found)) == ["1", "4", "5"]
    assert numbers(found) == ["5", "4", "1"]  # least recently updated first
    assert numbers(storage.reads.unfinished(A, [WAITING_FOR_PAYMENT], 2)) == ["5", "4"]


def test_marks_are_per_tenant_and_name(storage: Storage) -> None:
    marks = SqlOrderMarks(storage.engine)
    marks.set(A, "ikas_orders_updated", AT)
    marks.set(A, "ikas_orders_updated", AT + timedelta(minutes=5))
    marks.set(B, "ikas_orders_updated", AT)

    assert marks.get(A, "ikas_orders_updated") == AT + timedelta(minutes=5)
    assert marks.get(B, "ikas_orders_updated") == AT
    assert marks.get(A, "last_order_sync") is None


def test_wake_ups_collapse_per_order_and_are_forgotten_only_as_read(storage: Storage) -> None:
    wake_ups = SqlWakeUps(storage.engine)
    threads = [threading.Thread(target=wake_ups.add, args=(A, "ikas-1", "store/order/updated", AT)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wake_ups.add(B, "ikas-1", "store/order/created", AT)

    (read,) = wake_ups.pending(A, 10)
    assert read == WakeUp("ikas-1", 8)  # eight webhooks, one row

    wake_ups.add(A, "ikas-1", "store/order/updated", AT + timedelta(seconds=1))  # woken again meanwhile
    wake_ups.done(A, read)
    assert wake_ups.pending(A, 10) == [WakeUp("ikas-1", 9)]  # kept for the next drain
    wake_ups.done(A, WakeUp("ikas-1", 9))
    assert wake_ups.pending(A, 10) == []
    assert wake_ups.pending(B, 10) == [WakeUp("ikas-1", 1)]


def test_one_follow_up_per_running_run_and_pages_of_runs(storage: Storage, tmp_path: Path) -> None:
    queue = RunQueue(
        huey=make_huey("orders-test", queue_url=None, data_dir=tmp_path), engine=storage.engine, table=runs, handlers={}
    )
    ledger = SqlRunLedger(queue)
    first, created = ledger.submit(A, "orders", "webhook", {})
    assert created
    assert ledger.submit(A, "orders", "on_demand", {}) == (first, False)

    follow_up = ledger.follow_up(A, "orders", first, "webhook")

    assert ledger.follow_up(A, "orders", first, "webhook") == follow_up  # asked again: the same run
    listed, total = ledger.list(A, None, 1, 50)
    assert total == 2
    assert {run.id for run in listed} == {first, follow_up}
    assert all(run.scope == "orders" for run in listed)
    row = queue.get(A, follow_up)
    assert row is not None
    assert row["priority"] == PRIORITY_ORDERS
    assert ledger.list(B, None, 1, 50) == ([], 0)
    assert ledger.get(B, first) is None
    assert ledger.list(A, "backfill", 1, 50) == ([], 0)
    assert [run.id for run in ledger.list(A, None, 2, 1)[0]] == [r.id for r in listed][1:]
