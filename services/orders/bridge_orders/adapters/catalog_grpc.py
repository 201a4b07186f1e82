"""ArticleNumbers over the catalog service: the product relations live there (product.md §3), so an order's
rows carry the article number the catalog linked, never a guess from the SKU."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_platform.grpc_errors import error_from_rpc


class GrpcArticleNumbers:
    """ArticleNumbers over catalog ProductService.ResolveArticleNumbers: related variants only (synced,
    pending or in error with a relation); unrelated, unlinked and orphaned ones are left out."""

    def __init__(self, channel: grpc.Channel, *, timeout_s: float = 10.0) -> None:
        self._stub = catalog_pb2_grpc.ProductServiceStub(channel)
        self._timeout_s = timeout_s

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]:
        if not variants:
            return {}
        skus = [catalog_pb2.VariantSku(variant_id=variant, sku=sku or "") for variant, sku in variants.items()]
        request = catalog_pb2.ResolveArticleNumbersRequest(tenant_id=tenant_id, variants=skus)
        try:
            answer = self._stub.ResolveArticleNumbers(request, timeout=self._timeout_s)
        except grpc.RpcError as failure:
            raise error_from_rpc(failure) from failure
        return {variant_id: number for variant_id, number in answer.article_numbers.items() if variant_id in variants}
