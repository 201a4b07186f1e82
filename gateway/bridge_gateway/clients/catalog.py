"""CatalogClient: the catalog service over gRPC (bridge.catalog.v1), pydantic <-> proto: settings,
product lines, stock locations and catalog runs."""

from __future__ import annotations

from functools import partial
from typing import Any, Final

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_gateway.clients.common import entity_error_from_proto, field_time, page_to_proto, run_from_proto
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import (
    CatalogSettings,
    LineStatus,
    LineTimelineEntry,
    PageRequest,
    ProductLine,
    ProductLineDetail,
    ProductLinePage,
    Run,
    RunPage,
    StockLocation,
)

SERVICE_NAME: Final = catalog_pb2.DESCRIPTOR.services_by_name["CatalogSettingsService"].full_name
# A webhook's answer waits for its wake-up: well below the channel's default deadline (ikas wants a fast 200).
WAKE_UP_TIMEOUT_S: Final = 3.0
WEBHOOK_TRIGGER: Final = "webhook"

_LINE_STATUS: Final[dict[catalog_pb2.LineStatus, LineStatus]] = {
    catalog_pb2.LINE_STATUS_SYNCED: "synced",
    catalog_pb2.LINE_STATUS_ERROR: "error",
    catalog_pb2.LINE_STATUS_PENDING: "pending",
    catalog_pb2.LINE_STATUS_UNMATCHED: "unmatched",
    catalog_pb2.LINE_STATUS_IGNORED: "ignored",
    catalog_pb2.LINE_STATUS_ORPHANED: "orphaned",
}
_LINE_STATUS_VALUE: Final[dict[LineStatus, catalog_pb2.LineStatus]] = {
    name: value for value, name in _LINE_STATUS.items()
}


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


def line_from_proto(message: catalog_pb2.ProductLine) -> ProductLine:
    """A line as the API shows it (without its timeline): the contract's empty strings are the API's nulls."""
    return ProductLine.model_validate(_line_fields(message))


def line_detail_from_proto(message: catalog_pb2.ProductLine) -> ProductLineDetail:
    """A line with its timeline, as GetProductLine answers it."""
    timeline = [
        LineTimelineEntry(
            at=field_time(entry, "at"), step=entry.step, outcome=entry.outcome, detail=entry.detail or None
        )
        for entry in message.timeline
    ]
    return ProductLineDetail.model_validate({**_line_fields(message), "timeline": timeline})


def _line_fields(message: catalog_pb2.ProductLine) -> dict[str, Any]:
    return {
        "id": message.id,
        "ikas_product_id": message.ikas_product_id or None,
        "ikas_variant_id": message.ikas_variant_id or None,
        "ikas_url": message.ikas_url or None,
        "name": message.name,
        "variant_name": message.variant_name or None,
        "sku": message.sku or None,
        "fortnox_article_number": message.fortnox_article_number or None,
        # A line the service has not classified yet waits for its first run.
        "status": _LINE_STATUS.get(message.status, "pending"),
        "error": (
            entity_error_from_proto(message.error) if message.HasField("error") and message.error.message else None
        ),
        "ikas_stock": message.ikas_stock or None,
        "fortnox_stock": message.fortnox_stock or None,
        "last_synced_at": field_time(message, "last_synced_at"),
    }


class CatalogClient:
    """The catalog's RPCs for one tenant at a time; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._settings = catalog_pb2_grpc.CatalogSettingsServiceStub(channel)
        self._products = catalog_pb2_grpc.ProductServiceStub(channel)
        self._runs = catalog_pb2_grpc.CatalogRunServiceStub(channel)

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

    # ---- product lines and stock locations

    def list_product_lines(
        self, tenant_id: str, page: PageRequest, *, query: str, status: LineStatus | None
    ) -> ProductLinePage:
        request = catalog_pb2.ListProductLinesRequest(
            tenant_id=tenant_id,
            page=page_to_proto(page),
            query=query,
            status=_LINE_STATUS_VALUE[status] if status is not None else catalog_pb2.LINE_STATUS_UNSPECIFIED,
        )
        response = call("catalog", self._products.ListProductLines, request)
        return ProductLinePage(
            items=[line_from_proto(line) for line in response.lines],
            total=response.page.total,
            page=response.page.page or page.page,
            page_size=response.page.page_size or page.page_size,
            last_product_sync_at=field_time(response, "last_product_sync_at"),
            last_stock_sync_at=field_time(response, "last_stock_sync_at"),
        )

    def get_product_line(self, tenant_id: str, line_id: str) -> ProductLineDetail:
        request = catalog_pb2.GetProductLineRequest(tenant_id=tenant_id, line_id=line_id)
        return line_detail_from_proto(call("catalog", self._products.GetProductLine, request).line)

    def unlink_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        request = catalog_pb2.UnlinkProductLineRequest(tenant_id=tenant_id, line_id=line_id)
        return line_from_proto(call("catalog", self._products.UnlinkProductLine, request).line)

    def relink_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        request = catalog_pb2.RelinkProductLineRequest(tenant_id=tenant_id, line_id=line_id)
        return line_from_proto(call("catalog", self._products.RelinkProductLine, request).line)

    def sync_line_stock(self, tenant_id: str, line_id: str) -> ProductLine:
        request = catalog_pb2.SyncLineStockRequest(tenant_id=tenant_id, line_id=line_id)
        return line_from_proto(call("catalog", self._products.SyncLineStock, request).line)

    def export_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        request = catalog_pb2.ExportProductLineRequest(tenant_id=tenant_id, line_id=line_id)
        return line_from_proto(call("catalog", self._products.ExportProductLine, request).line)

    def list_stock_locations(self, tenant_id: str) -> list[StockLocation]:
        request = catalog_pb2.ListStockLocationsRequest(tenant_id=tenant_id)
        response = call("catalog", self._products.ListStockLocations, request)
        return [StockLocation(id=location.id, name=location.name) for location in response.locations]

    # ---- runs

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        request = catalog_pb2.StartCatalogRunRequest(tenant_id=tenant_id, scope=scope, trigger=trigger)
        return run_from_proto(call("catalog", self._runs.StartCatalogRun, request).run)

    def wake_sync(self, tenant_id: str, scope: str) -> str | None:
        request = catalog_pb2.StartCatalogRunRequest(tenant_id=tenant_id, scope=scope, trigger=WEBHOOK_TRIGGER)
        wake_up = partial(self._runs.StartCatalogRun, timeout=WAKE_UP_TIMEOUT_S)
        response = call("catalog", wake_up, request)
        # An answer without a run: the tenant's automatic sync of the scope is off, nothing was started.
        return response.run.id if response.HasField("run") and response.run.id else None

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        request = catalog_pb2.ListCatalogRunsRequest(tenant_id=tenant_id, page=page_to_proto(page), scope=scope or "")
        response = call("catalog", self._runs.ListCatalogRuns, request)
        return RunPage(
            items=[run_from_proto(run) for run in response.runs],
            total=response.page.total,
            page=response.page.page or page.page,
            page_size=response.page.page_size or page.page_size,
        )

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        request = catalog_pb2.GetCatalogRunRequest(tenant_id=tenant_id, run_id=run_id)
        return run_from_proto(call("catalog", self._runs.GetCatalogRun, request).run)

    def is_serving(self) -> bool:
        return is_serving(self._channel, SERVICE_NAME)
