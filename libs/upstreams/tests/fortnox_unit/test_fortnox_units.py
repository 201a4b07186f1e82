"""Fortnox error translation, exact JSON numbers, Stockholm time, JWT tenant: no network."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bridge_platform.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.fortnox.client import FortnoxClient, decimal_of, dumps, stockholm_time
from bridge_upstreams.fortnox.errors import error_for, parse_error_body
from bridge_upstreams.fortnox.oauth import tenant_id_of
from bridge_upstreams.rate_budget import make_rate_budget
from bridge_upstreams.transport import UpstreamTransport


def test_error_information_in_lower_case() -> None:
    response = httpx.Response(
        400, json={"ErrorInformation": {"error": 1, "message": "Ett ogiltigt filter har använts", "code": 2000587}}
    )
    error = error_for(response, "search articles", safe_to_repeat=True)
    assert isinstance(error, UpstreamRejected)
    assert error.upstream_code == "2000587"
    assert error.extra["fortnox_message"] == "Ett ogiltigt filter har använts"
    assert "search filter" in error.detail
    assert "Fortnox code 2000587" in error.detail


def test_error_information_capitalised() -> None:
    response = httpx.Response(
        404, json={"ErrorInformation": {"Error": 1, "Message": "Kan inte hitta artikeln", "Code": "2000428"}}
    )
    assert parse_error_body(response).code == "2000428"
    error = error_for(response, "read article A1", safe_to_repeat=True)
    assert "article was not found" in error.detail


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (2004167, "Add a sales account for this VAT rate in Bridge's settings"),
        (2001304, "default accounts"),
        (2000663, "Reconnect Fortnox"),
        (2001101, "licence"),
        (2001103, "integration licence"),
        (2000637, "assign customer numbers"),
        (2000432, "Create the unit"),
    ],
)
def test_hints(code: int, hint: str) -> None:
    response = httpx.Response(400, json={"ErrorInformation": {"error": 1, "message": "Svensk text", "code": code}})
    error = error_for(response, "do it", safe_to_repeat=False)
    assert hint in error.extra["hint"]


def test_api_flat_shape_and_bare_401_and_garbage() -> None:
    flat = httpx.Response(403, json={"error": "missing.rights", "message": "Missing rights", "id": "x"})
    error = error_for(flat, "read stock", safe_to_repeat=True)
    assert error.upstream_code == "missing.rights"
    assert "warehouse" in error.detail
    bare = error_for(httpx.Response(401, json={"message": "unauthorized"}), "read", safe_to_repeat=True)
    assert bare.status == 401
    assert "Reconnect" in bare.extra["hint"]
    garbage = error_for(httpx.Response(400, content=b"<html>oops"), "read", safe_to_repeat=True)
    assert isinstance(garbage, UpstreamRejected)
    assert garbage.upstream_code is None


def test_500_is_unavailable_or_unknown() -> None:
    assert type(error_for(httpx.Response(500), "read", safe_to_repeat=True)) is UpstreamUnavailable
    assert isinstance(error_for(httpx.Response(500), "create", safe_to_repeat=False), OutcomeUnknown)


def test_decimals_are_sent_as_exact_json_numbers() -> None:
    body = {"Price": {"Price": Decimal("199.10"), "Q": [Decimal("0.1"), Decimal("-3")], "Name": "Kaffe 12.50"}}
    assert dumps(body) == b'{"Price":{"Price":199.10,"Q":[0.1,-3],"Name":"Kaffe 12.50"}}'
    assert json.loads(dumps(body), parse_float=Decimal)["Price"]["Price"] == Decimal("199.10")


def test_lenient_numbers() -> None:
    assert decimal_of("0") == 0
    assert decimal_of("12,5") == Decimal("12.5")
    assert decimal_of("") is None
    assert decimal_of(Decimal("1.10")) == Decimal("1.10")
    assert decimal_of(True) is None


def test_stockholm_time() -> None:
    assert stockholm_time(datetime(2026, 1, 15, 11, 30, tzinfo=UTC)) == "2026-01-15 12:30:00"
    assert stockholm_time(datetime(2026, 7, 15, 11, 30, tzinfo=UTC)) == "2026-07-15 13:30:00"
    with pytest.raises(ValueError, match="aware"):
        stockholm_time(datetime(2026, 1, 1))


def test_tenant_id_of_reads_the_unverified_jwt() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"tenantId": 4711}).encode()).decode().rstrip("=")
    assert tenant_id_of(f"eyJhbGciOiJIUzI1NiJ9.{payload}.sig") == "4711"
    with pytest.raises(UpstreamRejected):
        tenant_id_of("not-a-jwt")


class _Tokens:
    def access_token(self, tenant_id: str) -> str:
        return "t"

    def report_rejected(self, tenant_id: str, token: str) -> None:
        pass


@pytest.mark.parametrize(
    "answer",
    [
        {"Invoice": {"DocumentNumber": "55"}},
        {"Order": {"DocumentNumber": "7", "InvoiceReference": "55"}},
        {"Order": {"DocumentNumber": "7", "InvoiceReference": 55}},
    ],
)
def test_createinvoice_shapes(tmp_path: Path, answer: dict[str, object]) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.method == "PUT"
        assert request.url.path == "/3/orders/7/createinvoice"
        return httpx.Response(200, json=answer)

    with make_rate_budget("fortnox", [(100, 1.0)], url=None, data_dir=tmp_path) as budget:
        transport = UpstreamTransport(
            upstream="fortnox",
            http=httpx.Client(transport=httpx.MockTransport(handle)),
            tokens=_Tokens(),
            budget=budget,
        )
        assert FortnoxClient(transport, "https://api.fortnox.test").create_invoice_from_order("1", "7") == "55"


def test_createinvoice_unreadable_is_outcome_unknown(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"Order": {"DocumentNumber": "7", "InvoiceReference": "0"}})
        return httpx.Response(200, json={"Order": {"DocumentNumber": "7", "InvoiceReference": "0"}})

    with make_rate_budget("fortnox", [(100, 1.0)], url=None, data_dir=tmp_path) as budget:
        transport = UpstreamTransport(
            upstream="fortnox",
            http=httpx.Client(transport=httpx.MockTransport(handle)),
            tokens=_Tokens(),
            budget=budget,
        )
        with pytest.raises(OutcomeUnknown):
            FortnoxClient(transport, "https://api.fortnox.test").create_invoice_from_order("1", "7")
