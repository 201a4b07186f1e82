"""The orders service's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.tables import map_tables, runs
from bridge_orders.adapters.db.tenant_data import SqlTenantData
from bridge_orders.adapters.upstreams import (
    FortnoxSkuArticleNumbers,
    HttpFortnoxCustomers,
    HttpFortnoxOrders,
    HttpIkasOrders,
)
from bridge_orders.app.export_order import ExportOrder
from bridge_orders.app.manage_settings import GetOrderSettings, UpdateOrderSettings, ValidateOrderSettings
from bridge_orders.app.ports import (
    ArticleNumbers,
    Clock,
    FortnoxCustomers,
    FortnoxOrders,
    IkasOrders,
    UnitOfWorkFactory,
)
from bridge_orders.app.purge_tenant_data import PurgeTenantData
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.jobs import RunQueue, make_huey
from bridge_platform.settings import BridgeSettings
from bridge_upstreams import wiring
from bridge_upstreams.auth_tokens import GrpcTokenSource
from bridge_upstreams.tokens import TokenSource

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
    ikas_tokens: TokenSource | None = None,
    fortnox_tokens: TokenSource | None = None,
) -> Services:
    """Wires the orders service; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.orders_database_url)
        uow_for = partial(SqlOrdersUnitOfWork, session_factory(engine))
    if ikas_orders is None or article_numbers is None or fortnox_orders is None or fortnox_customers is None:
        # Building the clients opens no connection; tests pass fakes for the four ports and skip this.
        channel = grpc_channel(settings.auth_addr, service_token=settings.service_token_value())
        http = wiring.http_client()
        if ikas_orders is None:
            ikas = wiring.ikas_client(settings, ikas_tokens or GrpcTokenSource(channel, "ikas"), http=http)
            ikas_orders = HttpIkasOrders(ikas)
        fortnox = wiring.fortnox_client(settings, fortnox_tokens or GrpcTokenSource(channel, "fortnox"), http=http)
        # TODO(#7): the catalog's relations over gRPC replace the SKU stand-in.
        article_numbers = article_numbers or FortnoxSkuArticleNumbers(fortnox)
        fortnox_orders = fortnox_orders or HttpFortnoxOrders(fortnox)
        fortnox_customers = fortnox_customers or HttpFortnoxCustomers(fortnox)
    run_queue = None
    if with_runs and engine is not None:
        huey = make_huey(QUEUE_NAME, queue_url=settings.queue_url, data_dir=settings.data_dir)
        run_queue = RunQueue(huey=huey, engine=engine, table=runs, handlers={})
    tenant_data = SqlTenantData(engine) if engine is not None else None
    delete_tenant_data = delete_tenant_data or (tenant_data.delete_all if tenant_data else _no_database)
    forget_personal_data = forget_personal_data or (tenant_data.forget_personal_data if tenant_data else _no_database)
    return Services(
        get_settings=GetOrderSettings(uow_for),
        validate_settings=ValidateOrderSettings(),
        update_settings=UpdateOrderSettings(uow_for, clock),
        purge_tenant_data=PurgeTenantData(delete_tenant_data, forget_personal_data),
        export_order=ExportOrder(uow_for, ikas_orders, article_numbers, fortnox_customers, fortnox_orders, clock),
        runs=run_queue,
        engine=engine,
    )


def _no_database(tenant_id: str) -> int:
    raise RuntimeError("built without a database: pass delete_tenant_data and forget_personal_data")
