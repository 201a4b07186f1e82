"""Every error is application/problem+json, with the status of the error table (style.md §2)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from bridge_platform.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert problem_of(response)["type"] == "about:blank"


def test_a_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/api/v1/settings")

    assert response.status_code == 405
    problem_of(response)
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("error", "status", "type_"),
    [
        (NotFound("no such thing"), 404, "urn:bridge:problem:not-found"),
        (PermissionDenied("not yours"), 403, "urn:bridge:problem:permission-denied"),
        (Unauthenticated("session expired"), 401, "urn:bridge:problem:unauthenticated"),
        (
            UpstreamRejected("fortnox", "Ogiltigt konto", upstream_code="2000359"),
            409,
            "urn:bridge:problem:upstream-rejected",
        ),
        (
            UpstreamUnavailable("service", "failed to connect to all addresses"),
            503,
            "urn:bridge:problem:service-unavailable",
        ),
    ],
)
def test_neutral_errors_map_to_their_status(
    client: TestClient, catalog: Any, error: Exception, status: int, type_: str
) -> None:
    catalog.get_error = error

    response = client.get("/api/v1/settings")

    assert response.status_code == status
    assert problem_of(response)["type"] == type_


def test_503_says_when_to_retry_and_hides_the_transport_details(client: TestClient, catalog: Any) -> None:
    catalog.get_error = UpstreamUnavailable("service", "failed to connect to all addresses; ipv4:10.0.0.7:50052")

    response = client.get("/api/v1/settings")

    assert response.headers["retry-after"] == "5"
    assert "10.0.0.7" not in response.text


def test_an_upstream_rejection_carries_its_code(client: TestClient, catalog: Any) -> None:
    catalog.get_error = UpstreamRejected("fortnox", "Ogiltigt konto", upstream_code="2000359")

    body = problem_of(client.get("/api/v1/settings"))

    assert (body["upstream"], body["upstream_code"]) == ("fortnox", "2000359")


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_a_raw_grpc_failure_that_escapes_a_client_is_503(
    client: TestClient, catalog: Any, rpc_error: Any, code: grpc.StatusCode
) -> None:
    catalog.get_error = rpc_error(code, "down")

    response = client.get("/api/v1/settings")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_an_unexpected_error_is_a_generic_500_and_logged(
    client: TestClient, catalog: Any, caplog: pytest.LogCaptureFixture
) -> None:
    catalog.get_error = RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/settings")

    assert response.status_code == 500
    body = problem_of(response)
    assert "secret internals" not in response.text
    assert body["type"] == "urn:bridge:problem:internal"
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


def test_an_internal_error_of_a_service_is_a_generic_500(client: TestClient, catalog: Any) -> None:
    catalog.get_error = DomainError("INTERNAL: internal error")

    response = client.get("/api/v1/settings")

    assert response.status_code == 500
    assert "INTERNAL" not in response.text
