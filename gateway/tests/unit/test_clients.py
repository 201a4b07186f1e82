"""The typed clients' conversions (pydantic <-> proto) and their error translation, without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2, timestamp_pb2

from bridge.auth.v1 import auth_pb2
from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2
from bridge_gateway.clients import auth as auth_client
from bridge_gateway.clients import catalog as catalog_client
from bridge_gateway.clients import common
from bridge_gateway.clients import orders as orders_client
from bridge_gateway.clients.rpc import SERVICE_CREDENTIAL_REFUSED, call
from bridge_gateway.models import CatalogSettings, OrderSettings, PageRequest, Tenant
from bridge_platform.errors import Conflict, DomainError, NotFound, Unauthenticated, UpstreamUnavailable
from bridge_platform.grpc_errors import rich_status

CATALOG: dict[str, Any] = {
    "products": {
        "sync_mode": "ikas_to_fortnox",
        "sync_automatically": True,
        "create_new": False,
        "update_existing": True,
    },
    "stock": {"sync_automatically": True, "ikas_stock_location_id": "loc-1", "fortnox_stock_point": None},
}
ORDERS: dict[str, Any] = {
    "sync_automatically": True,
    "sync_from": "2026-01-01T00:00:00+01:00",
    "create_orders": False,
    "create_invoice": True,
    "sync_items_without_relation": True,
    "send_invoice_email": True,
    "unit_source": "attribute",
    "unit_attribute": "Unit",
    "language": "always_sv",
    "shipping": "order_row",
    "shipping_article_number": None,
    "sales_accounts": {"25": 3001, "6": 3003},
    "send_when": "paid",
    "register_payments": True,
    "modes_of_payment": {"CREDIT_CARD": "KORT"},
    "follow_cancellations": False,
    "follow_refunds": False,
}


def test_the_catalog_part_survives_the_proto_both_ways() -> None:
    settings = CatalogSettings.model_validate(CATALOG)

    message = catalog_client.settings_to_proto(settings)

    assert not message.stock.HasField("fortnox_stock_point")  # null travels as unset, not ""
    assert catalog_client.settings_from_proto(message) == settings


@pytest.mark.parametrize("sync_from", ["2026-01-01T00:00:00+01:00", None])
def test_the_orders_part_survives_the_proto_both_ways(sync_from: str | None) -> None:
    settings = OrderSettings.model_validate({**ORDERS, "sync_from": sync_from})

    message = orders_client.settings_to_proto(settings)

    assert message.HasField("sync_from") is (sync_from is not None)
    assert not message.HasField("shipping_article_number")
    assert orders_client.settings_from_proto(message) == settings


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.UNAVAILABLE, UpstreamUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, UpstreamUnavailable),
        (grpc.StatusCode.INTERNAL, DomainError),
    ],
)
def test_a_failed_call_raises_the_neutral_error(rpc_error: Any, code: grpc.StatusCode, expected: type) -> None:
    def failing(_request: object) -> None:
        raise rpc_error(code, "details")

    with pytest.raises(expected):
        call("catalog", failing, object())


def test_a_refused_service_credential_is_a_fault_of_the_gateway_not_of_the_user(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid service credential")

    with pytest.raises(DomainError) as raised:
        call("catalog", refused, object())

    assert not isinstance(raised.value, Unauthenticated)  # a 500 for the operators, never a 401 for the browser


def test_a_users_credential_refused_is_unauthenticated_for_rpcs_that_check_one(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, "the session is unknown or has expired")

    with pytest.raises(Unauthenticated):
        call("auth", refused, object(), checks_user=True)


def test_the_service_credential_refused_stays_a_500_even_for_rpcs_that_check_a_user(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, SERVICE_CREDENTIAL_REFUSED)

    with pytest.raises(DomainError) as raised:
        call("auth", refused, object(), checks_user=True)

    assert not isinstance(raised.value, Unauthenticated)


def test_a_connection_with_nothing_known_has_nulls() -> None:
    message = auth_pb2.GetConnectionResponse(
        ikas=auth_pb2.IkasConnection(store_name="demo", status=auth_pb2.CONNECTION_STATUS_CONNECTED),
        fortnox=auth_pb2.FortnoxConnection(),
    )

    document = auth_client.connection_from_proto(message).model_dump(mode="json")

    assert document == {
        "ikas": {"store_name": "demo", "merchant_id": None, "status": "connected", "webhook_warning": None},
        "fortnox": {
            "status": "disconnected",
            "company_name": None,
            "organisation_number": None,
            "scopes": [],
            "connected_at": None,
            "warehouse_module": None,
        },
    }


def test_a_connected_company_comes_through_with_an_rfc3339_time() -> None:
    connected_at = timestamp_pb2.Timestamp()
    connected_at.FromDatetime(datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    message = auth_pb2.FortnoxConnection(
        status=auth_pb2.CONNECTION_STATUS_NEEDS_REAUTH,
        company_name="Demo AB",
        organisation_number="556677-8899",
        scopes=["article", "invoice"],
        connected_at=connected_at,
        warehouse_module=False,
    )

    fortnox = auth_client.fortnox_from_proto(message).model_dump(mode="json")

    assert fortnox == {
        "status": "needs_reauth",
        "company_name": "Demo AB",
        "organisation_number": "556677-8899",
        "scopes": ["article", "invoice"],
        "connected_at": "2026-03-01T12:30:00Z",
        "warehouse_module": False,
    }


def test_a_session_carries_its_tenant_and_an_aware_expiry() -> None:
    expires_at = timestamp_pb2.Timestamp()
    expires_at.FromDatetime(datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    message = auth_pb2.Session(
        session_token="s",
        csrf_token="c",
        expires_at=expires_at,
        tenant=auth_pb2.Tenant(id="t1", store_name="demo", merchant_id="m1", authorized_app_id="a1"),
    )

    session = auth_client.session_from_proto(message)

    assert (session.token, session.csrf_token) == ("s", "c")
    assert session.expires_at == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert session.tenant == Tenant(id="t1", store_name="demo", merchant_id="m1", authorized_app_id="a1")
    assert auth_client.session_from_proto(auth_pb2.Session(session_token="s")).expires_at is None


# ---- catalog: product lines, stock locations and runs


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class RecordingStub:
    """Answers every method with a fixed response and records the requests, as a gRPC stub would be called."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.requests: list[tuple[str, Any]] = []

    def __getattr__(self, method: str) -> Any:
        def invoke(request: Any) -> Any:
            self.requests.append((method, request))
            return self.response

        return invoke


