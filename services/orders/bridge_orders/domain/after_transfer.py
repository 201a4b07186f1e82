"""What changed in an ikas order after it reached Fortnox, and what the Fortnox documents need (product.md §5b).

Bridge remembers, per order, what it last made Fortnox agree with (`Followed`): three fingerprints of the ikas
order, cheap to compute from the order alone, so that an order re-read without changes costs no upstream call:
- `gross`: every line whatever its status (a partial refund splits a line in two; both halves count), all shipping,
  gift packaging, adjustments and the billing address: what was bought. It changes only when the order is edited.
- `active`: what is still sold (lines neither cancelled nor refunded, shipping not refunded): the Fortnox order's
  content while it is not invoiced.
- `credited`: the refunded and cancelled part (`removed`) the documents reflect: left out of the Fortnox order
  before invoicing, or credited after.
Rows are compared by what they are (article number or free text, description, unit price, VAT) and their
quantities summed, so a split line and a whole one compare alike.

Before invoicing, a changed `active` or `gross` updates the Fortnox order (`row_update`: the fact sheet's RowId
rules, §5.5). After invoicing, a changed `gross` flags the order edited_after_invoice (an invoice is not edited; the
advice is to credit and re-invoice), and a changed `removed` is credited (`credit_rows`): per row what the invoice
holds beyond what is still sold, never more than ikas took back, less what is credited already, as Fortnox's own
credit invoices say (they are the truth, not Bridge's memory).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from bridge_orders.domain.ikas_order import IkasAddress, IkasLine, IkasOrder, IkasShippingLine
from bridge_orders.domain.mapping import OrderRow
from bridge_orders.domain.settings import OrderSettings

ZERO: Final = Decimal(0)
CANCELLED: Final = "CANCELLED"
REFUNDED: Final = "REFUNDED"
PARTIALLY_REFUNDED: Final = "PARTIALLY_REFUNDED"
PARTIALLY_CANCELLED: Final = "PARTIALLY_CANCELLED"
EDITED_AFTER_INVOICE_ADVICE: Final = (
    "the ikas order changed after its Fortnox invoice was made, and an invoice cannot be edited: credit the invoice "
    "in Fortnox and invoice the order again (or send the order again after crediting)"
)


@dataclass(frozen=True)
class RowKey:
    """What a document row is, whatever its quantity: equal keys are the same goods at the same price."""

    article_number: str | None
    description: str
    price: Decimal
    vat: Decimal

    @staticmethod
    def of(article_number: str | None, description: str | None, price: Decimal | None, vat: Decimal | None) -> RowKey:
        return RowKey((article_number or "").strip() or None, (description or "").strip(), price or ZERO, vat or ZERO)


@dataclass(frozen=True)
class FortnoxRow:
    """A row of a Fortnox order or invoice as read; `quantity` is the delivered (invoiced) quantity."""

    row_id: str | None
    article_number: str | None
    description: str
    quantity: Decimal
    price: Decimal
    vat: Decimal
    account_number: int | None = None
    unit: str | None = None

    @property
    def key(self) -> RowKey:
        return RowKey.of(self.article_number, self.description, self.price, self.vat)


def key_of(row: OrderRow) -> RowKey:
    return RowKey.of(row.article_number, row.description, row.price, row.vat)


def quantities(rows: Iterable[FortnoxRow]) -> dict[RowKey, Decimal]:
    summed: dict[RowKey, Decimal] = {}
    for row in rows:
        summed[row.key] = summed.get(row.key, ZERO) + row.quantity
    return summed


# -- fingerprints of the ikas order ----------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return format((value or ZERO).normalize(), "f")


def _lines_print(lines: Iterable[IkasLine]) -> list[list[str]]:
    summed: dict[tuple[str, str, str], Decimal] = {}
    for line in lines:
        identity = (line.variant_id or line.sku or line.name, _money(line.unit_price), _money(line.vat_rate))
        summed[identity] = summed.get(identity, ZERO) + line.quantity
    return sorted([*identity, _money(quantity)] for identity, quantity in summed.items() if quantity)


def _shipping_print(lines: Iterable[IkasShippingLine]) -> list[list[str]]:
    return sorted([s.title, _money(s.final_price), _money(s.vat_rate)] for s in lines)


def _address_print(address: IkasAddress | None) -> list[str]:
    if address is None:
        return []
    fields = (
        address.company,
        address.first_name,
        address.last_name,
        address.address_line1,
        address.address_line2,
        address.postal_code,
        address.city,
        address.country_iso2,
    )
    return [(value or "").strip() for value in fields]


def _dumped(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Followed:
    """What Bridge last made the order's Fortnox documents agree with (the module docstring)."""

    gross: str
    active: str
    credited: str

    def to_json(self) -> dict[str, str]:
        return {"gross": self.gross, "active": self.active, "credited": self.credited}

    @staticmethod
    def from_json(value: Mapping[str, str] | None) -> Followed | None:
        if not value:
            return None
        return Followed(value.get("gross", ""), value.get("active", ""), value.get("credited", ""))


