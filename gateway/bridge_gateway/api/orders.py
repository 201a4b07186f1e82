"""Orders, their actions and the backfill (product.md §5, §8). The orders service owns every rule; these routes
take the tenant from the session, check the shape of the input and hand it on. Actions on one order answer 200
with the updated order; the backfill starts a run and answers 202 with it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime

from bridge_gateway.api.lists import Page
from bridge_gateway.models import (
    BackfillRequest,
    Order,
    OrderDetail,
    OrderPage,
    OrderStatus,
    StartedRun,
    StartedRuns,
)
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant
from bridge_platform.errors import FieldViolation, InvalidInput

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(description="Bridge's id of the order")]
OPERATION_TRIGGER: Final = "operation"
PDF_MEDIA_TYPE: Final = "application/pdf"
DEFAULT_PDF_NAME: Final = "invoice.pdf"
ACTION_PROBLEMS: Final = responses(401, 403, 404, 409, 503)
PDF_RESPONSE: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "the invoice PDF, as a download named in Content-Disposition",
        "content": {PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def refuse_backwards(start: datetime | None, end: datetime | None, *, start_name: str, end_name: str) -> None:
    """InvalidInput on `end_name` unless `start` comes before `end` (a range [start, end) that holds something)."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput(
            f"`{start_name}` must come before `{end_name}`",
            [FieldViolation(end_name, "invalid_range", f"must be after {start_name}")],
        )


@router.get("", responses=responses(401, 422, 503))
def list_orders(
    tenant: CurrentTenant,
    clients: Clients,
    page: Page,
    q: Annotated[
        str | None, Query(max_length=200, description="searches order number, customer name and e-mail")
    ] = None,
    status: Annotated[OrderStatus | None, Query(description="only orders with this status")] = None,
    ordered_from: Annotated[
        AwareDatetime | None, Query(description="only orders placed at or after this RFC 3339 date-time")
    ] = None,
    ordered_to: Annotated[
        AwareDatetime | None, Query(description="only orders placed before this RFC 3339 date-time")
    ] = None,
) -> OrderPage:
    """The tenant's orders, newest first, with the last order sync time."""
    refuse_backwards(ordered_from, ordered_to, start_name="ordered_from", end_name="ordered_to")
    return clients.orders.list_orders(
        tenant.id,
        page,
        query=(q or "").strip(),
        status=status,
        ordered_from=ordered_from,
        ordered_to=ordered_to,
    )


@router.post("/backfill", status_code=202, responses=responses(401, 403, 409, 422, 503))
def backfill_orders(request: BackfillRequest, tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a run that sends the orders placed in [from, to); with `dry_run` its planned actions list what
    would be sent, and nothing is written."""
    refuse_backwards(request.from_, request.to, start_name="from", end_name="to")
    run = clients.orders.start_backfill(
        tenant.id,
        ordered_from=request.from_,
        ordered_to=request.to,
        dry_run=request.dry_run,
        trigger=OPERATION_TRIGGER,
    )
    return StartedRuns(runs=[StartedRun(id=run.id, scope=run.scope or "backfill")])


@router.get("/{order_id}", responses=responses(401, 404, 503))
def get_order(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> OrderDetail:
    """One order with its timeline of attempts (requests and responses redacted)."""
    return clients.orders.get_order(tenant.id, order_id)


@router.post("/{order_id}/send", responses=ACTION_PROBLEMS)
def send_order(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> Order:
    """Sends the order to Fortnox now, whatever `sync_from` and `create_orders` say; never a second Fortnox order."""
    return clients.orders.send_order(tenant.id, order_id)


@router.post("/{order_id}/invoice", responses=ACTION_PROBLEMS)
def create_invoice(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> Order:
    """Creates the Fortnox invoice from the order's Fortnox order; never a second invoice."""
    return clients.orders.create_invoice(tenant.id, order_id)


@router.post("/{order_id}/invoice/attach", responses=ACTION_PROBLEMS)
def attach_invoice_pdf(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> Order:
    """Attaches the invoice PDF to the ikas order, unless it already is."""
    return clients.orders.attach_invoice_pdf(tenant.id, order_id)


@router.post("/{order_id}/invoice/email", responses=ACTION_PROBLEMS)
def resend_invoice_email(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> Order:
    """Asks Fortnox to e-mail the invoice again: the only way an e-mail is requested a second time."""
    return clients.orders.resend_invoice_email(tenant.id, order_id)


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name: plain for a safe ASCII name, else an ASCII fallback and the RFC 5987
    UTF-8 form, so no name can break the header (quotes, CR/LF, non-ASCII)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/;' else "_" for c in filename)
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(filename, safe='')}"


@router.get(
    "/{order_id}/invoice.pdf",
    response_class=Response,
    responses={**PDF_RESPONSE, **responses(401, 404, 409, 503)},
)
def download_invoice_pdf(order_id: OrderId, tenant: CurrentTenant, clients: Clients) -> Response:
    """The order's invoice as a PDF download, as Fortnox prints it."""
    pdf = clients.orders.get_invoice_pdf(tenant.id, order_id)
    filename = pdf.filename.strip() or DEFAULT_PDF_NAME
    return Response(
        content=pdf.content,
        media_type=PDF_MEDIA_TYPE,
        # An invoice carries the customer's personal data: no shared cache keeps it.
        headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store"},
    )
