"""The auth service's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.app.connections import CompleteFortnoxConnectRequest
from bridge_auth.app.installs import CompleteIkasInstallRequest, WebhookOutcome
from bridge_auth.app.sessions import SignedParameters
from bridge_auth.bootstrap import Services
from bridge_auth.domain.connections import Connection, ConnectionStatus, Upstream
from bridge_auth.domain.sessions import OpenedSession
from bridge_auth.domain.tenants import Tenant
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.telemetry import tag_tenant

_UPSTREAMS: Final = {auth_pb2.UPSTREAM_IKAS: Upstream.IKAS, auth_pb2.UPSTREAM_FORTNOX: Upstream.FORTNOX}
_STATUSES: Final = {
    ConnectionStatus.CONNECTED.value: auth_pb2.CONNECTION_STATUS_CONNECTED,
    ConnectionStatus.DISCONNECTED.value: auth_pb2.CONNECTION_STATUS_DISCONNECTED,
    ConnectionStatus.NEEDS_REAUTH.value: auth_pb2.CONNECTION_STATUS_NEEDS_REAUTH,
}
_OUTCOMES: Final = {
    WebhookOutcome.ACCEPTED: auth_pb2.WEBHOOK_OUTCOME_ACCEPTED,
    WebhookOutcome.DUPLICATE: auth_pb2.WEBHOOK_OUTCOME_DUPLICATE,
    WebhookOutcome.IGNORED: auth_pb2.WEBHOOK_OUTCOME_IGNORED,
}


def timestamp(at: datetime | None) -> Timestamp | None:
    if at is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def tenant_to_proto(tenant: Tenant) -> auth_pb2.Tenant:
    return auth_pb2.Tenant(
        id=tenant.id,
        store_name=tenant.store_name,
        merchant_id=tenant.merchant_id or "",
        authorized_app_id=tenant.authorized_app_id or "",
    )


def session_to_proto(session: OpenedSession) -> auth_pb2.Session:
    return auth_pb2.Session(
        session_token=session.session_token,
        csrf_token=session.csrf_token,
        expires_at=timestamp(session.expires_at),
        tenant=tenant_to_proto(session.tenant),
    )


def fortnox_to_proto(connection: Connection | None) -> auth_pb2.FortnoxConnection:
    if connection is None:
        return auth_pb2.FortnoxConnection(status=auth_pb2.CONNECTION_STATUS_DISCONNECTED)
    return auth_pb2.FortnoxConnection(
        status=_STATUSES[connection.status],
        company_name=connection.company_name or "",
        organisation_number=connection.organisation_number or "",
        scopes=connection.scope_list,
        connected_at=timestamp(connection.connected_at),
        warehouse_module=connection.warehouse_module,
    )


class TenantServicer(auth_pb2_grpc.TenantServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def GetTenant(
        self, request: auth_pb2.GetTenantRequest, context: grpc.ServicerContext
    ) -> auth_pb2.GetTenantResponse:
        tag_tenant(request.tenant_id)
        tenant = self._services.get_tenant(request.tenant_id)
        return auth_pb2.GetTenantResponse(tenant=tenant_to_proto(tenant))

    @maps_errors
    def EnsureDevelopmentTenant(
        self, request: auth_pb2.EnsureDevelopmentTenantRequest, context: grpc.ServicerContext
    ) -> auth_pb2.EnsureDevelopmentTenantResponse:
        tenant = self._services.ensure_development_tenant(request.store_name)
        tag_tenant(tenant.id)
        return auth_pb2.EnsureDevelopmentTenantResponse(tenant=tenant_to_proto(tenant))

    @maps_errors
    def ListTenants(
        self, request: auth_pb2.ListTenantsRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ListTenantsResponse:
        page = self._services.list_tenants(request.page_size, request.page_token)
        return auth_pb2.ListTenantsResponse(
            tenants=[tenant_to_proto(t) for t in page.tenants], next_page_token=page.next_page_token
        )


class InstallServicer(auth_pb2_grpc.InstallServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def BeginIkasInstall(
        self, request: auth_pb2.BeginIkasInstallRequest, context: grpc.ServicerContext
    ) -> auth_pb2.BeginIkasInstallResponse:
        url = self._services.begin_ikas_install(request.store_name, request.redirect_uri)
        return auth_pb2.BeginIkasInstallResponse(authorize_url=url)

    @maps_errors
    def CompleteIkasInstall(
        self, request: auth_pb2.CompleteIkasInstallRequest, context: grpc.ServicerContext
    ) -> auth_pb2.CompleteIkasInstallResponse:
        completed = self._services.complete_ikas_install(
            CompleteIkasInstallRequest(
                code=request.code,
                store_name=request.store_name,
                signature=request.signature,
                state=request.state if request.HasField("state") else None,
                redirect_uri=request.redirect_uri,
            )
        )
        tag_tenant(completed.session.tenant.id)
        return auth_pb2.CompleteIkasInstallResponse(
            session=session_to_proto(completed.session), webhook_warning=completed.webhook_warning
        )

    @maps_errors
    def HandleIkasWebhook(
        self, request: auth_pb2.HandleIkasWebhookRequest, context: grpc.ServicerContext
    ) -> auth_pb2.HandleIkasWebhookResponse:
        handled = self._services.handle_ikas_webhook(request.body)
        if handled.tenant_id:
            tag_tenant(handled.tenant_id)
        return auth_pb2.HandleIkasWebhookResponse(
            outcome=_OUTCOMES[handled.outcome],
            tenant_id=handled.tenant_id,
            scope=handled.scope,
            entity_id=handled.entity_id,
        )


class SessionServicer(auth_pb2_grpc.SessionServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def OpenSessionFromSignedParameters(
        self, request: auth_pb2.OpenSessionFromSignedParametersRequest, context: grpc.ServicerContext
    ) -> auth_pb2.OpenSessionFromSignedParametersResponse:
        session = self._services.open_session_from_signed_parameters(
            SignedParameters(
                request.store_name, request.merchant_id, request.authorized_app_id, request.timestamp, request.signature
            )
        )
        tag_tenant(session.tenant.id)
        return auth_pb2.OpenSessionFromSignedParametersResponse(session=session_to_proto(session))

    @maps_errors
    def OpenDevelopmentSession(
        self, request: auth_pb2.OpenDevelopmentSessionRequest, context: grpc.ServicerContext
    ) -> auth_pb2.OpenDevelopmentSessionResponse:
        session = self._services.open_development_session(request.store_name)
        tag_tenant(session.tenant.id)
        return auth_pb2.OpenDevelopmentSessionResponse(session=session_to_proto(session))

    @maps_errors
    def ResolveSession(
        self, request: auth_pb2.ResolveSessionRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ResolveSessionResponse:
        resolved = self._services.resolve_session(request.session_token)
        tag_tenant(resolved.tenant.id)
        return auth_pb2.ResolveSessionResponse(tenant=tenant_to_proto(resolved.tenant), csrf_token=resolved.csrf_token)

    @maps_errors
    def ResolveDashboardToken(
        self, request: auth_pb2.ResolveDashboardTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ResolveDashboardTokenResponse:
        tenant = self._services.resolve_dashboard_token(request.token)
        tag_tenant(tenant.id)
        return auth_pb2.ResolveDashboardTokenResponse(tenant=tenant_to_proto(tenant))

    @maps_errors
    def CloseSession(
        self, request: auth_pb2.CloseSessionRequest, context: grpc.ServicerContext
    ) -> auth_pb2.CloseSessionResponse:
        self._services.close_session(request.session_token)
        return auth_pb2.CloseSessionResponse()


class ConnectionServicer(auth_pb2_grpc.ConnectionServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def GetConnection(
        self, request: auth_pb2.GetConnectionRequest, context: grpc.ServicerContext
    ) -> auth_pb2.GetConnectionResponse:
        tag_tenant(request.tenant_id)
        card = self._services.get_connection(request.tenant_id)
        ikas = card.ikas
        return auth_pb2.GetConnectionResponse(
            ikas=auth_pb2.IkasConnection(
                store_name=card.tenant.store_name,
                merchant_id=card.tenant.merchant_id or "",
                status=_STATUSES[ikas.status] if ikas else auth_pb2.CONNECTION_STATUS_DISCONNECTED,
                webhook_warning=ikas.webhook_warning if ikas else "",
            ),
            fortnox=fortnox_to_proto(card.fortnox),
        )

    @maps_errors
    def BeginFortnoxConnect(
        self, request: auth_pb2.BeginFortnoxConnectRequest, context: grpc.ServicerContext
    ) -> auth_pb2.BeginFortnoxConnectResponse:
        tag_tenant(request.tenant_id)
        url = self._services.begin_fortnox_connect(request.tenant_id, request.redirect_uri)
        return auth_pb2.BeginFortnoxConnectResponse(authorize_url=url)

    @maps_errors
    def CompleteFortnoxConnect(
        self, request: auth_pb2.CompleteFortnoxConnectRequest, context: grpc.ServicerContext
    ) -> auth_pb2.CompleteFortnoxConnectResponse:
        completed = self._services.complete_fortnox_connect(
            CompleteFortnoxConnectRequest(request.state, request.code, request.error, request.redirect_uri)
        )
        tag_tenant(completed.tenant_id)
        return auth_pb2.CompleteFortnoxConnectResponse(
            tenant_id=completed.tenant_id, fortnox=fortnox_to_proto(completed.fortnox)
        )

    @maps_errors
    def DisconnectFortnox(
        self, request: auth_pb2.DisconnectFortnoxRequest, context: grpc.ServicerContext
    ) -> auth_pb2.DisconnectFortnoxResponse:
        tag_tenant(request.tenant_id)
        self._services.disconnect_fortnox(request.tenant_id)
        return auth_pb2.DisconnectFortnoxResponse()

    @maps_errors
    def ForgetFortnoxCompany(
        self, request: auth_pb2.ForgetFortnoxCompanyRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ForgetFortnoxCompanyResponse:
        tag_tenant(request.tenant_id)
        self._services.forget_fortnox_company(request.tenant_id)
        return auth_pb2.ForgetFortnoxCompanyResponse()


class TokenServicer(auth_pb2_grpc.TokenServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def GetAccessToken(
        self, request: auth_pb2.GetAccessTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.GetAccessTokenResponse:
        tag_tenant(request.tenant_id)
        token = self._services.get_access_token(request.tenant_id, _UPSTREAMS.get(request.upstream))
        return auth_pb2.GetAccessTokenResponse(access_token=token.token, expires_at=timestamp(token.expires_at))

    @maps_errors
    def ReportRejectedToken(
        self, request: auth_pb2.ReportRejectedTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ReportRejectedTokenResponse:
        tag_tenant(request.tenant_id)
        self._services.report_rejected_token(request.tenant_id, _UPSTREAMS.get(request.upstream), request.access_token)
        return auth_pb2.ReportRejectedTokenResponse()

    @maps_errors
    def RefreshDueTokens(
        self, request: auth_pb2.RefreshDueTokensRequest, context: grpc.ServicerContext
    ) -> auth_pb2.RefreshDueTokensResponse:
        result = self._services.refresh_due_tokens()
        return auth_pb2.RefreshDueTokensResponse(refreshed=result.refreshed, failed=result.failed)


class RetentionServicer(auth_pb2_grpc.RetentionServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def RunDuePurges(
        self, request: auth_pb2.RunDuePurgesRequest, context: grpc.ServicerContext
    ) -> auth_pb2.RunDuePurgesResponse:
        result = self._services.run_due_purges()
        return auth_pb2.RunDuePurgesResponse(
            personal_data_purged=result.personal_data_purged, tenants_deleted=result.tenants_deleted
        )


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the auth servicers to a server; returns their full names for health and reflection."""
    auth_pb2_grpc.add_TenantServiceServicer_to_server(TenantServicer(services), server)
    auth_pb2_grpc.add_InstallServiceServicer_to_server(InstallServicer(services), server)
    auth_pb2_grpc.add_SessionServiceServicer_to_server(SessionServicer(services), server)
    auth_pb2_grpc.add_ConnectionServiceServicer_to_server(ConnectionServicer(services), server)
    auth_pb2_grpc.add_TokenServiceServicer_to_server(TokenServicer(services), server)
    auth_pb2_grpc.add_RetentionServiceServicer_to_server(RetentionServicer(services), server)
    names = (
        "TenantService",
        "InstallService",
        "SessionService",
        "ConnectionService",
        "TokenService",
        "RetentionService",
    )
    return [auth_pb2.DESCRIPTOR.services_by_name[name].full_name for name in names]
