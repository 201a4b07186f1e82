"""Document totals computed like Fortnox (fortnox-api.md §5.5, §5.6), in exact Decimal arithmetic.

Used by orders and invoices. What the fact sheet says, and what is a guess ([?]):
- A row's `Total` is DeliveredQuantity x Price less the discount (§6.1: a DeliveredQuantity of 0 zeroes the
  row total; a live recording shows `Total: 0` for a row with DeliveredQuantity "0"). It is in the same terms
  as the price: gross when `VATIncluded` is true, net otherwise (§5.5 "Price (per unit; gross if VATIncluded)").
- Prices and quantities are kept to two decimals, rounded half up (a live recording: Price 1.125 -> 1.13,
  DeliveredQuantity 1.125 -> "1.13").
- `DiscountType` PERCENT (the default in the live recordings) takes that percentage off the row;
  AMOUNT takes that amount off the row as a whole, not per unit [?].
- VAT is computed per VAT rate over the summed row totals, each rounded to öre [?: per rate rather than per row].
  With VATIncluded the VAT is the part of the gross amount: gross x rate / (100 + rate).
- `Freight` and `AdministrationFee` are net amounts on which Fortnox adds its own VAT, also when VATIncluded is
  true (§5.5, [L]); the rate is the company's freight VAT rate, 25 % unless set [?]. Flip FREIGHT_IS_NET to read
  them as gross amounts instead (the fact sheet asks that either reading be a one-line change).
- `Net` = the rows excluding VAT; `Gross` = Net + Freight + AdministrationFee + TotalVAT, the total before
  rounding [?: the fact sheet does not define Gross; the brief says Total = Gross + RoundOff];
  `RoundOff` takes a SEK document to whole kronor (half up), and is 0 for other currencies [?];
  `Total` = Gross + RoundOff; `TotalToPay` = Total (no tax reduction in the sandbox).
- Amounts are in the document's currency; `CurrencyRate` (SEK per `CurrencyUnit` units) converts them to SEK
  for the booking and payments ([M] that documents carry these three fields).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

FREIGHT_IS_NET = True  # [?] Freight/AdministrationFee are net and get VAT on top (fact sheet §5.5 [L])
DEFAULT_FREIGHT_VAT_RATE = Decimal(25)  # [?] the company's VAT rate for freight and fees
STANDARD_VAT_RATES = frozenset({Decimal(0), Decimal(6), Decimal(12), Decimal(25)})  # Swedish rates

ZERO = Decimal(0)
CENT = Decimal("0.01")
KRONA = Decimal(1)
HUNDRED = Decimal(100)


def to_decimal(value: Any, default: Decimal = ZERO) -> Decimal:
    """Fortnox sends numbers as JSON numbers or as strings ("1", "0.5", ""); parse leniently (§4)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)  # 0.1 -> "0.1", never the binary expansion
    try:
        result = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as error:
        raise ValueError(f"not a number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return result


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    """An amount rounded to öre and normalized, so the JSON encoder writes 125 (not 125.0) and 1.13."""
    rounded = round2(value)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(KRONA)
    return rounded.normalize()


@dataclass(frozen=True)
class RowInput:
    quantity: Decimal  # DeliveredQuantity: what the row charges for
    price: Decimal  # per unit, gross when the document has VATIncluded
    vat: Decimal  # percent
    discount: Decimal = ZERO
    discount_type: str = "PERCENT"


@dataclass(frozen=True)
class RowTotals:
    total: Decimal  # in price terms (gross when VATIncluded)
    total_excluding_vat: Decimal
    price_excluding_vat: Decimal


@dataclass(frozen=True)
class VatLine:
    rate: Decimal
    basis: Decimal  # net amount at this rate
    vat: Decimal


@dataclass(frozen=True)
class DocumentTotals:
    rows: list[RowTotals]
    net: Decimal
    freight: Decimal
    freight_vat: Decimal
    administration_fee: Decimal
    administration_fee_vat: Decimal
    total_vat: Decimal
    gross: Decimal
    round_off: Decimal
    total: Decimal
    total_to_pay: Decimal
    vat_lines: list[VatLine] = field(default_factory=list)
    currency_rate: Decimal = KRONA
    currency_unit: Decimal = KRONA

    def in_sek(self, amount: Decimal) -> Decimal:
        """An amount in the document's currency converted to SEK with CurrencyRate/CurrencyUnit."""
        return round2(amount * self.currency_rate / (self.currency_unit or KRONA))

    def fields(self) -> dict[str, Decimal]:
        """The head fields Fortnox returns on an order or invoice (Decimals; written as JSON numbers)."""
        return {
            "Net": money(self.net),
            "Freight": money(self.freight),
            "FreightVAT": money(self.freight_vat),
            "AdministrationFee": money(self.administration_fee),
            "AdministrationFeeVAT": money(self.administration_fee_vat),
            "TotalVAT": money(self.total_vat),
            "Gross": money(self.gross),
            "RoundOff": money(self.round_off),
            "Total": money(self.total),
            "TotalToPay": money(self.total_to_pay),
        }


def row_totals(row: RowInput, *, vat_included: bool) -> RowTotals:
    quantity, price = round2(row.quantity), round2(row.price)
    amount = quantity * price
    if row.discount_type == "AMOUNT":  # [?] the discount amount applies to the row, not per unit
        amount -= row.discount
    else:
        amount -= amount * row.discount / HUNDRED
    total = round2(amount)
    if vat_included:
        divisor = (HUNDRED + row.vat) / HUNDRED
        return RowTotals(total, round2(total / divisor), round2(price / divisor))
    return RowTotals(total, total, price)


def _charge(amount: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net amount, VAT) of a freight or fee amount."""
    amount = round2(amount)
    if FREIGHT_IS_NET:
        return amount, round2(amount * rate / HUNDRED)
    vat = round2(amount * rate / (HUNDRED + rate))
    return amount - vat, vat


def compute(
    rows: Iterable[RowInput],
    *,
    vat_included: bool,
    freight: Decimal = ZERO,
    administration_fee: Decimal = ZERO,
    freight_vat_rate: Decimal = DEFAULT_FREIGHT_VAT_RATE,
    currency: str = "SEK",
    currency_rate: Decimal = KRONA,
    currency_unit: Decimal = KRONA,
    zero_vat: bool = False,
) -> DocumentTotals:
    """Totals of one document. `zero_vat`: the customer's VATType charges no VAT (reverse charge, export) [?]."""
    row_list = list(rows)
    if zero_vat:
        row_list = [RowInput(r.quantity, r.price, ZERO, r.discount, r.discount_type) for r in row_list]
        freight_vat_rate = ZERO
    computed = [row_totals(row, vat_included=vat_included) for row in row_list]
    sums: dict[Decimal, Decimal] = {}
    for row, totals in zip(row_list, computed, strict=True):
        sums[row.vat] = sums.get(row.vat, ZERO) + totals.total
    vat_lines: list[VatLine] = []
    for rate in sorted(sums):
        amount = sums[rate]
        if vat_included:
            vat = round2(amount * rate / (HUNDRED + rate))
            vat_lines.append(VatLine(rate, amount - vat, vat))
        else:
            vat_lines.append(VatLine(rate, amount, round2(amount * rate / HUNDRED)))
    net = sum((line.basis for line in vat_lines), ZERO)
    freight_net, freight_vat = _charge(freight, freight_vat_rate)
    fee_net, fee_vat = _charge(administration_fee, freight_vat_rate)
    total_vat = sum((line.vat for line in vat_lines), ZERO) + freight_vat + fee_vat
    gross = net + freight_net + fee_net + total_vat
    round_off = (gross.quantize(KRONA, rounding=ROUND_HALF_UP) - gross) if currency == "SEK" else ZERO
    total = gross + round_off
    return DocumentTotals(
        rows=computed,
        net=net,
        freight=freight_net if FREIGHT_IS_NET else round2(freight),
        freight_vat=freight_vat,
        administration_fee=fee_net if FREIGHT_IS_NET else round2(administration_fee),
        administration_fee_vat=fee_vat,
        total_vat=total_vat,
        gross=gross,
        round_off=round_off,
        total=total,
        total_to_pay=total,
        vat_lines=vat_lines,
        currency_rate=currency_rate,
        currency_unit=currency_unit,
    )