def test_a_line_from_the_contract_has_nulls_for_empty_strings_and_an_unset_error() -> None:
    message = catalog_pb2.ProductLine(
        id="l1", ikas_product_id="p1", ikas_variant_id="v1", name="Mug", status=catalog_pb2.LINE_STATUS_UNMATCHED
    )

    line = catalog_client.line_from_proto(message).model_dump(mode="json")

    assert line == {
        "id": "l1",
        "ikas_product_id": "p1",
        "ikas_variant_id": "v1",
        "ikas_url": None,
        "name": "Mug",
        "variant_name": None,
        "sku": None,
        "fortnox_article_number": None,
        "status": "unmatched",
        "error": None,
        "ikas_stock": None,
        "fortnox_stock": None,
        "last_synced_at": None,
    }


def test_a_failed_line_carries_its_error_and_exact_quantities() -> None:
    message = catalog_pb2.ProductLine(
        id="l1",
        name="Mug",
        sku="MUG",
        fortnox_article_number="MUG",
        status=catalog_pb2.LINE_STATUS_ERROR,
        error=common_pb2.EntityError(
            message="refused", upstream_code="2000637", at=_timestamp(datetime(2026, 3, 1, tzinfo=UTC))
        ),
        ikas_stock="12.500",
        fortnox_stock="0",
        last_synced_at=_timestamp(datetime(2026, 3, 2, 10, 30, tzinfo=UTC)),
    )

    line = catalog_client.line_from_proto(message).model_dump(mode="json")

    assert line["status"] == "error"
    assert line["error"] == {
        "message": "refused",
        "upstream_code": "2000637",
        "hint": None,
        "at": "2026-03-01T00:00:00Z",
    }
    assert (line["ikas_stock"], line["fortnox_stock"]) == ("12.500", "0")  # "0" is a value, not unknown
    assert line["last_synced_at"] == "2026-03-02T10:30:00Z"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (common_pb2.RUN_STATE_QUEUED, "queued"),
        (common_pb2.RUN_STATE_RUNNING, "running"),
        (common_pb2.RUN_STATE_SUCCEEDED, "succeeded"),
        (common_pb2.RUN_STATE_FAILED, "failed"),
        (common_pb2.RUN_STATE_PARTIALLY_FAILED, "partially_failed"),
    ],
)
def test_every_run_state_comes_through(state: common_pb2.RunState, expected: str) -> None:
    assert common.run_from_proto(common_pb2.Run(id="r", scope="stock", state=state)).state == expected


