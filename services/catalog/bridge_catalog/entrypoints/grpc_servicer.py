"""The catalog's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge_catalog.app.manage_settings import UpdateCatalogSettingsRequest
from bridge_catalog.bootstrap import Services
from bridge_catalog.domain.settings import CatalogSettings, ProductSettings, StockSettings
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.telemetry import tag_tenant


def settings_from_proto(message: catalog_pb2.CatalogSettings) -> CatalogSettings:
    products, stock = message.products, message.stock
    return CatalogSettings(
        ProductSettings(products.sync_mode, products.sync_automatically, products.create_new, products.update_existing),
        StockSettings(
            stock.sync_automatically,
            stock.ikas_stock_location_id if stock.HasField("ikas_stock_location_id") else None,
            stock.fortnox_stock_point if stock.HasField("fortnox_stock_point") else None,
        ),
    )


def settings_to_proto(settings: CatalogSettings) -> catalog_pb2.CatalogSettings:
    products, stock = settings.products, settings.stock
    return catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(
            sync_mode=products.sync_mode,
            sync_automatically=products.sync_automatically,
            create_new=products.create_new,
            update_existing=products.update_existing,
        ),
        stock=catalog_pb2.StockSettings(
            sync_automatically=stock.sync_automatically,
            ikas_stock_location_id=stock.ikas_stock_location_id,
            fortnox_stock_point=stock.fortnox_stock_point,
        ),
    )


class CatalogSettingsServicer(catalog_pb2_grpc.CatalogSettingsServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def GetCatalogSettings(
        self, request: catalog_pb2.GetCatalogSettingsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.GetCatalogSettingsResponse:
        tag_tenant(request.tenant_id)
        settings = self._services.get_settings(request.tenant_id)
        return catalog_pb2.GetCatalogSettingsResponse(settings=settings_to_proto(settings))

    @maps_errors
    def ValidateCatalogSettings(
        self, request: catalog_pb2.ValidateCatalogSettingsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ValidateCatalogSettingsResponse:
        tag_tenant(request.tenant_id)
        self._services.validate_settings(request.tenant_id, settings_from_proto(request.settings))
        return catalog_pb2.ValidateCatalogSettingsResponse()

    @maps_errors
    def UpdateCatalogSettings(
        self, request: catalog_pb2.UpdateCatalogSettingsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.UpdateCatalogSettingsResponse:
        tag_tenant(request.tenant_id)
        stored = self._services.update_settings(
            UpdateCatalogSettingsRequest(
                request.tenant_id, settings_from_proto(request.settings), request.confirm_reset
            )
        )
        return catalog_pb2.UpdateCatalogSettingsResponse(settings=settings_to_proto(stored))


_PURGE_SCOPES = {common_pb2.PURGE_SCOPE_PERSONAL_DATA: "personal_data", common_pb2.PURGE_SCOPE_ALL: "all"}


class CatalogTenantDataServicer(catalog_pb2_grpc.CatalogTenantDataServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def PurgeTenantData(
        self, request: catalog_pb2.PurgeTenantDataRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PurgeTenantDataResponse:
        tag_tenant(request.tenant_id)
        deleted = self._services.purge_tenant_data(request.tenant_id, _PURGE_SCOPES.get(request.scope, ""))
        return catalog_pb2.PurgeTenantDataResponse(records_deleted=deleted)


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the catalog servicers to a server; returns their full names for health and reflection."""
    catalog_pb2_grpc.add_CatalogSettingsServiceServicer_to_server(CatalogSettingsServicer(services), server)
    catalog_pb2_grpc.add_CatalogTenantDataServiceServicer_to_server(CatalogTenantDataServicer(services), server)
    return [
        catalog_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("CatalogSettingsService", "CatalogTenantDataService")
    ]
