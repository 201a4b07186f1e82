"""ProductService.ResolveArticleNumbers (for the orders service) on a real server at port 0, over a real channel,
on SQLite and PostgreSQL: related lines only, and one tenant never gets another's article numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.tables import map_tables
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.domain.lines import LineError, ProductLine, SyncedValues
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.errors import InvalidInput
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

from .test_catalog_servicer import TOKEN, FakeAuth, FakeFortnox, FakeIkas

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A, B = "tenant-a", "tenant-b"


def _lines_of_tenant_a() -> list[ProductLine]:
    synced = ProductLine(A, "p1", "v-synced", "Mug", sku="MUG-1")
    synced.link("MUG-1")
    synced.mark_synced(SyncedValues("Mug", None, None), AT)
    pending = ProductLine(A, "p2", "v-pending", "Candle", sku="CANDLE-1")
    pending.link("CANDLE-1")  # matched, not synced yet: still related
    failed = ProductLine(A, "p3", "v-error", "Jam", sku="JAM-1")
    failed.link("JAM-1")
    failed.fail(LineError("Fortnox refused the price", "2000360", None, AT))  # related, with an error
    ignored = ProductLine(A, "p4", "v-ignored", "Pen", sku="PEN-1")
    ignored.link("PEN-1")
    ignored.unlink()
    orphaned = ProductLine(A, "p5", "v-orphaned", "Lid", sku="LID-1")
    orphaned.link("LID-1")
    orphaned.orphan("the Fortnox article LID-1 was deleted")  # keeps the number it had, but is not related
    unmatched = ProductLine(A, "p6", "v-unmatched", "Tote", sku="TOTE-1")
    shared = ProductLine(A, "p7", "v-both", "Notebook", sku="A-NOTE")
    shared.link("A-NOTE")
    return [synced, pending, failed, ignored, orphaned, unmatched, shared]


@pytest.fixture
def products(database_url: str, tmp_path: Path) -> Iterator[catalog_pb2_grpc.ProductServiceStub]:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    uow_for = partial(SqlCatalogUnitOfWork, session_factory(make_engine(database_url)))
    with uow_for(A) as uow:
        for line in _lines_of_tenant_a():
            uow.lines.add(line)
        uow.commit()
    with uow_for(B) as uow:
        other = ProductLine(B, "p7", "v-both", "Notebook", sku="B-NOTE")  # the same ikas ids in another store
        other.link("B-NOTE")
        uow.lines.add(other)
        uow.commit()
    settings = BridgeSettings(data_dir=str(tmp_path), catalog_database_url=database_url)
    services = build(settings, with_runs=False, ikas=FakeIkas(), fortnox=FakeFortnox(), auth=FakeAuth())  # type: ignore[arg-type]
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield catalog_pb2_grpc.ProductServiceStub(grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN))
    server.stop(0)


def resolve(stub: catalog_pb2_grpc.ProductServiceStub, tenant_id: str, *variant_ids: str) -> dict[str, str]:
    request = catalog_pb2.ResolveArticleNumbersRequest(
        tenant_id=tenant_id,
        variants=[catalog_pb2.VariantSku(variant_id=variant, sku=f"sku of {variant}") for variant in variant_ids],
    )
    return dict(stub.ResolveArticleNumbers(request).article_numbers)


def test_only_related_lines_are_resolved(products: catalog_pb2_grpc.ProductServiceStub) -> None:
    numbers = resolve(
        products, A, "v-synced", "v-pending", "v-error", "v-ignored", "v-orphaned", "v-unmatched", "v-unknown"
    )

    assert numbers == {"v-synced": "MUG-1", "v-pending": "CANDLE-1", "v-error": "JAM-1"}


def test_the_relation_decides_not_the_sku_the_order_line_carries(products: catalog_pb2_grpc.ProductServiceStub) -> None:
    request = catalog_pb2.ResolveArticleNumbersRequest(
        tenant_id=A, variants=[catalog_pb2.VariantSku(variant_id="v-synced", sku="SOMETHING-ELSE")]
    )

    assert dict(products.ResolveArticleNumbers(request).article_numbers) == {"v-synced": "MUG-1"}


def test_a_tenant_never_gets_another_tenants_numbers(products: catalog_pb2_grpc.ProductServiceStub) -> None:
    assert resolve(products, B, "v-synced", "v-pending", "v-error") == {}
    assert resolve(products, B, "v-both") == {"v-both": "B-NOTE"}
    assert resolve(products, A, "v-both") == {"v-both": "A-NOTE"}
    assert resolve(products, "tenant-c", "v-both") == {}


def test_nothing_asked_is_nothing_answered_and_bad_requests_are_invalid(
    products: catalog_pb2_grpc.ProductServiceStub,
) -> None:
    assert resolve(products, A) == {}
    assert resolve(products, A, "", "  ") == {}
    for request in (
        catalog_pb2.ResolveArticleNumbersRequest(tenant_id=" ", variants=[catalog_pb2.VariantSku(variant_id="v")]),
        catalog_pb2.ResolveArticleNumbersRequest(
            tenant_id=A, variants=[catalog_pb2.VariantSku(variant_id=f"v{n}") for n in range(1001)]
        ),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            products.ResolveArticleNumbers(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert isinstance(error_from_rpc(refused.value), InvalidInput)


def test_many_variants_are_resolved_in_one_call(products: catalog_pb2_grpc.ProductServiceStub) -> None:
    asked = ["v-synced", *(f"v-missing-{n}" for n in range(998)), "v-error"]  # more ids than one IN (...) chunk

    assert resolve(products, A, *asked) == {"v-synced": "MUG-1", "v-error": "JAM-1"}
