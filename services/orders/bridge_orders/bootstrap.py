"""The orders service's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_orders.adapters.catalog_grpc import GrpcArticleNumbers
from bridge_orders.adapters.db.order_reads import SqlOrderReads, register_sql_functions
from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.runs import SqlDueTenants, SqlOrderMarks, SqlRunLedger, SqlWakeUps
from bridge_orders.adapters.db.tables import map_tables, runs
from bridge_orders.adapters.db.tenant_data import SqlTenantData
from bridge_orders.adapters.ikas_feed import HttpIkasOrderFeed
from bridge_orders.adapters.upstreams import (
    HttpFortnoxCustomers,
    HttpFortnoxDocuments,
    HttpFortnoxInvoices,
    HttpFortnoxOrders,
    HttpFortnoxRegisters,
    HttpFortnoxSettlements,
    HttpIkasOrderInvoices,
    HttpIkasOrders,
)
from bridge_orders.app.cancellation_step import FollowCancellation
from bridge_orders.app.changes_step import CreditTakenBack, FollowChanges, OrderRows
from bridge_orders.app.document_steps import DocumentSteps
from bridge_orders.app.export_order import ExportOrder
from bridge_orders.app.invoice_actions import AttachInvoicePdfNow, CreateInvoiceNow, GetInvoicePdf, ResendInvoiceEmail
from bridge_orders.app.manage_settings import GetOrderSettings, UpdateOrderSettings, ValidateOrderSettings
from bridge_orders.app.order_queries import GetOrder, ListOrders
from bridge_orders.app.order_runs import (
    BACKFILL,
    ORDERS,
    GetOrderRun,
    ListOrderRuns,
    RunDueSyncs,
    StartOrderRun,
)
from bridge_orders.app.order_sync import SyncOrders
from bridge_orders.app.order_webhooks import HandleOrderWebhook
from bridge_orders.app.payment_step import RegisterPayment
from bridge_orders.app.ports import (
    ArticleNumbers,
    Clock,
    DueTenants,
    FortnoxCustomers,
    FortnoxDocuments,
    FortnoxInvoices,
    FortnoxOrders,
    FortnoxRegisters,
    FortnoxSettlements,
    IkasOrderFeed,
    IkasOrderInvoices,
    IkasOrders,
    OrderMarks,
    OrderReads,
    RunLedger,
    RunReport,
    StoreNames,
    UnitOfWorkFactory,
    WakeUps,
)
from bridge_orders.app.process_order import ProcessOrder
from bridge_orders.app.purge_tenant_data import PurgeTenantData
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.errors import DomainError
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.jobs import FAILED, RunContext, RunOutcome, RunQueue, make_huey
from bridge_platform.settings import BridgeSettings
from bridge_upstreams import wiring
from bridge_upstreams.auth_tenants import GrpcStoreNames
from bridge_upstreams.auth_tokens import ConnectionPaused, GrpcTokenSource
from bridge_upstreams.tokens import TokenSource

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"
QUEUE_NAME = "bridge-orders"


@dataclass(frozen=True)
class Services:
    """Everything the orders service's entrypoints call."""

    get_settings: GetOrderSettings
    validate_settings: ValidateOrderSettings
    update_settings: UpdateOrderSettings
    purge_tenant_data: PurgeTenantData
    export_order: ExportOrder
    process_order: ProcessOrder
    create_invoice: CreateInvoiceNow
    attach_invoice_pdf: AttachInvoicePdfNow
    resend_invoice_email: ResendInvoiceEmail
    get_invoice_pdf: GetInvoicePdf
    sync_orders: SyncOrders | None
    start_run: StartOrderRun | None
    run_due_syncs: RunDueSyncs | None
    get_run: GetOrderRun | None
    list_runs: ListOrderRuns | None
    handle_webhook: HandleOrderWebhook | None
    list_orders: ListOrders | None
    get_order: GetOrder | None
    ikas_store_url: str
    store_names: StoreNames
    runs: RunQueue | None
    engine: Engine | None


