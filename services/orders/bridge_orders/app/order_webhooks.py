"""HandleOrderWebhook: an ikas order webhook (verified and deduplicated by the auth service) as a durable
wake-up for that order (product.md §5: webhooks are wake-ups that re-read the order).

The wake-up is committed before the webhook is answered, and the orders run drains the pending wake-ups, so:
- a crash after answering loses nothing (the row waits for the next run, at the latest the scheduled one);
- created+updated of one order, or a repeat, collapse into one row: the order is processed once per drain;
- a webhook that comes while an orders run is going is never lost: the running run may already have read
  the pending wake-ups, so exactly one follow-up run is queued behind it.
"""

from __future__ import annotations

from typing import Final

from bridge_orders.app.order_runs import ORDERS
from bridge_orders.app.ports import Clock, RunLedger, UnitOfWorkFactory, WakeUps
from bridge_platform.errors import FieldViolation, InvalidInput

ORDER_SCOPES: Final = ("store/order/created", "store/order/updated")
WEBHOOK: Final = "webhook"


class HandleOrderWebhook:
    def __init__(self, uow_for: UnitOfWorkFactory, wake_ups: WakeUps, ledger: RunLedger, clock: Clock) -> None:
        self._uow_for, self._wake_ups, self._ledger, self._clock = uow_for, wake_ups, ledger, clock

    def __call__(self, tenant_id: str, ikas_order_id: str, scope: str) -> bool:
        """True when the wake-up was recorded and a run will process it; False when the tenant's automatic
        order sync is off (nothing is done)."""
        violations = [
            FieldViolation(name, "required", "is required")
            for name, value in (("tenant_id", tenant_id), ("ikas_order_id", ikas_order_id))
            if not value.strip()
        ]
        if scope not in ORDER_SCOPES:
            violations.append(FieldViolation("scope", "invalid_choice", f"must be one of {', '.join(ORDER_SCOPES)}"))
        if violations:
            raise InvalidInput("not an order webhook", violations)
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
        if stored is None or not stored.settings.sync_automatically:
            return False
        self._wake_ups.add(tenant_id, ikas_order_id, scope, self._clock.now())
        self._wake(tenant_id)
        return True

    def _wake(self, tenant_id: str) -> None:
        for _ in range(2):
            run_id, created = self._ledger.submit(tenant_id, ORDERS, WEBHOOK, {})
            if created:
                return
            run = self._ledger.get(tenant_id, run_id)
            if run is None or run.state in ("queued",):
                return  # a queued run drains the wake-up when it starts
            if run.state == "running":
                self._ledger.follow_up(tenant_id, ORDERS, run_id, WEBHOOK)
                return
            # the run ended between the two reads: submit again, once
        self._ledger.submit(tenant_id, ORDERS, WEBHOOK, {})
