"""Stock rules (product.md §4): absolute values in the direction of `products.sync_mode`.

`ikas_to_fortnox`: Fortnox stock = the variant's stock summed over all ikas locations.
`fortnox_to_ikas`: the ikas stock at the chosen location = Fortnox stock; other locations untouched.
With the Fortnox warehouse module, Fortnox stock is the balance at the chosen stock point, or the sum
over all stock points when none is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from bridge_platform.errors import Conflict


class StockLocationRequired(Conflict):
    """fortnox_to_ikas stock writes need `stock.ikas_stock_location_id`."""

    def __init__(self) -> None:
        super().__init__(
            "choose the ikas stock location that receives Fortnox stock (Settings, Stock) before syncing stock"
        )


def ikas_total(counts: Iterable[Decimal]) -> Decimal:
    """The variant's stock over all ikas locations."""
    return sum(counts, Decimal(0))


def fortnox_balance(balances: Mapping[str | None, Decimal], stock_point: str | None) -> Decimal:
    """Warehouse stock of one article: the chosen stock point's balance, or the sum of all."""
    if stock_point is None:
        return sum(balances.values(), Decimal(0))
    return balances.get(stock_point, Decimal(0))


def ikas_location_or_fail(location_id: str | None) -> str:
    if location_id is None:
        raise StockLocationRequired()
    return location_id


def needs_write(current: Decimal | None, target: Decimal) -> bool:
    """Absolute values: write only when the target side differs (None: unknown, so write)."""
    return current is None or current != target
