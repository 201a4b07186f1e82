"""The totals check after a Fortnox order exists (product.md §5, "Totals check"); exact decimals.

Fortnox's `Total - RoundOff` (the total before rounding to whole kronor) is compared with ikas's
`totalFinalPrice`, and `TotalVAT` with the sum of ikas's tax lines. A difference of 0.01 or more in either is
flagged. The explanation names, separately, the round-off (never a difference: it is taken out before comparing)
and the part of a difference that Fortnox's own VAT on the freight accounts for: in `freight` mode Bridge sends
the shipping net and Fortnox adds VAT at the company's freight rate, which need not be the rate ikas charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.order_record import Money

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)


@dataclass(frozen=True)
class FortnoxTotals:
    """The head totals of a Fortnox order (fortnox-api.md §5.5, read-only fields)."""

    total: Decimal
    total_vat: Decimal | None
    round_off: Decimal | None
    freight_vat: Decimal | None
    currency: str


@dataclass(frozen=True)
class TotalsCheck:
    fortnox_total: Money
    matches: bool
    explanation: str


def _amount(value: Decimal, currency: str) -> str:
    return f"{value.quantize(CENT):f} {currency}"


def _signed(value: Decimal, currency: str) -> str:
    return ("+" if value > 0 else "") + _amount(value, currency)


def ikas_shipping_vat(order: IkasOrder, *, prices_include_vat: bool) -> Decimal:
    """The VAT ikas charged on shipping (its tax lines include it, ikas-api.md §6.3)."""
    vat = ZERO
    for line in order.shipping_lines:
        rate = line.vat_rate or ZERO
        if rate:
            vat += line.final_price * rate / ((100 + rate) if prices_include_vat else 100)
    return vat.quantize(CENT)


def check_totals(
    order: IkasOrder, fortnox: FortnoxTotals, *, freight_mode: bool, prices_include_vat: bool
) -> TotalsCheck:
    currency = fortnox.currency or order.currency
    round_off = fortnox.round_off or ZERO
    before_rounding = fortnox.total - round_off
    total_difference = before_rounding - order.total_final_price
    vat_difference = (fortnox.total_vat - order.total_vat) if fortnox.total_vat is not None else ZERO
    matches = abs(total_difference) < CENT and abs(vat_difference) < CENT

    sentences: list[str] = []
    if round_off:
        sentences.append(
            f"Fortnox rounds the total to whole kronor: its total {_amount(fortnox.total, currency)} includes a "
            f"round-off of {_signed(round_off, currency)}, which is not counted as a difference."
        )
    if not matches:
        sentences.append(
            f"Fortnox's total before rounding is {_amount(before_rounding, currency)} and ikas's total is "
            f"{_amount(order.total_final_price, currency)}: a difference of {_signed(total_difference, currency)}."
        )
        if abs(vat_difference) >= CENT and fortnox.total_vat is not None:
            sentences.append(
                f"Fortnox's VAT is {_amount(fortnox.total_vat, currency)} and the ikas tax lines add up to "
                f"{_amount(order.total_vat, currency)} ({_signed(vat_difference, currency)})."
            )
        explained = ZERO
        if freight_mode and order.shipping_lines and fortnox.freight_vat is not None:
            charged = ikas_shipping_vat(order, prices_include_vat=prices_include_vat)
            freight_part = fortnox.freight_vat - charged
            if abs(freight_part) >= CENT:
                explained = freight_part
                sentences.append(
                    f"Of it, {_signed(freight_part, currency)} is Fortnox's VAT on the freight: Fortnox adds "
                    f"{_amount(fortnox.freight_vat, currency)} VAT to the freight, where ikas charged "
                    f"{_amount(charged, currency)} VAT on shipping."
                )
        rest = total_difference - explained
        if abs(rest) >= CENT:
            sentences.append(
                f"{'The remaining' if explained else 'The'} {_signed(rest, currency)} is not explained by the "
                "freight VAT or the round-off: compare the rows of the Fortnox order with the ikas order."
            )
    return TotalsCheck(Money(fortnox.total, currency), matches, " ".join(sentences))
