"""GET and PUT /api/v1/settings over fake services: strict input, merged validation, all-or-nothing saves."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_platform.errors import Conflict, DomainError, FieldViolation, InvalidInput, UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

# The fakes live in conftest.py, which tests cannot import; the fixtures hand them in.
FakeCatalog: TypeAlias = Any
FakeOrders: TypeAlias = Any

DEFAULT_DOCUMENT: dict[str, Any] = {
    "products": {
        "sync_mode": "fortnox_to_ikas",
        "sync_automatically": False,
        "create_new": False,
        "update_existing": False,
    },
    "stock": {"sync_automatically": False, "ikas_stock_location_id": None, "fortnox_stock_point": None},
    "orders": {
        "sync_automatically": False,
        "sync_from": None,
        "create_orders": True,
        "create_invoice": False,
        "sync_items_without_relation": False,
        "send_invoice_email": False,
        "unit_source": "base_unit",
        "unit_attribute": None,
        "language": "customer_else_en",
        "shipping": "freight",
        "shipping_article_number": None,
        "sales_accounts": {},
        "send_when": "placed",
        "register_payments": False,
        "modes_of_payment": {},
        "follow_cancellations": True,
        "follow_refunds": True,
    },
}


def a_document(**orders: Any) -> dict[str, Any]:
    """A valid, non-default document; `orders` overrides keys of its orders part."""
    return {
        "products": {
            "sync_mode": "ikas_to_fortnox",
            "sync_automatically": True,
            "create_new": True,
            "update_existing": False,
        },
        "stock": {"sync_automatically": True, "ikas_stock_location_id": "loc-1", "fortnox_stock_point": None},
        "orders": {
            **DEFAULT_DOCUMENT["orders"],
            "sync_from": "2026-01-01T00:00:00+01:00",
            "language": "always_sv",
            "shipping": "order_row",
            "sales_accounts": {"25": 3001, "12": 3002},
            "modes_of_payment": {"CREDIT_CARD": "KORT"},
            **orders,
        },
    }


def errors_of(response: Any) -> list[tuple[str, str]]:
    assert response.headers["content-type"] == "application/problem+json"
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def test_get_returns_the_defaults_before_the_first_save(client: TestClient) -> None:
    response = client.get("/api/v1/settings")

    assert response.status_code == 200
    assert response.json() == DEFAULT_DOCUMENT


def test_put_stores_both_parts_and_returns_the_stored_document(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    document = a_document()

    response = client.put("/api/v1/settings", json=document)

    assert response.status_code == 200
    assert response.json() == document
    assert client.get("/api/v1/settings").json() == document
    assert [(tenant, confirm) for tenant, _, confirm in catalog.updates] == [("t_demo", False)]
    assert [tenant for tenant, _ in orders.updates] == ["t_demo"]


def test_put_returns_what_the_services_stored(client: TestClient) -> None:
    document = a_document(sync_automatically=True, sync_from=None)

    response = client.put("/api/v1/settings", json=document)

    assert response.status_code == 200
    assert response.json()["orders"]["sync_from"] == "2026-11-24T12:00:00Z"  # filled in by orders


def test_confirm_reset_reaches_the_catalog(client: TestClient, catalog: FakeCatalog) -> None:
    response = client.put("/api/v1/settings", params={"confirm_reset": "true"}, json=a_document())

    assert response.status_code == 200
    assert [confirm for _, _, confirm in catalog.updates] == [True]


def broken(change: Any) -> dict[str, Any]:
    document = a_document()
    change(document)
    return document


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            broken(lambda d: d["products"].update(sync_automatically="true")),
            [("products.sync_automatically", "invalid_type")],
            id="wrong type",
        ),
        pytest.param(
            broken(lambda d: d["stock"].pop("fortnox_stock_point")),
            [("stock.fortnox_stock_point", "required")],
            id="missing nullable key",
        ),
        pytest.param(
            broken(lambda d: d["orders"].update(colour="blue")),
            [("orders.colour", "unknown_field")],
            id="unknown key",
        ),
        pytest.param(
            broken(lambda d: d["orders"].update(language="de")),
            [("orders.language", "invalid_choice")],
            id="bad enum",
        ),
        pytest.param(
            broken(lambda d: d["orders"]["sales_accounts"].update({"6": "3003"})),
            [("orders.sales_accounts.6", "invalid_type")],
            id="wrong type in a map",
        ),
        pytest.param(
            broken(lambda d: d.pop("stock")),
            [("stock", "required")],
            id="missing part",
        ),
        pytest.param(
            broken(lambda d: d["orders"].update(sync_from=20260101)),
            [("orders.sync_from", "invalid_type")],
            id="number for a date-time",
        ),
    ],
)
def test_a_malformed_document_is_422_naming_each_field(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders, document: dict[str, Any], expected: list[Any]
) -> None:
    response = client.put("/api/v1/settings", json=document)

    assert response.status_code == 422
    assert errors_of(response) == expected
    assert catalog.updates == []
    assert orders.updates == []


def test_every_malformed_field_is_listed_at_once(client: TestClient) -> None:
    document = a_document(language="de", colour="blue")
    document["products"]["create_new"] = 1
    del document["stock"]["ikas_stock_location_id"]

    response = client.put("/api/v1/settings", json=document)

    body = response.json()
    assert (response.status_code, body["type"], body["title"], body["status"]) == (
        422,
        "urn:bridge:problem:invalid-input",
        "Invalid input",
        422,
    )
    assert errors_of(response) == [
        ("products.create_new", "invalid_type"),
        ("stock.ikas_stock_location_id", "required"),
        ("orders.language", "invalid_choice"),
        ("orders.colour", "unknown_field"),
    ]
    assert all(error["message"] for error in body["errors"])


@pytest.mark.parametrize("body", [b'{"products": ', b"not json"])
def test_a_body_that_is_not_json_is_422(client: TestClient, body: bytes) -> None:
    response = client.put("/api/v1/settings", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert errors_of(response) == [("body", "invalid_json")]


def test_domain_violations_of_both_services_are_merged_and_nothing_is_written(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    catalog.violations = [FieldViolation("stock.ikas_stock_location_id", "unknown_location", "no such location")]
    orders.violations = [
        FieldViolation("orders.unit_attribute", "required", "is required when orders.unit_source is attribute"),
        FieldViolation("orders.sales_accounts.7", "invalid_vat_rate", "must be a VAT rate"),
    ]

    response = client.put("/api/v1/settings", json=a_document())

    assert response.status_code == 422
    assert errors_of(response) == [
        ("stock.ikas_stock_location_id", "unknown_location"),
        ("orders.unit_attribute", "required"),
        ("orders.sales_accounts.7", "invalid_vat_rate"),
    ]
    assert catalog.updates == []
    assert orders.updates == []
    assert client.get("/api/v1/settings").json() == DEFAULT_DOCUMENT


def test_violations_of_one_service_alone_stop_the_save(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    orders.violations = [FieldViolation("orders.shipping_article_number", "invalid_article_number", "too long")]

    response = client.put("/api/v1/settings", json=a_document())

    assert response.status_code == 422
    assert response.json()["detail"] == "the order settings are invalid"
    assert errors_of(response) == [("orders.shipping_article_number", "invalid_article_number")]
    assert catalog.updates == []
    assert orders.updates == []


def test_a_conflict_from_catalog_is_409_with_its_details_and_orders_is_not_written(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    catalog.update_errors = [Conflict("product relations exist; confirm the reset", {"run_id": "run-7"})]

    response = client.put("/api/v1/settings", json=a_document())

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:bridge:problem:conflict"
    assert body["detail"] == "product relations exist; confirm the reset"
    assert body["run_id"] == "run-7"
    assert orders.updates == []


def test_invalid_input_takes_precedence_over_a_conflict(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    catalog.update_errors = [Conflict("relations exist", {"run_id": "run-7"})]
    orders.violations = [FieldViolation("orders.language", "invalid_choice", "bad")]

    response = client.put("/api/v1/settings", json=a_document())

    assert response.status_code == 422
    assert catalog.updates == []
    assert orders.updates == []
    assert catalog.update_errors  # the conflicting write was never tried


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (UpstreamUnavailable("service", "orders is restarting"), 503),
        (InvalidInput("the order settings are invalid", [FieldViolation("orders.sync_from", "x", "y")]), 422),
        (DomainError("INTERNAL: internal error"), 500),
    ],
)
def test_when_orders_fails_the_catalog_part_is_restored_and_the_orders_error_returned(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders, failure: Exception, status: int
) -> None:
    first = a_document()
    assert client.put("/api/v1/settings", json=first).status_code == 200
    second = a_document()
    second["products"]["sync_mode"] = "fortnox_to_ikas"
    second["stock"]["ikas_stock_location_id"] = "loc-2"
    orders.update_error = failure

    response = client.put("/api/v1/settings", json=second)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert [settings.stock.ikas_stock_location_id for _, settings, _ in catalog.updates] == ["loc-1", "loc-2", "loc-1"]
    assert catalog.updates[-1][2] is True  # going back may change sync_mode again
    orders.update_error = None
    assert client.get("/api/v1/settings").json() == first


def test_the_restore_is_logged(client: TestClient, orders: FakeOrders, caplog: pytest.LogCaptureFixture) -> None:
    orders.update_error = UpstreamUnavailable("service", "down")

    with caplog.at_level(logging.WARNING, logger="bridge_gateway"):
        client.put("/api/v1/settings", json=a_document())

    [record] = [r for r in caplog.records if r.name == "bridge_gateway.api.settings"]
    assert "restored" in record.getMessage()
    assert (record.__dict__["tenant_id"], record.__dict__["cause"]) == ("t_demo", "UpstreamUnavailable")


def test_a_failed_restore_is_logged_and_the_orders_error_still_returned(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders, caplog: pytest.LogCaptureFixture
) -> None:
    orders.update_error = UpstreamUnavailable("service", "down")
    catalog.update_errors = [None, UpstreamUnavailable("service", "catalog went down too")]  # the restore fails

    with caplog.at_level(logging.ERROR, logger="bridge_gateway"):
        response = client.put("/api/v1/settings", json=a_document())

    assert response.status_code == 503
    assert response.json()["type"] == "urn:bridge:problem:service-unavailable"
    assert any("could not be restored" in r.getMessage() for r in caplog.records)


def test_each_tenant_has_its_own_document(client: TestClient, auth: Any) -> None:
    assert client.put("/api/v1/settings", json=a_document()).status_code == 200

    other = client.get("/api/v1/settings", headers={"Authorization": f"Bearer {auth.dashboard_token('another-store')}"})

    assert other.json() == DEFAULT_DOCUMENT


def test_the_tenant_never_comes_from_the_query(client: TestClient, catalog: FakeCatalog) -> None:
    response = client.put("/api/v1/settings", params={"tenant_id": "t_victim"}, json=a_document())

    assert response.status_code == 200
    assert list(catalog.stored) == ["t_demo"]


def test_a_bad_query_parameter_is_422_naming_it(client: TestClient, catalog: FakeCatalog) -> None:
    response = client.put("/api/v1/settings", params={"confirm_reset": "perhaps"}, json=a_document())

    assert response.status_code == 422
    assert errors_of(response) == [("confirm_reset", "invalid_type")]
    assert catalog.updates == []
