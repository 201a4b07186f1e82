"""The auth service's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.bootstrap import Services
from bridge_auth.domain.tenants import Tenant
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.telemetry import tag_tenant


def tenant_to_proto(tenant: Tenant) -> auth_pb2.Tenant:
    return auth_pb2.Tenant(id=tenant.id, store_name=tenant.store_name)


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


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the auth servicers to a server; returns their full names for health and reflection."""
    auth_pb2_grpc.add_TenantServiceServicer_to_server(TenantServicer(services), server)
    return [auth_pb2.DESCRIPTOR.services_by_name["TenantService"].full_name]
