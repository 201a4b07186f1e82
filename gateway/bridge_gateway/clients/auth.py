"""AuthClient: the auth service over gRPC (bridge.auth.v1): tenants, installs, sessions, connections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_gateway.clients.common import time_from_proto
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import (
    Connection,
    ConnectionStatus,
    FortnoxConnected,
    FortnoxConnection,
    IkasConnection,
    InstallResult,
    ResolvedSession,
    Session,
    Tenant,
    WebhookOutcome,
    WebhookResult,
)

SERVICE_NAME: Final = auth_pb2.DESCRIPTOR.services_by_name["TenantService"].full_name
TENANT_PAGE_SIZE: Final = 200

_STATUS: Final[dict[int, ConnectionStatus]] = {
    auth_pb2.CONNECTION_STATUS_CONNECTED: "connected",
    auth_pb2.CONNECTION_STATUS_NEEDS_REAUTH: "needs_reauth",
    auth_pb2.CONNECTION_STATUS_DISCONNECTED: "disconnected",
}
_OUTCOME: Final[dict[int, WebhookOutcome]] = {
    auth_pb2.WEBHOOK_OUTCOME_ACCEPTED: "accepted",
    auth_pb2.WEBHOOK_OUTCOME_DUPLICATE: "duplicate",
    auth_pb2.WEBHOOK_OUTCOME_IGNORED: "ignored",
}


def tenant_from_proto(message: auth_pb2.Tenant) -> Tenant:
    return Tenant(
        id=message.id,
        store_name=message.store_name,
        merchant_id=message.merchant_id,
        authorized_app_id=message.authorized_app_id,
    )


def session_from_proto(message: auth_pb2.Session) -> Session:
    return Session(
        token=message.session_token,
        csrf_token=message.csrf_token,
        expires_at=time_from_proto(message.expires_at, present=message.HasField("expires_at")),
        tenant=tenant_from_proto(message.tenant),
    )


def fortnox_from_proto(message: auth_pb2.FortnoxConnection) -> FortnoxConnection:
    company_known = bool(message.organisation_number or message.company_name)
    return FortnoxConnection(
        status=_STATUS.get(message.status, "disconnected"),
        company_name=message.company_name or None,
        organisation_number=message.organisation_number or None,
        scopes=list(message.scopes),
        connected_at=time_from_proto(message.connected_at, present=message.HasField("connected_at")),
        warehouse_module=message.warehouse_module if company_known else None,
    )


def connection_from_proto(message: auth_pb2.GetConnectionResponse) -> Connection:
    ikas = message.ikas
    return Connection(
        ikas=IkasConnection(
            store_name=ikas.store_name,
            merchant_id=ikas.merchant_id or None,
            status=_STATUS.get(ikas.status, "disconnected"),
            webhook_warning=ikas.webhook_warning or None,
        ),
        fortnox=fortnox_from_proto(message.fortnox),
    )


class AuthClient:
    """Every RPC of bridge.auth.v1 the gateway makes; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._tenants = auth_pb2_grpc.TenantServiceStub(channel)
        self._installs = auth_pb2_grpc.InstallServiceStub(channel)
        self._sessions = auth_pb2_grpc.SessionServiceStub(channel)
        self._connections = auth_pb2_grpc.ConnectionServiceStub(channel)

    # ---- tenants

    def get_tenant(self, tenant_id: str) -> Tenant:
        request = auth_pb2.GetTenantRequest(tenant_id=tenant_id)
        return tenant_from_proto(call("auth", self._tenants.GetTenant, request).tenant)

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        request = auth_pb2.EnsureDevelopmentTenantRequest(store_name=store_name)
        return tenant_from_proto(call("auth", self._tenants.EnsureDevelopmentTenant, request).tenant)

    def list_tenants(self) -> list[Tenant]:
        tenants: list[Tenant] = []
        page_token = ""
        while True:
            request = auth_pb2.ListTenantsRequest(page_size=TENANT_PAGE_SIZE, page_token=page_token)
            response = call("auth", self._tenants.ListTenants, request)
            tenants.extend(tenant_from_proto(tenant) for tenant in response.tenants)
            if not response.next_page_token:
                return tenants
            page_token = response.next_page_token

    # ---- ikas install and webhooks

    def begin_ikas_install(self, store_name: str, redirect_uri: str) -> str:
        request = auth_pb2.BeginIkasInstallRequest(store_name=store_name, redirect_uri=redirect_uri)
        return call("auth", self._installs.BeginIkasInstall, request).authorize_url

    def complete_ikas_install(
        self, *, code: str, store_name: str, signature: str, state: str | None, redirect_uri: str
    ) -> InstallResult:
        request = auth_pb2.CompleteIkasInstallRequest(
            code=code, store_name=store_name, signature=signature, state=state, redirect_uri=redirect_uri
        )
        response = call("auth", self._installs.CompleteIkasInstall, request, checks_user=True)
        return InstallResult(session=session_from_proto(response.session), webhook_warning=response.webhook_warning)

    def handle_ikas_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        request = auth_pb2.HandleIkasWebhookRequest(body=body, headers=dict(headers))
        response = call("auth", self._installs.HandleIkasWebhook, request, checks_user=True)
        return WebhookResult(
            outcome=_OUTCOME.get(response.outcome, "ignored"),
            tenant_id=response.tenant_id,
            scope=response.scope,
            entity_id=response.entity_id,
        )

    # ---- sessions

    def open_session_from_signed_parameters(
        self, *, store_name: str, merchant_id: str, authorized_app_id: str, timestamp: str, signature: str
    ) -> Session:
        request = auth_pb2.OpenSessionFromSignedParametersRequest(
            store_name=store_name,
            merchant_id=merchant_id,
            authorized_app_id=authorized_app_id,
            timestamp=timestamp,
            signature=signature,
        )
        response = call("auth", self._sessions.OpenSessionFromSignedParameters, request, checks_user=True)
        return session_from_proto(response.session)

    def open_development_session(self, store_name: str) -> Session:
        request = auth_pb2.OpenDevelopmentSessionRequest(store_name=store_name)
        return session_from_proto(call("auth", self._sessions.OpenDevelopmentSession, request).session)

    def resolve_session(self, session_token: str) -> ResolvedSession:
        request = auth_pb2.ResolveSessionRequest(session_token=session_token)
        response = call("auth", self._sessions.ResolveSession, request, checks_user=True)
        return ResolvedSession(tenant=tenant_from_proto(response.tenant), csrf_token=response.csrf_token)

    def resolve_dashboard_token(self, token: str) -> Tenant:
        request = auth_pb2.ResolveDashboardTokenRequest(token=token)
        return tenant_from_proto(call("auth", self._sessions.ResolveDashboardToken, request, checks_user=True).tenant)

    def close_session(self, session_token: str) -> None:
        call("auth", self._sessions.CloseSession, auth_pb2.CloseSessionRequest(session_token=session_token))

    # ---- connections

    def get_connection(self, tenant_id: str) -> Connection:
        request = auth_pb2.GetConnectionRequest(tenant_id=tenant_id)
        return connection_from_proto(call("auth", self._connections.GetConnection, request))

    def begin_fortnox_connect(self, tenant_id: str, redirect_uri: str) -> str:
        request = auth_pb2.BeginFortnoxConnectRequest(tenant_id=tenant_id, redirect_uri=redirect_uri)
        return call("auth", self._connections.BeginFortnoxConnect, request).authorize_url

    def complete_fortnox_connect(self, *, state: str, code: str, error: str, redirect_uri: str) -> FortnoxConnected:
        request = auth_pb2.CompleteFortnoxConnectRequest(state=state, code=code, error=error, redirect_uri=redirect_uri)
        response = call("auth", self._connections.CompleteFortnoxConnect, request)
        return FortnoxConnected(tenant_id=response.tenant_id, fortnox=fortnox_from_proto(response.fortnox))

    def disconnect_fortnox(self, tenant_id: str) -> None:
        call("auth", self._connections.DisconnectFortnox, auth_pb2.DisconnectFortnoxRequest(tenant_id=tenant_id))

    def forget_fortnox_company(self, tenant_id: str) -> None:
        request = auth_pb2.ForgetFortnoxCompanyRequest(tenant_id=tenant_id)
        call("auth", self._connections.ForgetFortnoxCompany, request)

    def is_serving(self) -> bool:
        return is_serving(self._channel, SERVICE_NAME)
