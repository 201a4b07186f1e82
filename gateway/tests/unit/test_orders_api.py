"""Orders, per-order actions, the invoice PDF and the backfill (product.md §5, §8) over the fake orders service:
the fields of an order and its money, list validation and defaults, tenant walls, CSRF, the download headers
and the problems of the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

import pytest

from bridge_gateway.models import EntityError, TimelineEntry
from bridge_platform.errors import Conflict, UpstreamRejected, UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeOrders: TypeAlias = Any

ORDERS = "/api/v1/orders"
BACKFILL = "/api/v1/orders/backfill"
ORDER_FIELDS = {
    "id",
    "ikas_order_id",
    "ikas_order_number",
    "ikas_url",
    "ordered_at",
    "customer",
    "status",
    "waiting_reason",
    "error",
    "fortnox_state",
    "fortnox_order_number",
    "fortnox_invoice_number",
    "invoice_email",
    "invoice_attached_at",
    "ikas_total",
    "fortnox_total",
    "totals_match",
    "totals_explanation",
    "edited_after_invoice",
    "edit_advice",
}


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def fields_of(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["field"], error["code"]) for error in problem["errors"]]


# ---- the list


def test_the_list_shows_every_field_of_an_order_with_exact_money_and_the_last_sync_time(
    client: TestClient, orders: FakeOrders
) -> None:
    failed_at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    orders.last_order_sync_at = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    orders.add_order(
        "t_demo",
        "1001",
        id="order-a",
        ikas_order_id="ikas-a",
        ikas_url="https://demo.myikas.com/admin/order/detail/ikas-a",
        ordered_at=datetime(2026, 3, 4, 9, 30, tzinfo=UTC),
        customer={"name": "Vera Webb", "email": "vera@example.se"},
        status="error",
        waiting_reason=None,
        error=EntityError(
            message="Fortnox has no VAT account for 12 %", upstream_code="2000106", hint="Map it", at=failed_at
        ),
        fortnox_state="invoiced",
        fortnox_order_number="101",
        fortnox_invoice_number="9101",
        invoice_email={"state": "unknown", "at": datetime(2026, 3, 4, 9, 45, tzinfo=UTC)},
        invoice_attached_at=datetime(2026, 3, 4, 9, 50, tzinfo=UTC),
        ikas_total={"amount": "1249.50", "currency": "SEK"},
        fortnox_total={"amount": "1249.00", "currency": "SEK"},
        totals_match=False,
        totals_explanation="0.50 is Fortnox's round-off",
    )

    response = client.get(ORDERS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["page"], body["page_size"]) == (1, 1, 50)
    assert body["last_order_sync_at"] == "2026-03-05T06:00:00Z"
    assert body["items"] == [
        {
            "id": "order-a",
            "ikas_order_id": "ikas-a",
            "ikas_order_number": "1001",
            "ikas_url": "https://demo.myikas.com/admin/order/detail/ikas-a",
            "ordered_at": "2026-03-04T09:30:00Z",
            "customer": {"name": "Vera Webb", "email": "vera@example.se"},
            "status": "error",
            "waiting_reason": None,
            "error": {
                "message": "Fortnox has no VAT account for 12 %",
                "upstream_code": "2000106",
                "hint": "Map it",
                "at": "2026-03-04T10:00:00Z",
            },
            "fortnox_state": "invoiced",
            "fortnox_order_number": "101",
            "fortnox_invoice_number": "9101",
            "invoice_email": {"state": "unknown", "at": "2026-03-04T09:45:00Z"},
            "invoice_attached_at": "2026-03-04T09:50:00Z",
            "ikas_total": {"amount": "1249.50", "currency": "SEK"},
            "fortnox_total": {"amount": "1249.00", "currency": "SEK"},
            "totals_match": False,
            "totals_explanation": "0.50 is Fortnox's round-off",
            "edited_after_invoice": False,
            "edit_advice": None,
        }
    ]
    assert "timeline" not in body["items"][0]


def test_an_order_not_in_fortnox_has_nulls_and_no_email_requested(client: TestClient, orders: FakeOrders) -> None:
    orders.add_order("t_demo", "1002", waiting_reason="waiting for product relations: MUG-1, CUP-2")

    (item,) = client.get(ORDERS).json()["items"]

    assert set(item) == ORDER_FIELDS
    assert item["status"] == "outgoing"
    assert item["waiting_reason"] == "waiting for product relations: MUG-1, CUP-2"
    assert (item["fortnox_state"], item["fortnox_order_number"], item["fortnox_invoice_number"]) == (None, None, None)
    assert (item["fortnox_total"], item["totals_match"], item["invoice_attached_at"]) == (None, None, None)
    assert item["invoice_email"] == {"state": "not_requested", "at": None}
    assert isinstance(item["ikas_total"]["amount"], str)


def test_orders_are_listed_newest_first_page_by_page_for_the_tenant_only(
    client: TestClient, orders: FakeOrders
) -> None:
    ids = [orders.add_order("t_demo", number).id for number in ("1001", "1002", "1003")]
    orders.add_order("t_other", "2001")

    first = client.get(ORDERS, params={"page_size": 2}).json()
    second = client.get(ORDERS, params={"page_size": 2, "page": 2}).json()

    assert [order["id"] for order in first["items"]] == [ids[2], ids[1]]
    assert [order["id"] for order in second["items"]] == [ids[0]]
    assert (first["total"], first["page"], first["page_size"], second["page"]) == (3, 1, 2, 2)
    assert {request["tenant_id"] for request in orders.order_requests} == {"t_demo"}


def test_the_search_status_and_dates_reach_the_service(client: TestClient, orders: FakeOrders) -> None:
    mine = orders.add_order("t_demo", "1001", customer={"name": "Vera Webb", "email": "vera@example.se"})
    orders.add_order("t_demo", "1002", customer={"name": "Olle Berg", "email": "olle@example.se"})

    response = client.get(
        ORDERS,
        params={
            "q": "  VERA ",
            "status": "outgoing",
            "ordered_from": "2026-03-01T00:00:00+01:00",
            "ordered_to": "2026-04-01T00:00:00Z",
        },
    )

    assert [order["id"] for order in response.json()["items"]] == [mine.id]
    request = orders.order_requests[-1]
    assert (request["query"], request["status"]) == ("VERA", "outgoing")
    assert request["ordered_from"] == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert request["ordered_to"] == datetime(2026, 4, 1, tzinfo=UTC)
    client.get(ORDERS)
    assert orders.order_requests[-1] | {"page": None} == {
        "tenant_id": "t_demo",
        "page": None,
        "query": "",
        "status": None,
        "ordered_from": None,
        "ordered_to": None,
    }


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"page_size": 201}, "page_size", "less_than_equal"),
        ({"page_size": 0}, "page_size", "greater_than_equal"),
        ({"page": 0}, "page", "greater_than_equal"),
        ({"page": "two"}, "page", "invalid_type"),
        ({"status": "shipped"}, "status", "invalid_choice"),
        ({"q": "x" * 201}, "q", "string_too_long"),
        ({"ordered_from": "yesterday"}, "ordered_from", "invalid_type"),
        ({"ordered_from": "2026-03-01T00:00:00"}, "ordered_from", "timezone_aware"),
        (
            {"ordered_from": "2026-03-02T00:00:00Z", "ordered_to": "2026-03-01T00:00:00Z"},
            "ordered_to",
            "invalid_range",
        ),
    ],
)
def test_a_bad_list_request_is_422_and_never_reaches_the_service(
    client: TestClient, orders: FakeOrders, params: dict[str, Any], field: str, code: str
) -> None:
    problem = problem_of(client.get(ORDERS, params=params), 422)

    assert fields_of(problem) == [(field, code)]
    assert orders.order_requests == []


# ---- one order


def test_one_order_shows_its_timeline(client: TestClient, orders: FakeOrders) -> None:
    order = orders.add_order(
        "t_demo",
        "1001",
        timeline=[
            TimelineEntry(
                at=datetime(2026, 3, 4, 9, 31, tzinfo=UTC),
                step="create_fortnox_order",
                outcome="created",
                detail="Fortnox order 101",
                request='{"Order": {"ExternalInvoiceReference1": "ikas:ikas-1"}}',
                response='{"Order": {"DocumentNumber": "101"}}',
            ),
            TimelineEntry(
                at=datetime(2026, 3, 4, 9, 32, tzinfo=UTC),
                step="send_invoice_email",
                outcome="waiting",
                detail=None,
                request=None,
                response=None,
            ),
        ],
    )

    response = client.get(f"{ORDERS}/{order.id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ORDER_FIELDS | {"timeline"}
    assert body["timeline"] == [
        {
            "at": "2026-03-04T09:31:00Z",
            "step": "create_fortnox_order",
            "outcome": "created",
            "detail": "Fortnox order 101",
            "request": '{"Order": {"ExternalInvoiceReference1": "ikas:ikas-1"}}',
            "response": '{"Order": {"DocumentNumber": "101"}}',
        },
        {
            "at": "2026-03-04T09:32:00Z",
            "step": "send_invoice_email",
            "outcome": "waiting",
            "detail": None,
            "request": None,
            "response": None,
        },
    ]


def test_an_order_of_another_tenant_is_404_without_its_data(client: TestClient, orders: FakeOrders) -> None:
    theirs = orders.add_order("t_other", "2001", customer={"name": "Secret Person", "email": "secret@example.se"})

    problem = problem_of(client.get(f"{ORDERS}/{theirs.id}"), 404)

    assert "Secret" not in str(problem)
    assert "2001" not in str(problem)
    problem_of(client.get(f"{ORDERS}/no-such-order"), 404)


# ---- per-order actions


def test_send_now_answers_the_order_as_it_is_in_fortnox_and_never_sends_twice(
    client: TestClient, orders: FakeOrders
) -> None:
    order = orders.add_order("t_demo", "1001")

    sent = client.post(f"{ORDERS}/{order.id}/send")
    again = client.post(f"{ORDERS}/{order.id}/send")

    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert set(body) == ORDER_FIELDS
    assert (body["id"], body["status"], body["fortnox_state"], body["waiting_reason"]) == (
        order.id,
        "created",
        "order",
        None,
    )
    assert body["fortnox_total"] == {"amount": "149.50", "currency": "SEK"}
    assert again.json()["fortnox_order_number"] == body["fortnox_order_number"]
    assert orders.actions == [("send", "t_demo", order.id), ("send", "t_demo", order.id)]


def test_invoice_attach_and_email_each_answer_the_updated_order(client: TestClient, orders: FakeOrders) -> None:
    order = orders.add_order("t_demo", "1001")
    client.post(f"{ORDERS}/{order.id}/send")

    invoiced = client.post(f"{ORDERS}/{order.id}/invoice")
    attached = client.post(f"{ORDERS}/{order.id}/invoice/attach")
    emailed = client.post(f"{ORDERS}/{order.id}/invoice/email")

    for response in (invoiced, attached, emailed):
        assert response.status_code == 200, response.text
        assert set(response.json()) == ORDER_FIELDS
    assert invoiced.json()["fortnox_invoice_number"]
    assert invoiced.json()["fortnox_state"] == "invoiced"
    assert attached.json()["invoice_attached_at"] == "2026-03-09T10:00:00Z"
    assert emailed.json()["invoice_email"] == {"state": "sent", "at": "2026-03-09T11:00:00Z"}
    assert orders.emails == [("t_demo", invoiced.json()["fortnox_invoice_number"])]


def test_an_invoice_before_the_order_is_in_fortnox_is_409(client: TestClient, orders: FakeOrders) -> None:
    order = orders.add_order("t_demo", "1001")

    problem = problem_of(client.post(f"{ORDERS}/{order.id}/invoice"), 409)

    assert "send it first" in problem["detail"]
    problem_of(client.post(f"{ORDERS}/{order.id}/invoice/email"), 409)
    assert orders.emails == []


@pytest.mark.parametrize("action", ["send", "invoice", "invoice/attach", "invoice/email"])
def test_an_action_on_another_tenants_order_is_404_and_touches_nothing(
    client: TestClient, orders: FakeOrders, action: str
) -> None:
    theirs = orders.add_order("t_other", "2001")
    before = orders.order("t_other", theirs.id)

    problem_of(client.post(f"{ORDERS}/{theirs.id}/{action}"), 404)

    assert orders.order("t_other", theirs.id) == before
    assert orders.actions == []


@pytest.mark.parametrize("action", ["send", "invoice", "invoice/attach", "invoice/email"])
def test_an_action_needs_the_csrf_header_with_a_cookie(client: TestClient, orders: FakeOrders, action: str) -> None:
    order = orders.add_order("t_demo", "1001")
    del client.headers["X-Bridge-CSRF"]

    problem_of(client.post(f"{ORDERS}/{order.id}/{action}"), 403)

    assert orders.actions == []


def test_a_bearer_action_needs_no_csrf_header(anonymous: TestClient, auth: Any, orders: FakeOrders) -> None:
    order = orders.add_order("t_demo", "1001")
    headers = {"Authorization": f"Bearer {auth.dashboard_token('demo')}"}

    response = anonymous.post(f"{ORDERS}/{order.id}/send", headers=headers)

    assert response.status_code == 200, response.text
    assert orders.actions == [("send", "t_demo", order.id)]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UpstreamUnavailable("service", "orders is restarting"), 503),
        (UpstreamRejected("fortnox", "Kunden saknas", upstream_code="2000433"), 409),
        (Conflict("order 1001 is being sent by another worker"), 409),
    ],
)
def test_the_problems_of_the_service_come_through(
    client: TestClient, orders: FakeOrders, error: Exception, status: int
) -> None:
    order = orders.add_order("t_demo", "1001")
    orders.error = error

    response = client.post(f"{ORDERS}/{order.id}/send")

    problem = problem_of(response, status)
    if status == 503:
        assert response.headers["retry-after"] == "5"
    if isinstance(error, UpstreamRejected):
        assert (problem["upstream"], problem["upstream_code"]) == ("fortnox", "2000433")


# ---- the invoice PDF


def test_the_invoice_pdf_downloads_with_its_name(client: TestClient, orders: FakeOrders) -> None:
    order = orders.add_order("t_demo", "1001")
    client.post(f"{ORDERS}/{order.id}/send")
    number = client.post(f"{ORDERS}/{order.id}/invoice").json()["fortnox_invoice_number"]

    response = client.get(f"{ORDERS}/{order.id}/invoice.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content == orders.pdf


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("", 'attachment; filename="invoice.pdf"'),
        ("faktura 1001.pdf", 'attachment; filename="faktura 1001.pdf"'),
        (
            'Räkning "1001".pdf',
            "attachment; filename=\"R_kning _1001_.pdf\"; filename*=utf-8''" + quote('Räkning "1001".pdf', safe=""),
        ),
        (
            "a\r\nSet-Cookie: x=1.pdf",
            "attachment; filename=\"a__Set-Cookie: x=1.pdf\"; filename*=utf-8''a%0D%0ASet-Cookie%3A%20x%3D1.pdf",
        ),
        ("../../etc/passwd", "attachment; filename=\".._.._etc_passwd\"; filename*=utf-8''..%2F..%2Fetc%2Fpasswd"),
    ],
)
def test_no_file_name_can_break_the_header(
    client: TestClient, orders: FakeOrders, filename: str, expected: str
) -> None:
    order = orders.add_order("t_demo", "1001", fortnox_order_number="101", fortnox_invoice_number="9101")
    orders.pdf_filename = filename

    response = client.get(f"{ORDERS}/{order.id}/invoice.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == expected
    assert "set-cookie" not in response.headers


def test_an_order_without_an_invoice_has_no_pdf(client: TestClient, orders: FakeOrders) -> None:
    order = orders.add_order("t_demo", "1001")

    problem_of(client.get(f"{ORDERS}/{order.id}/invoice.pdf"), 409)


def test_the_pdf_of_another_tenants_order_is_404(client: TestClient, orders: FakeOrders) -> None:
    theirs = orders.add_order("t_other", "2001", fortnox_order_number="101", fortnox_invoice_number="9101")

    response = client.get(f"{ORDERS}/{theirs.id}/invoice.pdf")

    problem_of(response, 404)
    assert orders.pdf not in response.content


# ---- backfill


def test_a_backfill_starts_a_run_and_answers_202(client: TestClient, orders: FakeOrders) -> None:
    response = client.post(
        BACKFILL, json={"from": "2026-01-01T00:00:00+01:00", "to": "2026-02-01T00:00:00Z", "dry_run": True}
    )

    assert response.status_code == 202, response.text
    (run,) = response.json()["runs"]
    assert run == {"id": orders.runs["t_demo"][0].id, "scope": "backfill"}
    assert orders.started == [("t_demo", "backfill", "operation")]
    assert orders.backfills == [
        {
            "tenant_id": "t_demo",
            "ordered_from": datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
            "ordered_to": datetime(2026, 2, 1, tzinfo=UTC),
            "dry_run": True,
        }
    ]
    assert client.get(f"/api/v1/sync/runs/{run['id']}").json()["scope"] == "backfill"


def test_a_backfill_is_not_a_dry_run_unless_asked(client: TestClient, orders: FakeOrders) -> None:
    response = client.post(BACKFILL, json={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"})

    assert response.status_code == 202, response.text
    assert orders.backfills[0]["dry_run"] is False


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, [("to", "invalid_range")]),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-02-01T01:00:00+01:00"}, [("to", "invalid_range")]),
        ({"to": "2026-02-01T00:00:00Z"}, [("from", "required")]),
        ({"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00Z"}, [("from", "timezone_aware")]),
        ({"from": 1767225600, "to": "2026-02-01T00:00:00Z"}, [("from", "invalid_type")]),
        ({"from": "soon", "to": "2026-02-01T00:00:00Z"}, [("from", "invalid_type")]),
        (
            {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "dry_run": "true"},
            [("dry_run", "invalid_type")],
        ),
        (
            {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "dry_run": False, "force": True},
            [("force", "unknown_field")],
        ),
    ],
)
def test_a_bad_backfill_is_422_and_starts_nothing(
    client: TestClient, orders: FakeOrders, body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    problem = problem_of(client.post(BACKFILL, json=body), 422)

    assert fields_of(problem) == errors
    assert orders.started == []


def test_a_backfill_while_one_is_going_is_409_with_its_run_id(client: TestClient, orders: FakeOrders) -> None:
    going = orders.add_run("t_demo", "backfill", "running")

    problem = problem_of(
        client.post(BACKFILL, json={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}), 409
    )

    assert problem["run_id"] == going.id


def test_a_backfill_needs_the_csrf_header_with_a_cookie(client: TestClient, orders: FakeOrders) -> None:
    del client.headers["X-Bridge-CSRF"]

    problem_of(client.post(BACKFILL, json={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}), 403)

    assert orders.started == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ORDERS),
        ("GET", f"{ORDERS}/order-1"),
        ("POST", f"{ORDERS}/order-1/send"),
        ("POST", f"{ORDERS}/order-1/invoice"),
        ("POST", f"{ORDERS}/order-1/invoice/attach"),
        ("POST", f"{ORDERS}/order-1/invoice/email"),
        ("GET", f"{ORDERS}/order-1/invoice.pdf"),
        ("POST", BACKFILL),
    ],
)
def test_the_order_routes_need_a_session(anonymous: TestClient, orders: FakeOrders, method: str, path: str) -> None:
    orders.add_order("t_demo", "1001", fortnox_order_number="101", fortnox_invoice_number="9101")

    response = anonymous.request(method, path, json={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"})

    problem_of(response, 401)
    assert (orders.actions, orders.started, orders.order_requests) == ([], [], [])