def build(
    settings: BridgeSettings,
    *,
    engine: Engine | None = None,
    uow_for: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    with_runs: bool = True,
    delete_tenant_data: Callable[[str], int] | None = None,
    forget_personal_data: Callable[[str], int] | None = None,
    ikas_orders: IkasOrders | None = None,
    article_numbers: ArticleNumbers | None = None,
    fortnox_orders: FortnoxOrders | None = None,
    fortnox_customers: FortnoxCustomers | None = None,
    ikas_invoices: IkasOrderInvoices | None = None,
    fortnox_invoices: FortnoxInvoices | None = None,
    fortnox_registers: FortnoxRegisters | None = None,
    fortnox_settlements: FortnoxSettlements | None = None,
    fortnox_documents: FortnoxDocuments | None = None,
    ikas_tokens: TokenSource | None = None,
    fortnox_tokens: TokenSource | None = None,
    order_feed: IkasOrderFeed | None = None,
    store_names: StoreNames | None = None,
    order_reads: OrderReads | None = None,
    order_marks: OrderMarks | None = None,
    wake_ups: WakeUps | None = None,
    run_ledger: RunLedger | None = None,
    due_tenants: DueTenants | None = None,
) -> Services:
    """Wires the orders service; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.orders_database_url)
        uow_for = partial(SqlOrdersUnitOfWork, session_factory(engine))
    if article_numbers is None:
        catalog = grpc_channel(settings.catalog_addr, service_token=settings.service_token_value())
        article_numbers = GrpcArticleNumbers(catalog)
    if (
        ikas_orders is None
        or order_feed is None
        or store_names is None
        or fortnox_orders is None
        or fortnox_customers is None
        or ikas_invoices is None
        or fortnox_invoices is None
        or fortnox_registers is None
        or fortnox_settlements is None
        or fortnox_documents is None
    ):
        # Building the clients opens no connection; tests pass fakes for these ports and skip this.
        channel = grpc_channel(settings.auth_addr, service_token=settings.service_token_value())
        http = wiring.http_client()
        if ikas_orders is None or order_feed is None or ikas_invoices is None:
            ikas = wiring.ikas_client(settings, ikas_tokens or GrpcTokenSource(channel, "ikas"), http=http)
            ikas_orders = ikas_orders or HttpIkasOrders(ikas)
            order_feed = order_feed or HttpIkasOrderFeed(ikas)
            ikas_invoices = ikas_invoices or HttpIkasOrderInvoices(ikas)
        store_names = store_names or GrpcStoreNames(channel)
        fortnox = wiring.fortnox_client(settings, fortnox_tokens or GrpcTokenSource(channel, "fortnox"), http=http)
        fortnox_orders = fortnox_orders or HttpFortnoxOrders(fortnox)
        fortnox_customers = fortnox_customers or HttpFortnoxCustomers(fortnox)
        fortnox_invoices = fortnox_invoices or HttpFortnoxInvoices(fortnox)
        fortnox_registers = fortnox_registers or HttpFortnoxRegisters(fortnox)
        fortnox_settlements = fortnox_settlements or HttpFortnoxSettlements(fortnox)
        fortnox_documents = fortnox_documents or HttpFortnoxDocuments(fortnox)
    claim_lease = timedelta(seconds=settings.order_claim_lease_s)
    export_order = ExportOrder(
        uow_for,
        ikas_orders,
        article_numbers,
        fortnox_customers,
        fortnox_orders,
        fortnox_registers,
        clock,
        claim_lease=claim_lease,
    )
    document_steps = DocumentSteps(
        uow_for, ikas_orders, ikas_invoices, fortnox_invoices, clock, claim_lease=claim_lease
    )
    register_payment = RegisterPayment(uow_for, document_steps, fortnox_settlements, clock)
    credit_taken_back = CreditTakenBack(document_steps, fortnox_documents, fortnox_settlements)
    follow_cancellation = FollowCancellation(
        uow_for, document_steps, fortnox_invoices, fortnox_settlements, credit_taken_back
    )
    follow_changes = FollowChanges(
        uow_for,
        document_steps,
        fortnox_documents,
        OrderRows(ikas_orders, article_numbers),
        credit_taken_back,
        clock,
    )
    process_order = ProcessOrder(
        uow_for, export_order, document_steps, register_payment, follow_cancellation, follow_changes
    )
    if engine is not None:
        register_sql_functions(engine)
        order_reads = order_reads or SqlOrderReads(session_factory(engine))
        order_marks = order_marks or SqlOrderMarks(engine)
        wake_ups = wake_ups or SqlWakeUps(engine)
        due_tenants = due_tenants or SqlDueTenants(engine)
    sync_orders = None
    if order_reads is not None and order_marks is not None and wake_ups is not None:
        sync_orders = SyncOrders(
            uow_for, order_feed, process_order, article_numbers, order_reads, order_marks, wake_ups, clock
        )
    run_queue = None
    if with_runs and engine is not None and sync_orders is not None:
        huey = make_huey(QUEUE_NAME, queue_url=settings.queue_url, data_dir=settings.data_dir)
        run_queue = RunQueue(huey=huey, engine=engine, table=runs, handlers=_run_handlers(sync_orders))
        run_ledger = run_ledger or SqlRunLedger(run_queue)
    tenant_data = SqlTenantData(engine) if engine is not None else None
    delete_tenant_data = delete_tenant_data or (tenant_data.delete_all if tenant_data else _no_database)
    forget_personal_data = forget_personal_data or (tenant_data.forget_personal_data if tenant_data else _no_database)
    return Services(
        get_settings=GetOrderSettings(uow_for),
        validate_settings=ValidateOrderSettings(),
        update_settings=UpdateOrderSettings(uow_for, clock),
        purge_tenant_data=PurgeTenantData(delete_tenant_data, forget_personal_data),
        export_order=export_order,
        process_order=process_order,
        create_invoice=CreateInvoiceNow(uow_for, document_steps),
        attach_invoice_pdf=AttachInvoicePdfNow(uow_for, document_steps),
        resend_invoice_email=ResendInvoiceEmail(uow_for, document_steps),
        get_invoice_pdf=GetInvoicePdf(uow_for, document_steps, fortnox_invoices),
        sync_orders=sync_orders,
        start_run=StartOrderRun(run_ledger) if run_ledger else None,
        run_due_syncs=RunDueSyncs(run_ledger, due_tenants) if run_ledger and due_tenants else None,
        get_run=GetOrderRun(run_ledger) if run_ledger else None,
        list_runs=ListOrderRuns(run_ledger) if run_ledger else None,
        handle_webhook=(HandleOrderWebhook(uow_for, wake_ups, run_ledger, clock) if run_ledger and wake_ups else None),
        list_orders=ListOrders(order_reads, order_marks) if order_reads and order_marks else None,
        get_order=GetOrder(order_reads) if order_reads else None,
        ikas_store_url=settings.ikas_store_url,
        store_names=store_names,
        runs=run_queue,
        engine=engine,
    )


RunHandler = Callable[[RunContext], RunOutcome]


def _run_handlers(sync_orders: SyncOrders) -> dict[str, RunHandler]:
    return {
        ORDERS: partial(_execute, lambda context: sync_orders(context.tenant_id, context)),
        BACKFILL: partial(_execute, lambda context: sync_orders.backfill(context.tenant_id, context.payload, context)),
    }


def _execute(run: Callable[[RunContext], RunReport], context: RunContext) -> RunOutcome:
    """A run handler: the use case's report as the ledger's outcome. A paused connection ends the run with a
    clear error and keeps the tenant's work (the next run after reconnecting picks it up)."""
    try:
        report = run(context)
    except ConnectionPaused as paused:
        return RunOutcome(FAILED, errors=[{"message": paused.message, "upstream_code": paused.reason}])
    except DomainError as error:
        log.warning("run failed", extra={"run_id": context.run_id, "scope": context.scope, "error": error.message})
        return RunOutcome(FAILED, errors=[{"message": error.message}])
    return RunOutcome(report.state, report.counts, report.errors, report.result)


def _no_database(tenant_id: str) -> int:
    raise RuntimeError("built without a database: pass delete_tenant_data and forget_personal_data")
