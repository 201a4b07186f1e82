"""The catalog's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.runs import SqlDueTenants, SqlRunLedger
from bridge_catalog.adapters.db.tables import map_tables, runs
from bridge_catalog.adapters.db.tenant_data import SqlTenantData
from bridge_catalog.adapters.upstreams import GrpcAuthConnections, HttpFortnoxCatalog, HttpIkasCatalog
from bridge_catalog.app.manage_settings import GetCatalogSettings, UpdateCatalogSettings, ValidateCatalogSettings
from bridge_catalog.app.ports import (
    AuthConnections,
    Clock,
    FortnoxCatalog,
    IkasCatalog,
    RunLedger,
    RunProgress,
    RunReport,
    UnitOfWorkFactory,
)
from bridge_catalog.app.product_lines import (
    GetProductLine,
    ListProductLines,
    ListStockLocations,
    ResolveArticleNumbers,
)
from bridge_catalog.app.product_sync import SyncProducts
from bridge_catalog.app.purge_tenant_data import PurgeTenantData
from bridge_catalog.app.relations import MatchProducts, RelinkLine, ResetRelations, UnlinkLine
from bridge_catalog.app.runs import FollowUpWakeUps, GetCatalogRun, ListCatalogRuns, RunDueSyncs, StartCatalogRun
from bridge_catalog.app.stock_sync import SyncStock
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.errors import DomainError
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.jobs import FAILED, RunContext, RunOutcome, RunQueue, make_huey
from bridge_platform.settings import BridgeSettings
from bridge_upstreams import wiring
from bridge_upstreams.auth_tokens import ConnectionPaused, GrpcTokenSource
from bridge_upstreams.tokens import TokenSource

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"
QUEUE_NAME = "bridge-catalog"

RunUseCase = Callable[[str, RunProgress], RunReport]


@dataclass(frozen=True)
class Services:
    """Everything the catalog's entrypoints call."""

    get_settings: GetCatalogSettings
    validate_settings: ValidateCatalogSettings
    update_settings: UpdateCatalogSettings
    purge_tenant_data: PurgeTenantData
    list_lines: ListProductLines
    get_line: GetProductLine
    list_stock_locations: ListStockLocations
    resolve_article_numbers: ResolveArticleNumbers
    unlink_line: UnlinkLine
    relink_line: RelinkLine
    match_products: MatchProducts
    reset_relations: ResetRelations
    sync_products: SyncProducts
    sync_stock: SyncStock
    start_run: StartCatalogRun | None
    run_due_syncs: RunDueSyncs | None
    get_run: GetCatalogRun | None
    list_runs: ListCatalogRuns | None
    runs: RunQueue | None
    engine: Engine | None
    ikas_store_url: str
    store_name: Callable[[str], str]


