"""The catalog's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar, cast

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge_catalog.app.manage_settings import UpdateCatalogSettingsRequest
from bridge_catalog.bootstrap import Services
from bridge_catalog.domain.lines import STATUSES, ProductLine
from bridge_catalog.domain.settings import CatalogSettings, ProductSettings, StockSettings
from bridge_platform.common_messages import run_to_proto, timestamp
from bridge_platform.errors import DomainError
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


T = TypeVar("T")

_STATUS_TO_PROTO = {name: index + 1 for index, name in enumerate(STATUSES)}  # the enum follows STATUSES
_STATUS_FROM_PROTO = {number: name for name, number in _STATUS_TO_PROTO.items()}


def _quantity(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def line_to_proto(line: ProductLine, store_url: str, *, with_timeline: bool = False) -> catalog_pb2.ProductLine:
    error = line.error
    return catalog_pb2.ProductLine(
        id=line.id,
        ikas_product_id=line.ikas_product_id,
        ikas_variant_id=line.ikas_variant_id,
        ikas_url=f"{store_url.rstrip('/')}/admin/product/edit/{line.ikas_product_id}",
        name=line.name,
        variant_name=line.variant_name,
        sku=line.sku or "",
        fortnox_article_number=line.fortnox_article_number or "",
        status=cast(catalog_pb2.LineStatus, _STATUS_TO_PROTO.get(line.status, catalog_pb2.LINE_STATUS_UNSPECIFIED)),
        error=common_pb2.EntityError(
            message=error.message,
            upstream_code=error.upstream_code or "",
            hint=error.hint or "",
            at=timestamp(error.at),
        )
        if error
        else None,
        ikas_stock=_quantity(line.ikas_stock),
        fortnox_stock=_quantity(line.fortnox_stock),
        last_synced_at=timestamp(line.last_synced_at),
        explanation=line.explanation,
        timeline=[
            catalog_pb2.TimelineEntry(
                at=timestamp(attempt.at), step=attempt.step, outcome=attempt.outcome, detail=attempt.detail
            )
            for attempt in (line.timeline if with_timeline else ())
        ],
    )


def _store_url(template: str, store: str) -> str:
    return template.replace("{store}", store)


class ProductServicer(catalog_pb2_grpc.ProductServiceServicer):
    def __init__(self, services: Services, store_name_of: object = None) -> None:
        self._services = services

    def _url(self, tenant_id: str) -> str:
        return _store_url(self._services.ikas_store_url, self._services.store_name(tenant_id))

    @maps_errors
    def ListProductLines(
        self, request: catalog_pb2.ListProductLinesRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListProductLinesResponse:
        tag_tenant(request.tenant_id)
        status = _STATUS_FROM_PROTO.get(request.status) if request.status else None
        page = self._services.list_lines(
            request.tenant_id, request.query, status, request.page.page, request.page.page_size
        )
        url = self._url(request.tenant_id)
        return catalog_pb2.ListProductLinesResponse(
            lines=[line_to_proto(line, url) for line in page.lines],
            page=common_pb2.PageInfo(page=page.page, page_size=page.page_size, total=page.total),
            last_product_sync_at=timestamp(page.last_product_sync_at),
            last_stock_sync_at=timestamp(page.last_stock_sync_at),
        )

    @maps_errors
    def GetProductLine(
        self, request: catalog_pb2.GetProductLineRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.GetProductLineResponse:
        tag_tenant(request.tenant_id)
        line = self._services.get_line(request.tenant_id, request.line_id)
        return catalog_pb2.GetProductLineResponse(
            line=line_to_proto(line, self._url(request.tenant_id), with_timeline=True)
        )

    @maps_errors
    def UnlinkProductLine(
        self, request: catalog_pb2.UnlinkProductLineRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.UnlinkProductLineResponse:
        tag_tenant(request.tenant_id)
        line = self._services.unlink_line(request.tenant_id, request.line_id)
        return catalog_pb2.UnlinkProductLineResponse(line=line_to_proto(line, self._url(request.tenant_id)))

    @maps_errors
    def RelinkProductLine(
        self, request: catalog_pb2.RelinkProductLineRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.RelinkProductLineResponse:
        tag_tenant(request.tenant_id)
        line = self._services.relink_line(request.tenant_id, request.line_id)
        return catalog_pb2.RelinkProductLineResponse(line=line_to_proto(line, self._url(request.tenant_id)))

    @maps_errors
    def SyncLineStock(
        self, request: catalog_pb2.SyncLineStockRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.SyncLineStockResponse:
        tag_tenant(request.tenant_id)
        line = self._services.sync_stock.line(request.tenant_id, request.line_id)
        return catalog_pb2.SyncLineStockResponse(line=line_to_proto(line, self._url(request.tenant_id)))

    @maps_errors
    def ExportProductLine(
        self, request: catalog_pb2.ExportProductLineRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ExportProductLineResponse:
        tag_tenant(request.tenant_id)
        line = self._services.sync_products.export(request.tenant_id, request.line_id)
        return catalog_pb2.ExportProductLineResponse(line=line_to_proto(line, self._url(request.tenant_id)))

    @maps_errors
    def ListStockLocations(
        self, request: catalog_pb2.ListStockLocationsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListStockLocationsResponse:
        tag_tenant(request.tenant_id)
        locations = self._services.list_stock_locations(request.tenant_id)
        return catalog_pb2.ListStockLocationsResponse(
            locations=[catalog_pb2.StockLocation(id=location.id, name=location.name) for location in locations]
        )

    @maps_errors
    def ResolveArticleNumbers(
        self, request: catalog_pb2.ResolveArticleNumbersRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ResolveArticleNumbersResponse:
        tag_tenant(request.tenant_id)
        numbers = self._services.resolve_article_numbers(
            request.tenant_id, [variant.variant_id for variant in request.variants]
        )
        return catalog_pb2.ResolveArticleNumbersResponse(article_numbers=numbers)


class CatalogRunServicer(catalog_pb2_grpc.CatalogRunServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    def _need(self, use_case: T | None) -> T:
        if use_case is None:
            raise DomainError("this catalog process runs no run queue")
        return use_case

    @maps_errors
    def StartCatalogRun(
        self, request: catalog_pb2.StartCatalogRunRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.StartCatalogRunResponse:
        tag_tenant(request.tenant_id)
        run = self._need(self._services.start_run)(request.tenant_id, request.scope, request.trigger)
        if run is None:  # a webhook while the scope's automatic sync is off: nothing started, no run
            return catalog_pb2.StartCatalogRunResponse()
        return catalog_pb2.StartCatalogRunResponse(run=run_to_proto(run))

    @maps_errors
    def RunDueSyncs(
        self, request: catalog_pb2.RunDueSyncsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.RunDueSyncsResponse:
        due = self._need(self._services.run_due_syncs)(request.scope)
        return catalog_pb2.RunDueSyncsResponse(enqueued=due.enqueued, skipped=due.skipped)

    @maps_errors
    def ListCatalogRuns(
        self, request: catalog_pb2.ListCatalogRunsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListCatalogRunsResponse:
        tag_tenant(request.tenant_id)
        runs, total, page, size = self._need(self._services.list_runs)(
            request.tenant_id, request.scope or None, request.page.page, request.page.page_size
        )
        return catalog_pb2.ListCatalogRunsResponse(
            runs=[run_to_proto(run) for run in runs], page=common_pb2.PageInfo(page=page, page_size=size, total=total)
        )

    @maps_errors
    def GetCatalogRun(
        self, request: catalog_pb2.GetCatalogRunRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.GetCatalogRunResponse:
        tag_tenant(request.tenant_id)
        run = self._need(self._services.get_run)(request.tenant_id, request.run_id)
        return catalog_pb2.GetCatalogRunResponse(run=run_to_proto(run))


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the catalog servicers to a server; returns their full names for health and reflection."""
    catalog_pb2_grpc.add_CatalogSettingsServiceServicer_to_server(CatalogSettingsServicer(services), server)
    catalog_pb2_grpc.add_CatalogTenantDataServiceServicer_to_server(CatalogTenantDataServicer(services), server)
    catalog_pb2_grpc.add_ProductServiceServicer_to_server(ProductServicer(services), server)
    catalog_pb2_grpc.add_CatalogRunServiceServicer_to_server(CatalogRunServicer(services), server)
    return [
        catalog_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("CatalogSettingsService", "CatalogTenantDataService", "ProductService", "CatalogRunService")
    ]
