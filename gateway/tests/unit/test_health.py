"""Liveness never looks at the services; readiness needs all three."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def test_healthz_is_ok_even_with_every_service_down(
    anonymous: TestClient, auth: Any, catalog: Any, orders: Any
) -> None:
    auth.serving = catalog.serving = orders.serving = False

    response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_every_service_serves(anonymous: TestClient) -> None:
    response = anonymous.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "services": {"auth": "serving", "catalog": "serving", "orders": "serving"},
    }


@pytest.mark.parametrize("down", ["auth", "catalog", "orders"])
def test_readyz_is_503_naming_the_service_that_does_not_serve(
    anonymous: TestClient, auth: Any, catalog: Any, orders: Any, down: str
) -> None:
    {"auth": auth, "catalog": catalog, "orders": orders}[down].serving = False

    response = anonymous.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert body["type"] == "urn:bridge:problem:service-unavailable"
    assert body["services"] == {name: "not_serving" if name == down else "serving" for name in body["services"]}
    assert set(body["services"]) == {"auth", "catalog", "orders"}
