"""Product and stock sync against the ikas and Fortnox sandboxes as real processes over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
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


def _writes(url: str) -> list[dict[str, Any]]:
    calls = httpx.get(f"{url}/__admin/calls", timeout=30).json()
    return [
        c
        for c in calls
        if c["method"] != "GET" and "/__admin" not in c.get("path", "") and "token" not in c.get("path", "")
    ]


def test_fortnox_to_ikas_creates_and_a_second_run_writes_nothing(catalog: Catalog) -> None:
    _settings(catalog, sync_mode="fortnox_to_ikas", create_new=True, update_existing=True)
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED
    first = catalog.run("products")
    assert first.state == common_pb2.RUN_STATE_SUCCEEDED, first.errors
    assert first.counts.created >= 1
    ikas_before, fortnox_before = len(_writes(catalog.ikas_url)), len(_writes(catalog.fortnox_url))
    preview = catalog.run("preview")
    assert preview.state == common_pb2.RUN_STATE_SUCCEEDED
    assert preview.planned
    assert all(p.action == "skip" for p in preview.planned)
    assert len(_writes(catalog.ikas_url)) == ikas_before
    ikas_before, fortnox_before = len(_writes(catalog.ikas_url)), len(_writes(catalog.fortnox_url))
    second = catalog.run("products")
    assert second.state == common_pb2.RUN_STATE_SUCCEEDED, second.errors
    assert second.counts.created == 0
    assert len(_writes(catalog.ikas_url)) == ikas_before
    assert len(_writes(catalog.fortnox_url)) == fortnox_before


def test_ikas_to_fortnox_creates_articles_of_tagged_products_only(catalog: Catalog) -> None:
    _settings(catalog, sync_mode="ikas_to_fortnox", create_new=True, update_existing=True)
    preview = catalog.run("preview")
    assert preview.state == common_pb2.RUN_STATE_SUCCEEDED, preview.errors
    fortnox_before = len(_writes(catalog.fortnox_url))
    run = catalog.run("products")
    assert run.state in (common_pb2.RUN_STATE_SUCCEEDED, common_pb2.RUN_STATE_PARTIALLY_FAILED), run.errors
    assert len(_writes(catalog.fortnox_url)) >= fortnox_before
    again = catalog.run("products")
    assert again.counts.created == 0
