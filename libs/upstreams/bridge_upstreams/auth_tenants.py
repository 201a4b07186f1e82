"""`GrpcStoreNames`: a tenant's ikas store name from the auth service's TenantService (for links into the
ikas admin, product.md §7), asked once per tenant and process: a tenant's store never changes."""

from __future__ import annotations

import threading

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_platform.grpc_errors import error_from_rpc


class GrpcStoreNames:
    def __init__(self, channel: grpc.Channel, *, timeout_s: float = 10.0) -> None:
        self._tenants = auth_pb2_grpc.TenantServiceStub(channel)
        self._timeout_s = timeout_s
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def store_name(self, tenant_id: str) -> str:
        """The store name; raises NotFound for an unknown tenant, UpstreamUnavailable when auth is down."""
        with self._lock:
            known = self._names.get(tenant_id)
        if known is not None:
            return known
        try:
            answer = self._tenants.GetTenant(auth_pb2.GetTenantRequest(tenant_id=tenant_id), timeout=self._timeout_s)
        except grpc.RpcError as failure:
            raise error_from_rpc(failure) from failure
        with self._lock:
            self._names[tenant_id] = answer.tenant.store_name
        return answer.tenant.store_name
