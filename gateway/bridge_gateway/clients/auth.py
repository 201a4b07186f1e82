"""AuthClient: the auth service over gRPC (bridge.auth.v1)."""

from __future__ import annotations

from typing import Final

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import Tenant

SERVICE_NAME: Final = auth_pb2.DESCRIPTOR.services_by_name["TenantService"].full_name


class AuthClient:
    """The auth service's tenant RPCs; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._tenants = auth_pb2_grpc.TenantServiceStub(channel)

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        request = auth_pb2.EnsureDevelopmentTenantRequest(store_name=store_name)
        tenant = call("auth", self._tenants.EnsureDevelopmentTenant, request).tenant
        return Tenant(id=tenant.id, store_name=tenant.store_name)

    def is_serving(self) -> bool:
        return is_serving(self._channel, SERVICE_NAME)
