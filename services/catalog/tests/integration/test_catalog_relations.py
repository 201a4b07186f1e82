"""Matching, unlink/relink, runs and settings against the ikas and Fortnox sandboxes as real processes over
HTTP, through the catalog's gRPC servicers on port 0 and its run queue (SQLite)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import Conflict, InvalidInput
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_upstreams.auth_tokens import ConnectionPaused

TOKEN = "service-token-for-tests"
TENANT, OTHER = "t-demo", "t-other"
IKAS_STORE = {TENANT: "demo", OTHER: "other"}
FORTNOX_COMPANY = {TENANT: 1001, OTHER: 1002}


@pytest.fixture(scope="module")
def fortnox_sandbox() -> Iterator[str]:
    with running_sandbox("fortnox") as url:
        yield url


@pytest.fixture(scope="module")
def ikas_sandbox() -> Iterator[str]:
    with running_sandbox("ikas") as url:
        yield url


class FortnoxTokens:
    """Sandbox tokens of each tenant's Fortnox company (/__admin/tokens); `paused` plays a connection that
    needs reconnecting (what GrpcTokenSource raises when auth says so)."""

    def __init__(self, url: str) -> None:
        self._url, self._tokens = url, {}  # type: ignore[var-annotated]
        self.paused = False

    def access_token(self, tenant_id: str) -> str:
        if self.paused:
            raise ConnectionPaused("fortnox", "needs_reauth")
        if tenant_id not in self._tokens:
            minted = httpx.post(
                f"{self._url}/__admin/tokens",
                json={"tenant_id": FORTNOX_COMPANY[tenant_id], "scopes": "article price companyinformation settings"},
                timeout=30,
            ).json()
            self._tokens[tenant_id] = minted["access_token"]
        return str(self._tokens[tenant_id])

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self._tokens.pop(tenant_id, None)


class IkasTokens:
    """Sandbox client-credentials tokens of each tenant's ikas store."""

    def __init__(self, url: str) -> None:
        self._url, self._tokens = url, {}  # type: ignore[var-annotated]

    def access_token(self, tenant_id: str) -> str:
        if tenant_id not in self._tokens:
            store = IKAS_STORE[tenant_id]
            answer = httpx.post(
                f"{self._url}/stores/{store}/api/admin/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET,
                },
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            self._tokens[tenant_id] = answer.json()["access_token"]
        return str(self._tokens[tenant_id])

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self._tokens.pop(tenant_id, None)


class RecordingAuth:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget_fortnox_company(self, tenant_id: str) -> None:
        self.forgotten.append(tenant_id)

    def store_name(self, tenant_id: str) -> str:
        return f"store-of-{tenant_id}"


@dataclass
class Catalog:
    channel: grpc.Channel
    auth: RecordingAuth
    fortnox_url: str
    ikas_url: str
    fortnox_tokens: FortnoxTokens

    def stub(self, name: str) -> Any:
        return getattr(catalog_pb2_grpc, f"{name}Stub")(self.channel)

    def run(self, scope: str, tenant: str = TENANT) -> common_pb2.Run:
        runs = self.stub("CatalogRunService")
        run = runs.StartCatalogRun(catalog_pb2.StartCatalogRunRequest(tenant_id=tenant, scope=scope)).run
        deadline = time.monotonic() + 60
        while run.state in (common_pb2.RUN_STATE_QUEUED, common_pb2.RUN_STATE_RUNNING):
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.1)
            run = runs.GetCatalogRun(catalog_pb2.GetCatalogRunRequest(tenant_id=tenant, run_id=run.id)).run
        return run

    def lines(self, tenant: str = TENANT, **filters: Any) -> list[catalog_pb2.ProductLine]:
        answer = self.stub("ProductService").ListProductLines(
            catalog_pb2.ListProductLinesRequest(
                tenant_id=tenant, page=common_pb2.PageRequest(page=1, page_size=200), **filters
            )
        )
        return list(answer.lines)