@dataclass(frozen=True)
class OrderChanges:
    """The ikas order as §5b sees it: what was bought, what is still sold, what was taken back."""

    gross: str
    active: str
    removed: str
    active_lines: tuple[IkasLine, ...]
    removed_lines: tuple[IkasLine, ...]
    removed_shipping: tuple[IkasShippingLine, ...]
    everything_removed: bool  # the whole order is refunded or cancelled

    @property
    def takes_back(self) -> bool:
        """Whether ikas took anything back that Bridge follows."""
        return self.everything_removed or bool(self.removed_lines or self.removed_shipping)

    @staticmethod
    def of(order: IkasOrder, settings: OrderSettings) -> OrderChanges:
        """`settings` says which removals are followed: a refund or a cancellation not followed counts as sold."""
        followed_statuses = {
            s for s, on in ((REFUNDED, settings.follow_refunds), (CANCELLED, settings.follow_cancellations)) if on
        }
        # A line cancelled before transfer never was in Fortnox: cancelled lines are never "still sold".
        active = tuple(
            line for line in order.lines if line.status not in followed_statuses and line.status != CANCELLED
        )
        removed = tuple(line for line in order.lines if line.status in followed_statuses)
        refunded_shipping = order.refunded_shipping_lines if settings.follow_refunds else ()
        everything = (order.status == REFUNDED and settings.follow_refunds) or (
            order.status == CANCELLED and settings.follow_cancellations
        )
        gross = _dumped(
            {
                "lines": _lines_print(order.lines),
                "shipping": _shipping_print((*order.shipping_lines, *order.refunded_shipping_lines)),
                "gifts": sorted([_money(g.price), _money(g.vat_rate)] for g in order.gift_package_lines),
                "adjustments": sorted([a.name, a.type, _money(a.amount), a.amount_type] for a in order.adjustments),
                "address": _address_print(order.billing_address),
            }
        )
        shipping_sold = (
            order.shipping_lines
            if settings.follow_refunds
            else (
                *order.shipping_lines,
                *order.refunded_shipping_lines,
            )
        )
        active_print = _dumped({"lines": _lines_print(active), "shipping": _shipping_print(shipping_sold)})
        removed_print = _dumped(
            {"everything": everything, "lines": _lines_print(removed), "shipping": _shipping_print(refunded_shipping)}
        )
        return OrderChanges(
            gross,
            active_print,
            removed_print,
            active,
            removed,
            tuple(refunded_shipping),
            everything,
        )

    def baseline(self) -> Followed:
        """What a Fortnox order just made from this ikas order agrees with: it left out what was taken back."""
        return Followed(self.gross, self.active, self.removed)


# -- the Fortnox order's rows after an edit (RowId rules, fortnox-api.md §5.5) -------------------------------------


@dataclass(frozen=True)
class RowPut:
    """One row of an order update: `row_id` alone keeps that row unchanged; `row_id` with `row` updates its
    quantity; `row` alone adds a row. Rows of the order left out of the update are deleted."""

    row_id: str | None
    row: OrderRow | None = None


def row_update(current: Sequence[FortnoxRow], wanted: Sequence[OrderRow]) -> list[RowPut] | None:
    """The rows to PUT so the Fortnox order has exactly the `wanted` rows; None when it has them already.

    A current row whose key is wanted is kept by its RowId (its quantity updated when that differs), so Fortnox
    keeps what it added to it; a second current row of the same key, and every row no longer wanted, is left out
    (deleted); wanted rows without a current one are added. RowIds are regenerated by every update: the caller
    reads them again (from the answer) before the next one."""
    wanted_quantity: dict[RowKey, Decimal] = {}
    template: dict[RowKey, OrderRow] = {}
    for row in wanted:
        key = key_of(row)
        wanted_quantity[key] = wanted_quantity.get(key, ZERO) + row.quantity
        template.setdefault(key, row)
    puts: list[RowPut] = []
    placed: set[RowKey] = set()
    changed = False
    for existing in current:
        key = existing.key
        if key in placed or not wanted_quantity.get(key) or existing.row_id is None:
            changed = True  # deleted by leaving it out
            continue
        placed.add(key)
        quantity = wanted_quantity[key]
        if quantity == existing.quantity:
            puts.append(RowPut(existing.row_id))
        else:
            puts.append(RowPut(existing.row_id, _with_quantity(template[key], quantity)))
            changed = True
    for key, quantity in wanted_quantity.items():
        if key not in placed and quantity:
            puts.append(RowPut(None, _with_quantity(template[key], quantity)))
            changed = True
    return puts if changed else None