def test_a_run_from_the_contract() -> None:
    message = common_pb2.Run(
        id="r1",
        scope="preview",
        state=common_pb2.RUN_STATE_RUNNING,
        trigger="operation",
        progress_done=3,
        counts=common_pb2.RunCounts(created=1, updated=2, unchanged=3, failed=4),
        created_at=_timestamp(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
        started_at=_timestamp(datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)),
        errors=[common_pb2.EntityError(message="no SKU", hint="add one")],
        planned=[common_pb2.PlannedAction(action="skip", entity="MUG", reason="no change")],
    )

    run = common.run_from_proto(message).model_dump(mode="json")

    assert run == {
        "id": "r1",
        "scope": "preview",
        "state": "running",
        "trigger": "operation",
        "progress": {"done": 3, "total": None},
        "counts": {"created": 1, "updated": 2, "unchanged": 3, "failed": 4},
        "created_at": "2026-03-01T12:00:00Z",
        "started_at": "2026-03-01T12:00:05Z",
        "finished_at": None,
        "errors": [{"message": "no SKU", "upstream_code": None, "hint": "add one", "at": None}],
        "planned": [{"action": "skip", "entity": "MUG", "reason": "no change"}],
        "result": {},
    }
    with_total = common_pb2.Run(id="r2", state=common_pb2.RUN_STATE_SUCCEEDED, progress_done=0, progress_total=0)
    assert common.run_from_proto(with_total).progress.total == 0  # a known total of zero is not unknown


def test_a_run_result_comes_through_as_json() -> None:
    result = struct_pb2.Struct()
    result.update({"report": {"matched": 2, "duplicate_skus": ["MUG"]}, "reset": 3})
    message = common_pb2.Run(id="r3", scope="match", state=common_pb2.RUN_STATE_SUCCEEDED, result=result)

    run = common.run_from_proto(message).model_dump(mode="json")

    assert run["result"] == {"report": {"matched": 2, "duplicate_skus": ["MUG"]}, "reset": 3}
    assert isinstance(run["result"]["reset"], int)


def _catalog_with(response: Any) -> tuple[catalog_client.CatalogClient, RecordingStub]:
    client = catalog_client.CatalogClient(grpc.insecure_channel("127.0.0.1:1"))
    stub = RecordingStub(response)
    client._products = stub  # type: ignore[assignment]
    client._runs = stub  # type: ignore[assignment]
    return client, stub


def test_listing_lines_sends_the_tenant_page_query_and_status() -> None:
    response = catalog_pb2.ListProductLinesResponse(
        lines=[catalog_pb2.ProductLine(id="l1", name="Mug", status=catalog_pb2.LINE_STATUS_SYNCED)],
        page=common_pb2.PageInfo(page=2, page_size=10, total=11),
        last_stock_sync_at=_timestamp(datetime(2026, 3, 1, tzinfo=UTC)),
    )
    client, stub = _catalog_with(response)

    page = client.list_product_lines("t1", PageRequest(page=2, page_size=10), query="mug", status="orphaned")

    method, request = stub.requests[0]
    assert method == "ListProductLines"
    assert (request.tenant_id, request.page.page, request.page.page_size, request.query) == ("t1", 2, 10, "mug")
    assert request.status == catalog_pb2.LINE_STATUS_ORPHANED
    assert (page.total, page.page, page.page_size, [line.id for line in page.items]) == (11, 2, 10, ["l1"])
    assert page.last_product_sync_at is None
    assert page.last_stock_sync_at == datetime(2026, 3, 1, tzinfo=UTC)
    client.list_product_lines("t1", PageRequest(), query="", status=None)
    assert stub.requests[1][1].status == catalog_pb2.LINE_STATUS_UNSPECIFIED