@pytest.fixture
def catalog(tmp_path: Path, fortnox_sandbox: str, ikas_sandbox: str) -> Iterator[Catalog]:
    for url in (fortnox_sandbox, ikas_sandbox):
        assert httpx.post(f"{url}/__admin/reset", json={}, timeout=30).status_code < 300
    assert httpx.post(f"{fortnox_sandbox}/__admin/seed", json={"dataset": "demo"}, timeout=30).status_code < 300
    httpx.post(f"{fortnox_sandbox}/__admin/rate-limit", json={"limit": 10_000, "window_s": 5}, timeout=30)
    httpx.post(f"{ikas_sandbox}/__admin/rate-limit", json={"limit": 100_000, "window_s": 1.0}, timeout=30)
    settings = load_settings(
        BridgeSettings,
        mode=Mode.LOCAL,
        data_dir=tmp_path,
        service_token=TOKEN,
        catalog_database_url=f"sqlite:///{tmp_path}/catalog.db",
        fortnox_api_url=fortnox_sandbox,
        ikas_api_url=ikas_sandbox,
    )
    upgrade_to_head(MIGRATIONS, settings.catalog_database_url)
    auth = RecordingAuth()
    fortnox_tokens = FortnoxTokens(fortnox_sandbox)
    services = build(settings, ikas_tokens=IkasTokens(ikas_sandbox), fortnox_tokens=fortnox_tokens, auth=auth)
    assert services.runs is not None
    services.runs.start_consumer(workers=2, poll_max_delay_s=0.1)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    channel = grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN)
    yield Catalog(channel, auth, fortnox_sandbox, ikas_sandbox, fortnox_tokens)
    server.stop(0)
    services.runs.stop_consumer(timeout_s=5)


def test_match_links_exact_skus_and_reports_the_rest(catalog: Catalog) -> None:
    writes_before = [c for c in httpx.get(f"{catalog.fortnox_url}/__admin/calls").json() if c["method"] != "GET"]

    run = catalog.run("match")

    assert run.state == common_pb2.RUN_STATE_SUCCEEDED, run.errors
    lines = {line.sku or f"(none) {line.variant_name}": line for line in catalog.lines()}
    assert lines["DEMO-1001-S"].fortnox_article_number == "DEMO-1001-S"
    assert lines["DEMO-1001-S"].status == catalog_pb2.LINE_STATUS_PENDING
    assert lines["DEMO-1001-S"].ikas_stock == "5"
    duplicates = [line for line in catalog.lines() if line.sku == "DEMO-1020"]
    assert len(duplicates) == 2
    assert all(not d.fortnox_article_number and "none of them is linked" in d.explanation for d in duplicates)
    no_sku = [line for line in catalog.lines() if not line.sku]
    assert no_sku
    assert no_sku[0].status == catalog_pb2.LINE_STATUS_UNMATCHED
    assert run.counts.updated == len([line for line in catalog.lines() if line.fortnox_article_number])
    writes_after = [c for c in httpx.get(f"{catalog.fortnox_url}/__admin/calls").json() if c["method"] != "GET"]
    assert len(writes_after) == len(writes_before)  # matching changes neither side
    searched = catalog.lines(query="notebook")
    assert {line.sku for line in searched} == {"DEMO-1020"}
    assert catalog.lines(status=catalog_pb2.LINE_STATUS_PENDING)
    assert catalog.lines(tenant=OTHER) == []  # tenants are walls


def test_unlink_survives_the_next_match_and_relink_links_again(catalog: Catalog) -> None:
    catalog.run("match")
    line = next(line for line in catalog.lines() if line.sku == "DEMO-1005")
    products = catalog.stub("ProductService")

    unlinked = products.UnlinkProductLine(catalog_pb2.UnlinkProductLineRequest(tenant_id=TENANT, line_id=line.id)).line
    assert unlinked.status == catalog_pb2.LINE_STATUS_IGNORED
    assert not unlinked.fortnox_article_number
    catalog.run("match")
    assert next(x for x in catalog.lines() if x.id == line.id).status == catalog_pb2.LINE_STATUS_IGNORED

    relinked = products.RelinkProductLine(catalog_pb2.RelinkProductLineRequest(tenant_id=TENANT, line_id=line.id)).line
    assert relinked.fortnox_article_number == "DEMO-1005"
    with pytest.raises(grpc.RpcError) as other_tenant:
        products.UnlinkProductLine(catalog_pb2.UnlinkProductLineRequest(tenant_id=OTHER, line_id=line.id))
    assert other_tenant.value.code() == grpc.StatusCode.NOT_FOUND


