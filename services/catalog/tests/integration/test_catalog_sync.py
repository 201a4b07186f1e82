"""Product sync end to end in both modes against the ikas and Fortnox sandboxes as real processes over HTTP:
the first run writes, the preview and a second run write nothing (ikas GraphQL reads are POSTs too, so ikas is
checked by its state, Fortnox by its call log)."""

from __future__ import annotations

from typing import Any

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
from .sandbox_admin import clear_calls, fortnox_articles, fortnox_writes, ikas_store
from .test_catalog_relations import TENANT, Catalog

# The sandbox stack of the relations tests (sandboxes as processes, the catalog's servicers on port 0).
fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog


def _settings(catalog: Catalog, **products: Any) -> None:
    stub = catalog.stub("CatalogSettingsService")
    current = stub.GetCatalogSettings(catalog_pb2.GetCatalogSettingsRequest(tenant_id=TENANT)).settings
    for name, value in products.items():
        setattr(current.products, name, value)
    stub.UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=current, confirm_reset=True)
    )


def _ikas(url: str) -> tuple[Any, Any]:
    store = ikas_store(url)
    return store["products"], store["stocks"]


def test_fortnox_to_ikas_creates_and_a_second_run_writes_nothing(catalog: Catalog) -> None:
    _settings(catalog, sync_mode="fortnox_to_ikas", create_new=True, update_existing=True)
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED
    first = catalog.run("products")
    assert first.state == common_pb2.RUN_STATE_SUCCEEDED, first.errors
    assert first.counts.created >= 1
    ikas_before = _ikas(catalog.ikas_url)
    clear_calls(catalog.fortnox_url)

    preview = catalog.run("preview")

    assert preview.state == common_pb2.RUN_STATE_SUCCEEDED
    assert preview.planned
    assert all(p.action == "skip" for p in preview.planned), [p for p in preview.planned if p.action != "skip"]
    assert _ikas(catalog.ikas_url) == ikas_before

    second = catalog.run("products")

    assert second.state == common_pb2.RUN_STATE_SUCCEEDED, second.errors
    assert (second.counts.created, second.counts.updated) == (0, 0)
    assert _ikas(catalog.ikas_url) == ikas_before
    assert fortnox_writes(catalog.fortnox_url) == []


def test_ikas_to_fortnox_preview_plans_the_creates_that_the_run_then_makes(catalog: Catalog) -> None:
    _settings(catalog, sync_mode="ikas_to_fortnox", create_new=True, update_existing=True)
    before = fortnox_articles(catalog.fortnox_url)

    preview = catalog.run("preview")

    assert preview.state == common_pb2.RUN_STATE_SUCCEEDED, preview.errors
    assert fortnox_writes(catalog.fortnox_url) == []
    planned = {p.entity for p in preview.planned if p.action == "create"}

    run = catalog.run("products")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    assert set(fortnox_articles(catalog.fortnox_url)) - set(before) == planned
    assert run.counts.created == len(planned)
    clear_calls(catalog.fortnox_url)
    again = catalog.run("products")
    assert (again.counts.created, again.counts.updated) == (0, 0)
    assert fortnox_writes(catalog.fortnox_url) == []
