"""ikas product and stock webhooks as wake-ups (product.md §3, §6) through StartCatalogRun(trigger webhook), against
the sandboxes as real processes and the catalog's real run queue: nothing starts while automatic sync is off, a
wake-up starts one run, and wake-ups while a run is going are never lost: exactly one more run follows it."""

from __future__ import annotations

import time
from decimal import Decimal

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2

from . import test_catalog_relations as stack
from .sandbox_admin import IkasHand, add_fault, fortnox_base_prices, ikas_variant
from .test_catalog_relations import OTHER, TENANT, Catalog

fortnox_sandbox, ikas_sandbox, catalog = stack.fortnox_sandbox, stack.ikas_sandbox, stack.catalog

GOING = (common_pb2.RUN_STATE_QUEUED, common_pb2.RUN_STATE_RUNNING)
WAIT_S = 60


def _settings(catalog: Catalog, *, products_automatic: bool, stock_automatic: bool, tenant: str = TENANT) -> None:
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(
            sync_mode="ikas_to_fortnox", sync_automatically=products_automatic, update_existing=True
        ),
        stock=catalog_pb2.StockSettings(sync_automatically=stock_automatic),
    )
    catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=tenant, settings=document, confirm_reset=True)
    )


def _wake(catalog: Catalog, scope: str, tenant: str = TENANT) -> catalog_pb2.StartCatalogRunResponse:
    request = catalog_pb2.StartCatalogRunRequest(tenant_id=tenant, scope=scope, trigger="webhook")
    answer: catalog_pb2.StartCatalogRunResponse = catalog.stub("CatalogRunService").StartCatalogRun(request)
    return answer


def _runs(catalog: Catalog, tenant: str = TENANT) -> list[common_pb2.Run]:
    """The tenant's runs, oldest first."""
    request = catalog_pb2.ListCatalogRunsRequest(tenant_id=tenant, page=common_pb2.PageRequest(page=1, page_size=50))
    return list(reversed(catalog.stub("CatalogRunService").ListCatalogRuns(request).runs))


def _settled(catalog: Catalog, count: int) -> list[common_pb2.Run]:
    """Waits until the tenant has `count` runs and none is going."""
    deadline = time.monotonic() + WAIT_S
    while True:
        runs = _runs(catalog)
        if len(runs) >= count and not any(run.state in GOING for run in runs):
            return runs
        assert time.monotonic() < deadline, [(run.id, run.state) for run in runs]
        time.sleep(0.1)


def _set_sell_price(catalog: Catalog, sku: str, price: str) -> None:
    product, variant = ikas_variant(catalog.ikas_url, sku)

    def change(saved: dict[str, object]) -> None:
        for candidate in saved["variants"]:  # type: ignore[attr-defined]
            if candidate["id"] == variant["id"]:
                for row in candidate["prices"]:
                    if row.get("priceListId") is None:
                        row["sellPrice"] = float(price)

    IkasHand(catalog.ikas_url).edit_product(product["id"], change)


def test_a_wake_up_starts_nothing_while_automatic_sync_of_its_scope_is_off(catalog: Catalog) -> None:
    _settings(catalog, products_automatic=False, stock_automatic=False)
    _settings(catalog, products_automatic=True, stock_automatic=True, tenant=OTHER)  # another tenant's switches

    for scope in ("products", "stock"):
        answer = _wake(catalog, scope)
        assert not answer.HasField("run")
        assert answer.run.id == ""
    _settings(catalog, products_automatic=True, stock_automatic=False)
    assert _wake(catalog, "stock").run.id == ""  # each scope has its own switch

    assert _runs(catalog) == []


def test_a_wake_up_starts_one_run_and_only_product_and_stock_runs_wake(catalog: Catalog) -> None:
    _settings(catalog, products_automatic=True, stock_automatic=True)

    started = _wake(catalog, "stock").run

    assert started.id
    assert (started.scope, started.trigger) == ("stock", "webhook")
    (run,) = _settled(catalog, 1)
    assert (run.id, run.state) == (started.id, common_pb2.RUN_STATE_SUCCEEDED)
    assert _runs(catalog, OTHER) == []
    for scope in ("match", "preview", "reset"):
        with pytest.raises(grpc.RpcError) as refused:
            _wake(catalog, scope)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_wake_ups_while_a_run_is_going_get_exactly_one_more_run_which_reads_what_the_first_missed(
    catalog: Catalog,
) -> None:
    _settings(catalog, products_automatic=True, stock_automatic=False)
    assert catalog.run("match").state == common_pb2.RUN_STATE_SUCCEEDED
    assert catalog.run("products").state == common_pb2.RUN_STATE_SUCCEEDED  # synced; the next runs are incremental
    settled_before = len(_runs(catalog))
    _set_sell_price(catalog, "DEMO-1005", "150.00")
    # The first run's price write is processed at once but answered late: the run has read ikas by then.
    add_fault(catalog.fortnox_url, kind="delay", delay_s=2.0, method="PUT", path="^/3/prices/A/DEMO-1005")

    first = _wake(catalog, "products").run
    deadline = time.monotonic() + WAIT_S
    while fortnox_base_prices(catalog.fortnox_url)["DEMO-1005"] != Decimal("120.00"):  # 150.00 gross, 25 %
        assert time.monotonic() < deadline, "the first run never wrote the mug's price"
        time.sleep(0.05)
    _set_sell_price(catalog, "DEMO-1012", "61.60")  # the jam changes after the first run read ikas
    answers = [_wake(catalog, "products").run for _ in range(3)]  # ikas may deliver several webhooks

    assert {answer.id for answer in answers} == {first.id}  # the run going is named, never a Conflict
    runs = _settled(catalog, settled_before + 2)
    assert len(runs) == settled_before + 2  # exactly one more run, however many wake-ups came
    woken, follow_up = runs[-2:]
    assert woken.id == first.id
    assert woken.counts.updated == 1  # the mug only
    assert follow_up.trigger == "webhook"
    assert follow_up.state == common_pb2.RUN_STATE_SUCCEEDED, follow_up.errors
    assert follow_up.started_at.ToDatetime() >= woken.finished_at.ToDatetime()  # after it, never beside it
    assert follow_up.counts.updated == 1  # the jam; the mug is Bridge's own write and equal now
    assert fortnox_base_prices(catalog.fortnox_url)["DEMO-1012"] == Decimal("55.00")  # 61.60 gross, 12 %
    time.sleep(1.5)
    assert len(_runs(catalog)) == settled_before + 2  # and no run after the follow-up