def build(
    settings: BridgeSettings,
    *,
    engine: Engine | None = None,
    uow_for: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    with_runs: bool = True,
    delete_tenant_data: Callable[[str], int] | None = None,
    ikas: IkasCatalog | None = None,
    fortnox: FortnoxCatalog | None = None,
    ikas_tokens: TokenSource | None = None,
    fortnox_tokens: TokenSource | None = None,
    auth: AuthConnections | None = None,
) -> Services:
    """Wires the catalog; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.catalog_database_url)
        uow_for = partial(SqlCatalogUnitOfWork, session_factory(engine))
    if ikas is None or fortnox is None or auth is None:
        channel = grpc_channel(settings.auth_addr, service_token=settings.service_token_value())
        http = wiring.http_client()
        if ikas is None:
            ikas = HttpIkasCatalog(
                wiring.ikas_client(settings, ikas_tokens or GrpcTokenSource(channel, "ikas"), http=http)
            )
        if fortnox is None:
            fortnox = HttpFortnoxCatalog(
                wiring.fortnox_client(settings, fortnox_tokens or GrpcTokenSource(channel, "fortnox"), http=http)
            )
        auth = auth or GrpcAuthConnections(channel)
    list_locations = ListStockLocations(ikas)
    match = MatchProducts(uow_for, ikas, fortnox, clock)
    reset = ResetRelations(uow_for, auth, clock)
    sync_products = SyncProducts(uow_for, ikas, fortnox, clock)
    sync_stock = SyncStock(uow_for, ikas, fortnox, clock)
    run_queue: RunQueue | None = None
    ledger: RunLedger | None = None
    if with_runs and engine is not None:
        handlers: dict[str, RunUseCase] = {
            "match": match,
            "reset": reset,
            "products": sync_products,
            "preview": sync_products.preview,
            "stock": sync_stock,
        }
        huey = make_huey(QUEUE_NAME, queue_url=settings.queue_url, data_dir=settings.data_dir)

        def follow_up(tenant_id: str, scope: str, run_id: str) -> str | None:
            return FollowUpWakeUps(sql_ledger)(tenant_id, scope, run_id)  # handlers run once the queue exists

        run_queue = RunQueue(
            huey=huey,
            engine=engine,
            table=runs,
            handlers={scope: partial(_execute, use_case, follow_up) for scope, use_case in handlers.items()},
        )
        ledger = sql_ledger = SqlRunLedger(run_queue, engine)
    if delete_tenant_data is None:
        delete_tenant_data = SqlTenantData(engine).delete_all if engine is not None else _no_database
    return Services(
        get_settings=GetCatalogSettings(uow_for),
        validate_settings=ValidateCatalogSettings(uow_for, list_locations.ids),
        update_settings=UpdateCatalogSettings(uow_for, clock, list_locations.ids, auth),
        purge_tenant_data=PurgeTenantData(delete_tenant_data),
        list_lines=ListProductLines(uow_for),
        get_line=GetProductLine(uow_for),
        list_stock_locations=list_locations,
        resolve_article_numbers=ResolveArticleNumbers(uow_for),
        unlink_line=UnlinkLine(uow_for, clock),
        relink_line=RelinkLine(uow_for, fortnox, clock),
        match_products=match,
        reset_relations=reset,
        sync_products=sync_products,
        sync_stock=sync_stock,
        start_run=StartCatalogRun(ledger, uow_for) if ledger else None,
        run_due_syncs=RunDueSyncs(ledger, SqlDueTenants(engine)) if ledger and engine is not None else None,
        get_run=GetCatalogRun(ledger) if ledger else None,
        list_runs=ListCatalogRuns(ledger) if ledger else None,
        runs=run_queue,
        engine=engine,
        ikas_store_url=settings.ikas_store_url,
        store_name=auth.store_name,
    )


FollowUp = Callable[[str, str, str], object]


def _execute(use_case: RunUseCase, follow_up: FollowUp, context: RunContext) -> RunOutcome:
    """A run handler: the use case's report as the ledger's outcome. A paused connection ends the run with a
    clear error and keeps the tenant's work (the next run after reconnecting picks it up). Whatever the
    outcome, a webhook that woke the scope while the run went gets one more run after it (FollowUpWakeUps),
    except while the connection is paused: the run after reconnecting reads every change since the watermark."""
    paused = False
    try:
        report = use_case(context.tenant_id, context)
    except ConnectionPaused as error:
        paused = True
        return RunOutcome(FAILED, errors=[{"message": error.message, "upstream_code": error.reason}])
    except DomainError as error:
        log.warning("run failed", extra={"run_id": context.run_id, "scope": context.scope, "error": error.message})
        return RunOutcome(FAILED, errors=[{"message": error.message}])
    finally:
        if not paused and not context.lease_lost():  # a run taken over elsewhere is followed up by its new worker
            _follow_up_quietly(follow_up, context)
    return RunOutcome(report.state, report.counts, report.errors, report.result)


def _follow_up_quietly(follow_up: FollowUp, context: RunContext) -> None:
    try:
        follow_up(context.tenant_id, context.scope, context.run_id)
    except Exception:  # the run's own outcome still counts; scheduled runs cover a lost wake-up
        log.exception("could not queue the run a webhook asked for", extra={"run_id": context.run_id})


def _no_database(tenant_id: str) -> int:
    raise RuntimeError("built without a database: pass delete_tenant_data")
