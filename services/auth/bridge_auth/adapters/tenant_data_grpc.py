"""The other services' tenant data, purged over gRPC (catalog and orders PurgeTenantData)."""

from __future__ import annotations

from typing import Any

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_platform.grpc_errors import error_from_rpc

_SCOPES = {"personal_data": common_pb2.PURGE_SCOPE_PERSONAL_DATA, "all": common_pb2.PURGE_SCOPE_ALL}


class GrpcCatalogTenantData:
    name = "catalog"

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = catalog_pb2_grpc.CatalogTenantDataServiceStub(channel)

    def purge(self, tenant_id: str, scope: str) -> int:
        request = catalog_pb2.PurgeTenantDataRequest(tenant_id=tenant_id, scope=_SCOPES[scope])
        return _call(self._stub.PurgeTenantData, request)


class GrpcOrdersTenantData:
    name = "orders"

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = orders_pb2_grpc.OrderTenantDataServiceStub(channel)

    def purge(self, tenant_id: str, scope: str) -> int:
        request = orders_pb2.PurgeTenantDataRequest(tenant_id=tenant_id, scope=_SCOPES[scope])
        return _call(self._stub.PurgeTenantData, request)


def _call(method: Any, request: Any) -> int:
    try:
        return int(method(request).records_deleted)
    except grpc.RpcError as error:
        raise error_from_rpc(error) from error
