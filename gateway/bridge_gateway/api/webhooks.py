"""POST /webhooks/ikas: ikas's webhook deliveries (product.md §1.1, §1.6, §8).

The auth service verifies the signature over the exact bytes received, deduplicates by webhook id and
handles the uninstall; so the body goes on untouched, never parsed here. A bad signature is 401; any
body, however malformed, gets an answer other than 500.

An accepted delivery is then handed to the service that owns its scope (WAKE_UPS). That is a wake-up, not
the only road: a wake-up that fails is logged and the delivery still answers 200, since ikas would only
deliver it again and the scheduled sync finds the change anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import WebhookResult
from bridge_gateway.problems import responses
from bridge_gateway.sessions import gateway_clients

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

WakeUp = Callable[[GatewayClients, WebhookResult], object]


def wake_orders(clients: GatewayClients, result: WebhookResult) -> object:
    """The orders service re-reads the ikas order (entity_id) and sends it if it is due."""
    return clients.orders.handle_order_webhook(result.tenant_id, result.entity_id, result.scope)


def wake_catalog(scope: str) -> WakeUp:
    """The catalog's `products` or `stock` sync of the tenant: a run now, or one more after the run going; the
    catalog starts nothing while that scope's automatic sync is off (the webhook carries no settings)."""

    def wake(clients: GatewayClients, result: WebhookResult) -> object:
        return clients.catalog.wake_sync(result.tenant_id, scope)

    return wake


# ikas webhook scope -> who is woken by an accepted delivery of it.
WAKE_UPS: Final[dict[str, WakeUp]] = {
    "store/order/created": wake_orders,
    "store/order/updated": wake_orders,
    "store/product/created": wake_catalog("products"),
    "store/product/updated": wake_catalog("products"),
    "store/stock/created": wake_catalog("stock"),
    "store/stock/updated": wake_catalog("stock"),
}


def wake_owner(clients: GatewayClients, result: WebhookResult) -> None:
    wake_up = WAKE_UPS.get(result.scope)
    if result.outcome != "accepted" or wake_up is None or not result.tenant_id:
        return
    try:
        wake_up(clients, result)
    except Exception:  # any failure: the delivery is taken all the same, and polling covers the gap
        log.warning(
            "could not pass on the %s webhook of tenant %s; the scheduled sync will find the change",
            result.scope,
            result.tenant_id,
            exc_info=True,
        )


# The body travels on to auth in one gRPC message, whose ceiling is 4 MiB; a larger one was a 503 (the call
# failed with RESOURCE_EXHAUSTED). An ikas delivery is one record, far below this.
MAX_WEBHOOK_BYTES: Final = 3 * 1024 * 1024
TOO_LARGE: Final = f"a webhook delivery may be at most {MAX_WEBHOOK_BYTES} bytes"


class WebhookReceipt(BaseModel):
    status: Literal["accepted", "duplicate", "ignored"]


@router.post("/webhooks/ikas", responses=responses(401, 413, 422, 503))
async def ikas_webhook(request: Request) -> WebhookReceipt:
    """Takes one ikas webhook delivery; `duplicate` for one already taken (ikas retries until it sees a 200)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise HTTPException(413, TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise HTTPException(413, TOO_LARGE)
    headers = {name: ", ".join(request.headers.getlist(name)) for name in request.headers}
    clients = gateway_clients(request)
    # The gRPC call blocks: off the event loop, like FastAPI runs the synchronous routes.
    result = await run_in_threadpool(clients.auth.handle_ikas_webhook, bytes(body), headers)
    await run_in_threadpool(wake_owner, clients, result)
    return WebhookReceipt(status=result.outcome)