@pytest.mark.parametrize(
    ("method", "rpc", "response_type"),
    [
        ("unlink_product_line", "UnlinkProductLine", catalog_pb2.UnlinkProductLineResponse),
        ("relink_product_line", "RelinkProductLine", catalog_pb2.RelinkProductLineResponse),
        ("sync_line_stock", "SyncLineStock", catalog_pb2.SyncLineStockResponse),
        ("export_product_line", "ExportProductLine", catalog_pb2.ExportProductLineResponse),
    ],
)
def test_a_line_action_names_the_tenant_and_line(method: str, rpc: str, response_type: Any) -> None:
    client, stub = _catalog_with(response_type(line=catalog_pb2.ProductLine(id="l1", name="Mug")))

    line = getattr(client, method)("t1", "l1")

    assert line.id == "l1"
    assert [(name, request.tenant_id, request.line_id) for name, request in stub.requests] == [(rpc, "t1", "l1")]


def test_one_line_comes_with_its_timeline() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    entries = [
        catalog_pb2.TimelineEntry(at=_timestamp(at), step="match", outcome="linked", detail="SKU equals A-1"),
        catalog_pb2.TimelineEntry(step="unlink", outcome="unlinked"),
    ]
    line = catalog_pb2.ProductLine(id="l1", name="Mug", status=catalog_pb2.LINE_STATUS_IGNORED, timeline=entries)
    client, stub = _catalog_with(catalog_pb2.GetProductLineResponse(line=line))

    detail = client.get_product_line("t1", "l1").model_dump(mode="json")

    assert [(name, request.tenant_id, request.line_id) for name, request in stub.requests] == [
        ("GetProductLine", "t1", "l1")
    ]
    assert (detail["id"], detail["status"]) == ("l1", "ignored")
    assert detail["timeline"] == [
        {"at": "2026-03-01T12:00:00Z", "step": "match", "outcome": "linked", "detail": "SKU equals A-1"},
        {"at": None, "step": "unlink", "outcome": "unlinked", "detail": None},
    ]
    assert "timeline" not in catalog_client.line_from_proto(line).model_dump()  # lists and actions: without


def test_runs_are_started_listed_and_read_for_one_tenant() -> None:
    run = common_pb2.Run(id="r1", scope="products", state=common_pb2.RUN_STATE_QUEUED)
    client, stub = _catalog_with(catalog_pb2.StartCatalogRunResponse(run=run))
    assert client.start_run("t1", "products", trigger="on_demand").id == "r1"
    stub.response = catalog_pb2.ListCatalogRunsResponse(runs=[run], page=common_pb2.PageInfo(total=1))
    listed = client.list_runs("t1", PageRequest(page=3, page_size=5), scope="stock")
    stub.response = catalog_pb2.GetCatalogRunResponse(run=run)
    assert client.get_run("t1", "r1").scope == "products"

    start, listing, get = (request for _, request in stub.requests)
    assert (start.tenant_id, start.scope, start.trigger) == ("t1", "products", "on_demand")
    assert (listing.tenant_id, listing.scope, listing.page.page, listing.page.page_size) == ("t1", "stock", 3, 5)
    assert (listed.total, listed.page, listed.page_size) == (1, 3, 5)  # an unechoed page is the one asked for
    assert (get.tenant_id, get.run_id) == ("t1", "r1")


def test_stock_locations_come_through() -> None:
    response = catalog_pb2.ListStockLocationsResponse(locations=[catalog_pb2.StockLocation(id="loc-1", name="Main")])
    client, stub = _catalog_with(response)

    assert [location.model_dump() for location in client.list_stock_locations("t1")] == [
        {"id": "loc-1", "name": "Main"}
    ]
    assert stub.requests[0][1].tenant_id == "t1"


def test_a_conflict_from_the_catalog_keeps_its_run_id(rpc_error: Any) -> None:
    conflict = Conflict("a products run is already going", {"run_id": "r9"})
    status = rich_status(conflict)

    class RichError(rpc_error):
        def trailing_metadata(self) -> Any:
            return status.trailing_metadata

    def refusing(_request: object) -> None:
        raise RichError(grpc.StatusCode.FAILED_PRECONDITION, status.details)

    with pytest.raises(Conflict) as raised:
        call("catalog", refusing, object())

    assert raised.value.details == {"run_id": "r9"}
