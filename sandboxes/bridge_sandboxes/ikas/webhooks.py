"""Signed webhook delivery (fact sheet §8).

Each registered (app, scope) row gets a POST of JSON `{id, createdAt, scope, merchantId, authorizedAppId, data,
signature}` where `data` is the record as a JSON *string* and `signature` = hex HMAC-SHA256(key=the app's client
secret, msg=data as UTF-8). No signature header. A reply other than 200 is retried 3 times, then dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from bridge_sandboxes.ikas.graphql_api import json_default
from bridge_sandboxes.ikas.state import Delivery, Record, SandboxState, Store, new_id

RETRIES = 3


def sign(data: str, client_secret: str) -> str:
    return hmac.new(client_secret.encode(), data.encode(), hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Turns store events into deliveries, POSTed from a small thread pool."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ikas-webhooks")
        self._pending = 0
        self._idle = threading.Condition()

    def emit(self, store: Store, scope: str, record: Record) -> None:
        """Called with the state lock held: snapshot the payload now, send it later."""
        data = json.dumps(record, default=json_default, separators=(",", ":"))
        created_at = datetime.fromtimestamp(self._state.now_ms() / 1000, UTC).isoformat(timespec="milliseconds")
        for (app_id, webhook_scope), webhook in store.webhooks.items():
            if webhook_scope != scope or webhook["deleted"]:
                continue
            installation = next(
                (
                    i
                    for i in self._state.installations.values()
                    if i.authorized_app_id == app_id and i.store == store.name
                ),
                None,
            )
            if installation is None:
                continue
            body = {
                "id": new_id(),
                "createdAt": created_at.replace("+00:00", "Z"),  # [?] the string format is undocumented
                "scope": scope,
                "merchantId": store.merchant_id,
                "authorizedAppId": app_id,
                "data": data,
                "signature": sign(data, installation.client_secret),
            }
            delivery = Delivery(body["id"], store.name, scope, webhook["endpoint"], body)
            self._state.deliveries.append(delivery)
            with self._idle:
                self._pending += 1
            self._pool.submit(self._deliver, delivery)

    def _deliver(self, delivery: Delivery) -> None:
        try:
            for attempt in range(1 + RETRIES):
                if attempt:
                    time.sleep(self._state.webhook_retry_delay_s)
                try:
                    response = httpx.post(delivery.endpoint, json=delivery.body, timeout=10.0)
                    delivery.statuses.append(response.status_code)
                    if response.status_code == 200:
                        delivery.delivered = True
                        return
                except httpx.HTTPError as error:
                    delivery.statuses.append(type(error).__name__)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """For tests and /__admin/: wait until every queued delivery has finished (or given up)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