def test_overlapping_runs_are_refused_with_the_running_id(catalog: Catalog) -> None:
    runs = catalog.stub("CatalogRunService")
    httpx.post(
        f"{catalog.fortnox_url}/__admin/faults",
        json={"kind": "delay", "delay_s": 1.5, "path": "/3/articles"},
        timeout=30,
    )
    first = runs.StartCatalogRun(catalog_pb2.StartCatalogRunRequest(tenant_id=TENANT, scope="match")).run

    with pytest.raises(grpc.RpcError) as refused:
        runs.StartCatalogRun(catalog_pb2.StartCatalogRunRequest(tenant_id=TENANT, scope="match"))

    error = error_from_rpc(refused.value)
    assert isinstance(error, Conflict)
    assert error.details["run_id"] == first.id
    listed = runs.ListCatalogRuns(catalog_pb2.ListCatalogRunsRequest(tenant_id=TENANT)).runs
    assert [run.id for run in listed] == [first.id]
    assert runs.ListCatalogRuns(catalog_pb2.ListCatalogRunsRequest(tenant_id=OTHER)).runs == []


def test_sync_mode_change_needs_confirmation_while_relations_exist(catalog: Catalog) -> None:
    catalog.run("match")
    settings_stub = catalog.stub("CatalogSettingsService")
    document = catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode="ikas_to_fortnox"), stock=catalog_pb2.StockSettings()
    )

    with pytest.raises(grpc.RpcError) as refused:
        settings_stub.UpdateCatalogSettings(
            catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document)
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert any(line.fortnox_article_number for line in catalog.lines())

    settings_stub.UpdateCatalogSettings(
        catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document, confirm_reset=True)
    )
    assert not any(line.fortnox_article_number for line in catalog.lines())
    assert catalog.auth.forgotten == [TENANT]


def test_stock_locations_come_live_from_ikas_and_the_choice_is_checked(catalog: Catalog) -> None:
    locations = (
        catalog.stub("ProductService")
        .ListStockLocations(catalog_pb2.ListStockLocationsRequest(tenant_id=TENANT))
        .locations
    )
    assert {location.name for location in locations} == {"Main warehouse", "Gothenburg shop"}
    settings_stub = catalog.stub("CatalogSettingsService")

    def save(location: str) -> None:
        document = catalog_pb2.CatalogSettings(
            products=catalog_pb2.ProductSettings(sync_mode="fortnox_to_ikas"),
            stock=catalog_pb2.StockSettings(ikas_stock_location_id=location),
        )
        settings_stub.UpdateCatalogSettings(
            catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=TENANT, settings=document)
        )

    save(locations[0].id)
    with pytest.raises(grpc.RpcError) as invalid:
        save("no-such-location")
    error = error_from_rpc(invalid.value)
    assert isinstance(error, InvalidInput)
    assert [v.field for v in error.violations] == ["stock.ikas_stock_location_id"]


def test_due_syncs_start_one_run_per_tenant_whose_automatic_sync_is_on(catalog: Catalog) -> None:
    def automatic(tenant: str, on: bool) -> None:
        document = catalog_pb2.CatalogSettings(
            products=catalog_pb2.ProductSettings(sync_mode="fortnox_to_ikas", sync_automatically=on),
            stock=catalog_pb2.StockSettings(),
        )
        catalog.stub("CatalogSettingsService").UpdateCatalogSettings(
            catalog_pb2.UpdateCatalogSettingsRequest(tenant_id=tenant, settings=document)
        )

    automatic(TENANT, True)
    automatic(OTHER, False)
    runs = catalog.stub("CatalogRunService")

    first = runs.RunDueSyncs(catalog_pb2.RunDueSyncsRequest(scope="products"))
    second = runs.RunDueSyncs(catalog_pb2.RunDueSyncsRequest(scope="products"))  # as a CronJob firing twice

    assert (first.enqueued, first.skipped) == (1, 0)
    assert second.enqueued + second.skipped == 1  # skipped while the first is going, or a new one after it

    def listed(tenant: str) -> list[common_pb2.Run]:
        page = common_pb2.PageRequest(page=1, page_size=50)
        return list(runs.ListCatalogRuns(catalog_pb2.ListCatalogRunsRequest(tenant_id=tenant, page=page)).runs)

    assert {run.trigger for run in listed(TENANT)} == {"schedule"}
    assert len(listed(TENANT)) == 1 + second.enqueued
    assert listed(OTHER) == []  # automatic sync off: not touched
