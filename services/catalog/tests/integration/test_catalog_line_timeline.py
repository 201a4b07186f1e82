"""ProductService.GetProductLine: one line with its timeline, on a real server at port 0 over a real channel.

On SQLite and PostgreSQL: the timeline is stored and read back oldest first, an attempt added in a later
transaction is kept, lists carry no timeline, and another tenant's line id is NOT_FOUND. Against the ikas and
Fortnox sandboxes as real processes: real runs and actions add their outcomes, and a run over unchanged data
adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.tables import map_tables
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.domain.lines import ProductLine
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

from . import test_catalog_relations as stack
from .sandbox_admin import add_fault, line_by_sku
from .test_catalog_relations import OTHER, TENANT, Catalog
from .test_catalog_servicer import TOKEN, FakeAuth, FakeFortnox, FakeIkas

fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A, B = "tenant-a", "tenant-b"


# -- storage, on both engines -------------------------------------------------------------------------------


@pytest.fixture
def stored(database_url: str, tmp_path: Path) -> Iterator[tuple[catalog_pb2_grpc.ProductServiceStub, str]]:
    """A server over a database holding one line of tenant A with two attempts, plus a third added later."""
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    uow_for = partial(SqlCatalogUnitOfWork, session_factory(make_engine(database_url)))
    mug = ProductLine(A, "p1", "v1", "Enamel mug", sku="A-1")
    mug.link("A-1")
    mug.log(AT, "match", "linked", "the SKU equals the Fortnox article number A-1")
    mug.log(AT + timedelta(minutes=1), "stock_sync", "stock_written", "the Fortnox stock was set to 7")
    with uow_for(A) as uow:
        uow.lines.add(mug)
        uow.commit()
    with uow_for(A) as uow:  # a later transaction: the reassigned tuple is written, not lost
        line = uow.lines.get(mug.id)
        assert line is not None
        line.log(AT + timedelta(minutes=2), "unlink", "unlinked", "unlinked by hand")
        uow.commit()
    settings = BridgeSettings(data_dir=str(tmp_path), catalog_database_url=database_url)
    services = build(settings, with_runs=False, ikas=FakeIkas(), fortnox=FakeFortnox(), auth=FakeAuth())  # type: ignore[arg-type]
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield catalog_pb2_grpc.ProductServiceStub(grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN)), mug.id
    server.stop(0)


def test_one_line_comes_with_its_timeline_oldest_first(
    stored: tuple[catalog_pb2_grpc.ProductServiceStub, str],
) -> None:
    products, line_id = stored

    line = products.GetProductLine(catalog_pb2.GetProductLineRequest(tenant_id=A, line_id=line_id)).line

    assert (line.id, line.sku, line.fortnox_article_number) == (line_id, "A-1", "A-1")
    assert [(e.step, e.outcome, e.detail) for e in line.timeline] == [
        ("match", "linked", "the SKU equals the Fortnox article number A-1"),
        ("stock_sync", "stock_written", "the Fortnox stock was set to 7"),
        ("unlink", "unlinked", "unlinked by hand"),
    ]
    assert [e.at.ToDatetime(tzinfo=UTC) for e in line.timeline] == [AT + timedelta(minutes=n) for n in range(3)]


def test_a_list_carries_no_timeline(stored: tuple[catalog_pb2_grpc.ProductServiceStub, str]) -> None:
    products, _ = stored

    listed = products.ListProductLines(
        catalog_pb2.ListProductLinesRequest(tenant_id=A, page=common_pb2.PageRequest(page=1, page_size=50))
    ).lines

    assert len(listed) == 1
    assert list(listed[0].timeline) == []


def test_another_tenants_line_id_is_not_found(stored: tuple[catalog_pb2_grpc.ProductServiceStub, str]) -> None:
    products, line_id = stored

    for tenant, wanted in ((B, line_id), (A, "no-such-line")):
        with pytest.raises(grpc.RpcError) as missing:
            products.GetProductLine(catalog_pb2.GetProductLineRequest(tenant_id=tenant, line_id=wanted))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert "A-1" not in (missing.value.details() or "")


# -- real outcomes, against the sandboxes -------------------------------------------------------------------


def _timeline(catalog: Catalog, line_id: str, tenant: str = TENANT) -> list[tuple[str, str]]:
    line = (
        catalog.stub("ProductService")
        .GetProductLine(catalog_pb2.GetProductLineRequest(tenant_id=tenant, line_id=line_id))
        .line
    )
    return [(entry.step, entry.outcome) for entry in line.timeline]


def _ikas_to_fortnox(catalog: Catalog) -> None:
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode="ikas_to_fortnox", create_new=True, update_existing=True),
        stock=catalog_pb2.StockSettings(),
    )
    catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document, confirm_reset=True)
    )


def test_match_unlink_and_relink_are_on_the_timeline_and_a_second_match_adds_nothing(catalog: Catalog) -> None:
    catalog.run("match")
    mug = line_by_sku(catalog, "DEMO-1005")
    products = catalog.stub("ProductService")

    products.UnlinkProductLine(catalog_pb2.UnlinkProductLineRequest(tenant_id=TENANT, line_id=mug.id))
    products.RelinkProductLine(catalog_pb2.RelinkProductLineRequest(tenant_id=TENANT, line_id=mug.id))
    catalog.run("match")

    assert _timeline(catalog, mug.id) == [("match", "linked"), ("unlink", "unlinked"), ("relink", "linked")]
    with pytest.raises(grpc.RpcError) as other_tenant:
        _timeline(catalog, mug.id, tenant=OTHER)
    assert other_tenant.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_created_article_a_refused_price_and_an_unchanged_run(catalog: Catalog) -> None:
    _ikas_to_fortnox(catalog)
    rejected = {"ErrorInformation": {"error": 1, "message": "Ogiltigt värde (Pris)", "code": 2000360}}
    add_fault(
        catalog.fortnox_url, kind="status", status=400, method="PUT", path="^/3/prices/A/DEMO-1009", body=rejected
    )

    failed = catalog.run("products")
    catalog.run("products")  # the fault answered once: the price is written now
    unchanged = catalog.run("products")  # nothing changed since: nothing written, nothing added

    assert failed.state == common_pb2.RUN_STATE_PARTIALLY_FAILED
    assert unchanged.counts.updated == unchanged.counts.created == unchanged.counts.failed == 0
    knife = line_by_sku(catalog, "DEMO-1009")
    line = (
        catalog.stub("ProductService")
        .GetProductLine(catalog_pb2.GetProductLineRequest(tenant_id=TENANT, line_id=knife.id))
        .line
    )
    assert [(e.step, e.outcome) for e in line.timeline] == [
        ("product_sync", "created"),
        ("product_sync", "failed"),
        ("product_sync", "updated"),
    ]
    assert "2000360" in line.timeline[1].detail
    assert line.timeline[2].detail == "the Fortnox article DEMO-1009 was updated: base price"
