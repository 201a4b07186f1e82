"""CatalogClient: the catalog service over gRPC (bridge.catalog.v1), pydantic <-> proto."""

from __future__ import annotations

from typing import Final

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import CatalogSettings

SERVICE_NAME: Final = catalog_pb2.DESCRIPTOR.services_by_name["CatalogSettingsService"].full_name


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


def settings_from_proto(message: catalog_pb2.CatalogSettings) -> CatalogSettings:
    products, stock = message.products, message.stock
    return CatalogSettings.model_validate(
        {
            "products": {
                "sync_mode": products.sync_mode,
                "sync_automatically": products.sync_automatically,
                "create_new": products.create_new,
                "update_existing": products.update_existing,
            },
            "stock": {
                "sync_automatically": stock.sync_automatically,
                "ikas_stock_location_id": (
                    stock.ikas_stock_location_id if stock.HasField("ikas_stock_location_id") else None
                ),
                "fortnox_stock_point": stock.fortnox_stock_point if stock.HasField("fortnox_stock_point") else None,
            },
        }
    )


class CatalogClient:
    """The catalog's settings RPCs for one tenant at a time; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._settings = catalog_pb2_grpc.CatalogSettingsServiceStub(channel)

    def get_settings(self, tenant_id: str) -> CatalogSettings:
        request = catalog_pb2.GetCatalogSettingsRequest(tenant_id=tenant_id)
        return settings_from_proto(call("catalog", self._settings.GetCatalogSettings, request).settings)

    def validate_settings(self, tenant_id: str, settings: CatalogSettings) -> None:
        request = catalog_pb2.ValidateCatalogSettingsRequest(tenant_id=tenant_id, settings=settings_to_proto(settings))
        call("catalog", self._settings.ValidateCatalogSettings, request)

    def update_settings(self, tenant_id: str, settings: CatalogSettings, *, confirm_reset: bool) -> CatalogSettings:
        request = catalog_pb2.UpdateCatalogSettingsRequest(
            tenant_id=tenant_id, settings=settings_to_proto(settings), confirm_reset=confirm_reset
        )
        return settings_from_proto(call("catalog", self._settings.UpdateCatalogSettings, request).settings)

    def is_serving(self) -> bool:
        return is_serving(self._channel, SERVICE_NAME)
