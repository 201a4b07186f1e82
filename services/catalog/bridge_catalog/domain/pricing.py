"""Prices and VAT between ikas and Fortnox (product.md §3), in exact decimals.

ikas `sellPrice`s are VAT-inclusive unless the store's `isTaxExcludedOnPrices` says otherwise; a
product's VAT rate is the store country's rate unless one of its tags hits a `productOverrides` rate.
The Fortnox base price (FromQuantity 0 in the pre-selected price list) is net of VAT. Conversions
round to whole öre, half up, as Fortnox rounds amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

ORE: Final = Decimal("0.01")
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True)
class TagOverride:
    """A productOverrides entry without a state: products with any of these tags use `rate`."""

    tag_ids: tuple[str, ...]
    rate: Decimal


@dataclass(frozen=True)
class StoreTax:
    """What the store's tax settings say about product prices."""

    country_rate: Decimal
    overrides: Sequence[TagOverride] = ()
    prices_exclude_vat: bool = False

    def rate_for(self, tag_ids: Iterable[str]) -> Decimal:
        """The product's VAT rate in percent: the first override one of its tags hits, else the country's."""
        tags = set(tag_ids)
        for override in self.overrides:
            if tags.intersection(override.tag_ids):
                return override.rate
        return self.country_rate

    def to_fortnox(self, sell_price: Decimal, rate: Decimal) -> Decimal:
        """An ikas sellPrice -> the Fortnox base price (net of VAT), to the öre."""
        return ikas_to_net(sell_price, rate, prices_exclude_vat=self.prices_exclude_vat)

    def to_ikas(self, base_price: Decimal, rate: Decimal) -> Decimal:
        """A Fortnox base price (net) -> the ikas sellPrice in the store's convention, to the öre."""
        return net_to_ikas(base_price, rate, prices_exclude_vat=self.prices_exclude_vat)


def round_ore(amount: Decimal) -> Decimal:
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


def net_of(gross: Decimal, rate: Decimal) -> Decimal:
    return round_ore(gross * _HUNDRED / (_HUNDRED + rate))


def gross_of(net: Decimal, rate: Decimal) -> Decimal:
    return round_ore(net * (_HUNDRED + rate) / _HUNDRED)


def ikas_to_net(sell_price: Decimal, rate: Decimal, *, prices_exclude_vat: bool) -> Decimal:
    return round_ore(sell_price) if prices_exclude_vat else net_of(sell_price, rate)


def net_to_ikas(net: Decimal, rate: Decimal, *, prices_exclude_vat: bool) -> Decimal:
    return round_ore(net) if prices_exclude_vat else gross_of(net, rate)


def same_price(ikas_price: Decimal, fortnox_price: Decimal, rate: Decimal, *, prices_exclude_vat: bool) -> bool:
    """Whether the two sides already agree: the ikas price converts to the Fortnox one, or the Fortnox
    price converts to the ikas one (a round trip through öre may differ by one öre either way)."""
    return ikas_to_net(ikas_price, rate, prices_exclude_vat=prices_exclude_vat) == round_ore(
        fortnox_price
    ) or net_to_ikas(fortnox_price, rate, prices_exclude_vat=prices_exclude_vat) == round_ore(ikas_price)