def _with_quantity(row: OrderRow, quantity: Decimal) -> OrderRow:
    return OrderRow(row.article_number, row.description, quantity, row.price, row.vat, row.account_number, row.unit)


def rows_differ(current: Sequence[FortnoxRow], wanted: Sequence[OrderRow]) -> bool:
    """Whether the re-read rows are not the wanted ones (what an update must have achieved)."""
    summed: dict[RowKey, Decimal] = {}
    for row in wanted:
        summed[key_of(row)] = summed.get(key_of(row), ZERO) + row.quantity
    return {k: q for k, q in quantities(current).items() if q} != {k: q for k, q in summed.items() if q}


# -- credits (fortnox-api.md §5.6) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditRow:
    """One row of a credit invoice: the invoice's row it credits and the (positive) quantity credited."""

    invoiced: FortnoxRow
    quantity: Decimal


@dataclass(frozen=True)
class CreditPlan:
    rows: tuple[CreditRow, ...]
    freight: Decimal  # the freight to credit (0: none)
    whole_invoice: bool  # nothing is credited yet and everything is to be: Fortnox's own credit action does it
    notes: tuple[str, ...]  # what was taken back in ikas but cannot be credited (not invoiced, or credited already)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.freight


class InvoicedDocument(Protocol):
    """The invoice or a credit invoice as the plan needs it."""

    @property
    def rows(self) -> Sequence[FortnoxRow]: ...

    @property
    def freight(self) -> Decimal: ...


def credit_rows(
    invoice: InvoicedDocument,
    credits: Sequence[InvoicedDocument],
    removed: Sequence[OrderRow],
    removed_freight: Decimal,
    *,
    everything: bool,
    still_sold: Sequence[OrderRow] = (),
    still_sold_freight: Decimal = ZERO,
) -> CreditPlan:
    """What to credit now, less what the existing credit invoices credit already (their quantities are negative).

    `everything`: all the invoice holds. Otherwise per row what the invoice holds beyond what is `still_sold`, and
    never more than ikas took back (`removed`): a line taken back before invoicing was left out of the invoice
    already (nothing to credit), and an edit after invoicing (another price, more items) is no refund."""
    invoiced = quantities(r for r in invoice.rows if r.quantity > 0)
    credited: dict[RowKey, Decimal] = {}
    for credit in credits:
        for key, quantity in quantities(credit.rows).items():
            credited[key] = credited.get(key, ZERO) - quantity
    credited_freight = -sum((c.freight for c in credits), ZERO)
    dues: dict[RowKey, Decimal] = {}
    notes: list[str] = []
    if everything:
        dues = {key: held - credited.get(key, ZERO) for key, held in invoiced.items()}
        freight_due = invoice.freight - credited_freight
    else:
        taken_back: dict[RowKey, Decimal] = {}
        for row in removed:
            taken_back[key_of(row)] = taken_back.get(key_of(row), ZERO) + row.quantity
        sold: dict[RowKey, Decimal] = {}
        for row in still_sold:
            sold[key_of(row)] = sold.get(key_of(row), ZERO) + row.quantity
        for key, back in taken_back.items():
            held = invoiced.get(key, ZERO)
            if back > held:
                notes.append(
                    f"{_shown(back - held)} x {key.description} taken back in ikas "
                    + ("is not on the invoice" if not held else f"is more than the invoice's {_shown(held)}")
                    + ": Bridge credits no more than was invoiced"
                )
            done = credited.get(key, ZERO)
            dues[key] = min(held - sold.get(key, ZERO) - done, back - done)
        freight_due = min(invoice.freight - still_sold_freight - credited_freight, removed_freight - credited_freight)
    templates = {r.key: r for r in invoice.rows if r.quantity > 0}
    plan = tuple(CreditRow(templates[key], due) for key, due in dues.items() if due > 0 and key in templates)
    freight_due = max(freight_due, ZERO)
    whole = everything and not credits and bool(plan or freight_due)
    return CreditPlan(plan, freight_due, whole, tuple(notes))


def _shown(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def fully_credited(invoice: InvoicedDocument, credits: Sequence[InvoicedDocument]) -> bool:
    """Whether the credit invoices credit every row and the freight of the invoice."""
    plan = credit_rows(invoice, credits, (), ZERO, everything=True)
    return plan.empty
