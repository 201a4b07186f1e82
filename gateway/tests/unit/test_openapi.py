"""/openapi.json describes the settings routes, their choices and their problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def schema_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def test_openapi_lists_the_settings_routes(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()

    assert document["info"]["title"] == "Bridge"
    assert set(document["paths"]["/api/v1/settings"]) == {"get", "put"}
    put = document["paths"]["/api/v1/settings"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SettingsDocument"
    }
    assert [parameter["name"] for parameter in put["parameters"]] == ["confirm_reset"]
    for status in ("401", "409", "422", "503"):
        assert put["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "errors" in schema_of(document, "Problem")["properties"]
    assert "/dev/login" not in document["paths"]


def test_openapi_documents_the_choices_as_enums(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()

    products = schema_of(document, "ProductSettings")["properties"]
    orders = schema_of(document, "OrderSettings")["properties"]
    assert products["sync_mode"]["enum"] == ["fortnox_to_ikas", "ikas_to_fortnox"]
    assert orders["unit_source"]["enum"] == ["base_unit", "attribute"]
    assert orders["language"]["enum"] == ["always_en", "always_sv", "customer_else_en", "customer_else_sv"]
    assert orders["shipping"]["enum"] == ["freight", "order_row"]
    assert orders["send_when"]["enum"] == ["placed", "paid"]


def test_openapi_marks_every_key_required(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()

    for name, count in (("ProductSettings", 4), ("StockSettings", 3), ("OrderSettings", 17), ("SettingsDocument", 3)):
        schema = schema_of(document, name)
        assert len(schema["required"]) == count == len(schema["properties"])
        assert schema["additionalProperties"] is False


def test_no_documentation_page_loads_assets_from_a_cdn(anonymous: TestClient) -> None:
    assert anonymous.get("/docs").status_code == 404
    assert anonymous.get("/redoc").status_code == 404


def test_openapi_lists_the_product_and_sync_routes(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]

    expected = {
        "/api/v1/products": {"get"},
        "/api/v1/products/match": {"post"},
        "/api/v1/products/preview": {"post"},
        "/api/v1/products/relations": {"delete"},
        "/api/v1/products/{line_id}": {"get"},
        "/api/v1/products/{line_id}/relation": {"post", "delete"},
        "/api/v1/products/{line_id}/sync-stock": {"post"},
        "/api/v1/products/{line_id}/export": {"post"},
        "/api/v1/stock-locations": {"get"},
        "/api/v1/sync": {"post"},
        "/api/v1/sync/runs": {"get"},
        "/api/v1/sync/runs/{run_id}": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    assert set(paths["/api/v1/products/match"]["post"]["responses"]) >= {"202", "409"}
    assert set(paths["/api/v1/products/{line_id}/relation"]["delete"]["responses"]) >= {"204", "404"}
    listed = {parameter["name"] for parameter in paths["/api/v1/products"]["get"]["parameters"]}
    assert listed == {"page", "page_size", "q", "status"}
    one = paths["/api/v1/products/{line_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProductLineDetail"}
    assert set(one) >= {"200", "401", "404", "503"}
    assert one["404"]["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for action in ("relation", "sync-stock", "export"):  # actions answer the line without its timeline
        post = paths[f"/api/v1/products/{{line_id}}/{action}"]["post"]["responses"]["200"]
        assert post["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProductLine"}


def test_openapi_documents_the_line_statuses_and_page_limits(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()

    line = schema_of(document, "ProductLine")
    assert line["properties"]["status"]["enum"] == ["synced", "error", "pending", "unmatched", "ignored", "orphaned"]
    assert set(line["required"]) == set(line["properties"])
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert parameters["page_size"]["schema"]["maximum"] == 200
    assert parameters["page_size"]["schema"]["default"] == 50
    run = schema_of(document, "Run")["properties"]
    assert run["state"]["enum"] == ["queued", "running", "succeeded", "failed", "partially_failed"]
    detail = schema_of(document, "ProductLineDetail")
    assert set(detail["required"]) == set(detail["properties"]) == set(line["properties"]) | {"timeline"}
    entry = schema_of(document, "LineTimelineEntry")
    assert set(entry["properties"]) == set(entry["required"]) == {"at", "step", "outcome", "detail"}
    assert entry["properties"]["at"]["anyOf"][0]["format"] == "date-time"


def test_openapi_lists_the_order_routes_and_their_problems(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]

    expected = {
        "/api/v1/orders": {"get"},
        "/api/v1/orders/backfill": {"post"},
        "/api/v1/orders/{order_id}": {"get"},
        "/api/v1/orders/{order_id}/send": {"post"},
        "/api/v1/orders/{order_id}/invoice": {"post"},
        "/api/v1/orders/{order_id}/invoice/attach": {"post"},
        "/api/v1/orders/{order_id}/invoice/email": {"post"},
        "/api/v1/orders/{order_id}/invoice.pdf": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    listed = {parameter["name"] for parameter in paths["/api/v1/orders"]["get"]["parameters"]}
    assert listed == {"page", "page_size", "q", "status", "ordered_from", "ordered_to"}
    assert set(paths["/api/v1/orders"]["get"]["responses"]) >= {"200", "401", "422", "503"}
    for action in ("send", "invoice", "invoice/attach", "invoice/email"):
        post = paths[f"/api/v1/orders/{{order_id}}/{action}"]["post"]
        assert set(post["responses"]) >= {"200", "401", "403", "404", "409", "503"}, action
        assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Order"
        }
    one = paths["/api/v1/orders/{order_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderDetail"}
    assert one["404"]["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    pdf = paths["/api/v1/orders/{order_id}/invoice.pdf"]["get"]["responses"]
    assert pdf["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert set(pdf) >= {"401", "404", "409", "503"}
    backfill = paths["/api/v1/orders/backfill"]["post"]
    assert backfill["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BackfillRequest"
    }
    assert set(backfill["responses"]) >= {"202", "401", "403", "409", "422", "503"}
    assert backfill["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StartedRuns"
    }


def test_openapi_documents_the_order_document(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()

    order = schema_of(document, "Order")
    assert set(order["required"]) == set(order["properties"])
    assert order["properties"]["status"]["enum"] == ["error", "fulfilled", "created", "outgoing"]
    money = schema_of(document, "Money")
    assert money["properties"]["amount"]["type"] == "string"  # never a JSON number
    assert set(money["required"]) == {"amount", "currency"}
    email = schema_of(document, "InvoiceEmail")["properties"]
    assert email["state"]["enum"] == ["not_requested", "sent", "unknown"]
    detail = schema_of(document, "OrderDetail")
    assert "timeline" in detail["required"]
    assert set(schema_of(document, "TimelineEntry")["properties"]) == {
        "at",
        "step",
        "outcome",
        "detail",
        "request",
        "response",
    }
    page = schema_of(document, "OrderPage")
    assert set(page["required"]) == {"items", "total", "page", "page_size", "last_order_sync_at"}
    backfill = schema_of(document, "BackfillRequest")
    assert set(backfill["properties"]) == {"from", "to", "dry_run"}
    assert set(backfill["required"]) == {"from", "to"}
    assert backfill["properties"]["from"]["format"] == "date-time"
    assert backfill["additionalProperties"] is False
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert parameters["page_size"]["schema"]["maximum"] == 200
    assert parameters["status"]["schema"]["anyOf"][0]["enum"] == ["error", "fulfilled", "created", "outgoing"]
