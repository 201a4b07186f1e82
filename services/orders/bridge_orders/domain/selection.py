"""Which ikas orders go to Fortnox, and when (product.md §5, "Which orders", with §2's order settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.settings import PAID, OrderSettings

NEVER_SENT_STATUSES: Final = frozenset({"DRAFT", "CANCELLED", "WAITING_UPSELL_ACTION"})
FAILED_PAYMENT: Final = "FAILED"
PAID_PAYMENT: Final = "PAID"

WAITING_FOR_MANUAL_SENDING: Final = "waiting for manual sending (orders.create_orders is off)"
WAITING_FOR_PAYMENT: Final = "waiting for payment (orders.send_when is paid)"
WAITING_FOR_SCHEDULE: Final = "waiting for the schedule"


@dataclass(frozen=True)
class Selection:
    """`send`: go ahead now. Otherwise `waiting_reason` (listed as outgoing) or `skip_reason` (not listed)."""

    send: bool
    waiting_reason: str | None = None
    skip_reason: str | None = None


def select(order: IkasOrder, settings: OrderSettings, *, manual: bool) -> Selection:
    """The rules of §5. `manual` is "send now" by hand: it ignores sync_from and create_orders (the merchant
    asks for this order), never the order's own state."""
    if order.status in NEVER_SENT_STATUSES:
        return Selection(False, skip_reason=f"the ikas order is {order.status.lower()}")
    if order.payment_status == FAILED_PAYMENT:
        return Selection(False, skip_reason="the payment of the ikas order failed")
    if not manual and (settings.sync_from is None or order.ordered_at < settings.sync_from):
        return Selection(False, skip_reason="placed before orders.sync_from")
    if settings.send_when == PAID and order.payment_status != PAID_PAYMENT:
        return Selection(False, waiting_reason=WAITING_FOR_PAYMENT)
    if not manual and not settings.create_orders:
        return Selection(False, waiting_reason=WAITING_FOR_MANUAL_SENDING)
    return Selection(True)
