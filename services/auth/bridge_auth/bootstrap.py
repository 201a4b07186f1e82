"""The auth service's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_auth.adapters.alerts import MailAlerts
from bridge_auth.adapters.db.repositories import SqlAuthUnitOfWork
from bridge_auth.adapters.db.tables import map_tables
from bridge_auth.adapters.fortnox_http import HttpFortnoxAuthorization, HttpFortnoxCompany, PresentedTokens
from bridge_auth.adapters.ikas_http import HttpIkasAuthorization, HttpIkasStore
from bridge_auth.adapters.tenant_data_grpc import GrpcCatalogTenantData, GrpcOrdersTenantData
from bridge_auth.adapters.vault import AesGcmVault
from bridge_auth.app.connections import (
    BeginFortnoxConnect,
    CompleteFortnoxConnect,
    DisconnectFortnox,
    ForgetFortnoxCompany,
    GetConnection,
)
from bridge_auth.app.installs import BeginIkasInstall, CompleteIkasInstall, HandleIkasWebhook
from bridge_auth.app.ports import (
    Alerts,
    Clock,
    FortnoxAuthorization,
    FortnoxCompany,
    IkasAuthorization,
    IkasStore,
    TenantDataPurger,
    UnitOfWorkFactory,
    Vault,
)
from bridge_auth.app.retention import RunDuePurges
from bridge_auth.app.sessions import (
    CloseSession,
    OpenDevelopmentSession,
    OpenSessionFromSignedParameters,
    ResolveDashboardToken,
    ResolveSession,
    SessionOpener,
)
from bridge_auth.app.tenants import EnsureDevelopmentTenant, GetTenant, ListTenants
from bridge_auth.app.tokens import GetAccessToken, RefreshDueTokens, ReportRejectedToken, TokenKeeper
from bridge_auth.domain.connections import Upstream
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.settings import BridgeSettings
from bridge_upstreams import wiring

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"
WEBHOOK_PATH = "/webhooks/ikas"


@dataclass(frozen=True)
class Services:
    """Everything the auth service's entrypoints call. Auth runs no sync jobs, so it has no run queue."""

    get_tenant: GetTenant
    ensure_development_tenant: EnsureDevelopmentTenant
    list_tenants: ListTenants
    begin_ikas_install: BeginIkasInstall
    complete_ikas_install: CompleteIkasInstall
    handle_ikas_webhook: HandleIkasWebhook
    open_session_from_signed_parameters: OpenSessionFromSignedParameters
    open_development_session: OpenDevelopmentSession
    resolve_session: ResolveSession
    resolve_dashboard_token: ResolveDashboardToken
    close_session: CloseSession
    get_connection: GetConnection
    begin_fortnox_connect: BeginFortnoxConnect
    complete_fortnox_connect: CompleteFortnoxConnect
    disconnect_fortnox: DisconnectFortnox
    forget_fortnox_company: ForgetFortnoxCompany
    get_access_token: GetAccessToken
    report_rejected_token: ReportRejectedToken
    refresh_due_tokens: RefreshDueTokens
    run_due_purges: RunDuePurges
    engine: Engine | None


def build(
    settings: BridgeSettings,
    *,
    engine: Engine | None = None,
    uow_for: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    vault: Vault | None = None,
    fortnox: FortnoxAuthorization | None = None,
    fortnox_company: FortnoxCompany | None = None,
    ikas: IkasAuthorization | None = None,
    ikas_store: IkasStore | None = None,
    alerts: Alerts | None = None,
    purgers: Sequence[TenantDataPurger] | None = None,
) -> Services:
    """Wires the auth service; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.auth_database_url)
        uow_for = partial(SqlAuthUnitOfWork, session_factory(engine))
    vault = vault or AesGcmVault(settings.vault_keys())
    if fortnox is None or fortnox_company is None or ikas is None or ikas_store is None:
        http = wiring.http_client()  # one per process and upstream family; the upstream clients share it
        presented = PresentedTokens()
        fortnox = fortnox or HttpFortnoxAuthorization(wiring.fortnox_oauth(settings, http=http))
        fortnox_company = fortnox_company or HttpFortnoxCompany(
            wiring.fortnox_client(settings, presented, http=http), presented
        )
        secret = settings.ikas_client_secret.get_secret_value()
        ikas = ikas or HttpIkasAuthorization(wiring.ikas_oauth(settings, http=http), secret)
        ikas_store = ikas_store or HttpIkasStore(wiring.ikas_client(settings, presented, http=http), presented)
    alerts = alerts or MailAlerts(
        smtp_url=settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        outbox=settings.data_dir / "outbox" if settings.is_local else None,
        public_url=settings.public_url,
    )
    if purgers is None:
        token = settings.service_token_value()
        purgers = [
            GrpcCatalogTenantData(grpc_channel(settings.catalog_addr, service_token=token)),
            GrpcOrdersTenantData(grpc_channel(settings.orders_addr, service_token=token)),
        ]
    keeper = TokenKeeper(uow_for, vault, {Upstream.FORTNOX: fortnox, Upstream.IKAS: ikas}, alerts, clock)
    opener = SessionOpener(uow_for, vault, clock)
    ensure_development_tenant = EnsureDevelopmentTenant(uow_for, clock, local=settings.is_local)
    return Services(
        get_tenant=GetTenant(uow_for),
        ensure_development_tenant=ensure_development_tenant,
        list_tenants=ListTenants(uow_for),
        begin_ikas_install=BeginIkasInstall(uow_for, ikas, clock),
        complete_ikas_install=CompleteIkasInstall(
            uow_for, vault, ikas, ikas_store, opener, clock, webhook_endpoint=settings.public_url + WEBHOOK_PATH
        ),
        handle_ikas_webhook=HandleIkasWebhook(
            uow_for, vault, ikas, fortnox, clock, retention=timedelta(days=settings.retention_days)
        ),
        open_session_from_signed_parameters=OpenSessionFromSignedParameters(uow_for, ikas, opener, clock),
        open_development_session=OpenDevelopmentSession(ensure_development_tenant, opener, local=settings.is_local),
        resolve_session=ResolveSession(uow_for, vault, clock),
        resolve_dashboard_token=ResolveDashboardToken(uow_for, ikas),
        close_session=CloseSession(uow_for),
        get_connection=GetConnection(uow_for),
        begin_fortnox_connect=BeginFortnoxConnect(uow_for, fortnox, clock),
        complete_fortnox_connect=CompleteFortnoxConnect(uow_for, vault, fortnox, fortnox_company, clock),
        disconnect_fortnox=DisconnectFortnox(uow_for, vault, fortnox, clock),
        forget_fortnox_company=ForgetFortnoxCompany(uow_for),
        get_access_token=GetAccessToken(keeper, clock),
        report_rejected_token=ReportRejectedToken(keeper, vault),
        refresh_due_tokens=RefreshDueTokens(uow_for, keeper, clock),
        run_due_purges=RunDuePurges(uow_for, purgers, clock),
        engine=engine,
    )
