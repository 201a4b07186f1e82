"""POST /webhooks/ikas: ikas's webhook deliveries (product.md §1.1, §1.6, §8).

The auth service verifies the signature over the exact bytes received, deduplicates by webhook id and
handles the uninstall; so the body goes on untouched, never parsed here. A bad signature is 401; any
body, however malformed, gets an answer other than 500.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bridge_gateway.problems import responses
from bridge_gateway.sessions import gateway_clients

router = APIRouter(tags=["webhooks"])


class WebhookReceipt(BaseModel):
    status: Literal["accepted", "duplicate", "ignored"]


@router.post("/webhooks/ikas", responses=responses(401, 422, 503))
async def ikas_webhook(request: Request) -> WebhookReceipt:
    """Takes one ikas webhook delivery; `duplicate` for one already taken (ikas retries until it sees a 200)."""
    body = await request.body()
    headers = {name: ", ".join(request.headers.getlist(name)) for name in request.headers}
    clients = gateway_clients(request)
    # The gRPC call blocks: off the event loop, like FastAPI runs the synchronous routes.
    result = await run_in_threadpool(clients.auth.handle_ikas_webhook, body, headers)
    return WebhookReceipt(status=result.outcome)
