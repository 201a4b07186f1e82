"""Document totals like Fortnox's (totals.py): exact decimals, VAT 25/12/6 %, VATIncluded both ways, freight and its
VAT, discounts, a foreign currency, and the rounding to whole kronor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge_sandboxes.fortnox.totals import RowInput, compute, to_decimal

D = Decimal


def row(quantity: str, price: str, vat: int = 25, discount: str = "0", discount_type: str = "PERCENT") -> RowInput:
    return RowInput(D(quantity), D(price), D(vat), D(discount), discount_type)


def test_mixed_vat_rates_excluding_vat() -> None:
    totals = compute([row("2", "100", 25), row("1", "50", 12), row("3", "10", 6)], vat_included=False)

    assert [r.total for r in totals.rows] == [D("200.00"), D("50.00"), D("30.00")]
    assert [(line.rate, line.basis, line.vat) for line in totals.vat_lines] == [
        (D(6), D("30.00"), D("1.80")),
        (D(12), D("50.00"), D("6.00")),
        (D(25), D("200.00"), D("50.00")),
    ]
    assert (totals.net, totals.total_vat, totals.gross) == (D("280.00"), D("57.80"), D("337.80"))
    assert (totals.round_off, totals.total, totals.total_to_pay) == (D("0.20"), D("338.00"), D("338.00"))


def test_vat_included_prices_are_gross() -> None:
    totals = compute([row("2", "199", 25), row("1", "89", 12), row("1", "59", 6)], vat_included=True)

    # 398 * 25/125 = 79.60; 89 * 12/112 = 9.5357 -> 9.54; 59 * 6/106 = 3.3396 -> 3.34
    assert totals.total_vat == D("92.48")
    assert totals.net == D("546.00") - D("92.48")
    assert (totals.gross, totals.round_off, totals.total) == (D("546.00"), D("0.00"), D("546.00"))
    assert totals.rows[0].total_excluding_vat == D("318.40")
    assert totals.rows[0].price_excluding_vat == D("159.20")


def test_freight_is_net_and_gets_the_freight_vat_rate_also_with_vat_included() -> None:
    totals = compute([row("1", "125", 25)], vat_included=True, freight=D("49"))

    assert (totals.freight, totals.freight_vat) == (D("49.00"), D("12.25"))
    assert (totals.net, totals.total_vat) == (D("100.00"), D("37.25"))
    assert (totals.gross, totals.round_off, totals.total) == (D("186.25"), D("-0.25"), D("186.00"))


def test_administration_fee_and_a_custom_freight_vat_rate() -> None:
    totals = compute(
        [row("1", "100", 6)], vat_included=False, freight=D("10"), administration_fee=D("20"), freight_vat_rate=D(12)
    )

    assert (totals.freight_vat, totals.administration_fee_vat) == (D("1.20"), D("2.40"))
    assert totals.total_vat == D("6.00") + D("1.20") + D("2.40")


def test_percent_and_amount_discounts() -> None:
    totals = compute([row("3", "100", 25, "10"), row("2", "50", 25, "15", "AMOUNT")], vat_included=False)

    assert [r.total for r in totals.rows] == [D("270.00"), D("85.00")]
    assert totals.total_vat == D("88.75")


def test_prices_and_quantities_round_half_up_to_two_decimals() -> None:
    totals = compute([row("1.125", "1.125", 25)], vat_included=False)

    assert totals.rows[0].total == D("1.28")  # 1.13 x 1.13 = 1.2769


def test_round_off_goes_to_the_nearest_krona_half_up() -> None:
    down = compute([row("1", "100.39", 0)], vat_included=False)
    up = compute([row("1", "100.50", 0)], vat_included=False)

    assert (down.round_off, down.total) == (D("-0.39"), D("100.00"))
    assert (up.round_off, up.total) == (D("0.50"), D("101.00"))


def test_a_foreign_currency_is_not_rounded_and_converts_with_the_rate() -> None:
    totals = compute([row("1", "10.33", 25)], vat_included=False, currency="EUR", currency_rate=D("11.45"))

    assert (totals.gross, totals.round_off, totals.total) == (D("12.91"), D(0), D("12.91"))
    assert totals.in_sek(totals.total) == D("147.82")


def test_zero_vat_for_reverse_charge() -> None:
    totals = compute([row("1", "100", 25)], vat_included=False, freight=D("50"), zero_vat=True)

    assert (totals.total_vat, totals.freight_vat, totals.total) == (D(0), D(0), D("150.00"))


def test_credit_rows_mirror_the_invoice_exactly() -> None:
    debit = compute([row("3", "33.33", 25), row("1", "19.99", 12)], vat_included=True, freight=D("29"))
    credit = compute([row("-3", "33.33", 25), row("-1", "19.99", 12)], vat_included=True, freight=D("-29"))

    assert (credit.net, credit.total_vat, credit.round_off, credit.total) == (
        -debit.net,
        -debit.total_vat,
        -debit.round_off,
        -debit.total,
    )


def test_numbers_are_parsed_leniently() -> None:
    assert (to_decimal("1"), to_decimal(0.1), to_decimal(""), to_decimal("2,5")) == (D(1), D("0.1"), D(0), D("2.5"))


def test_documents_carry_the_totals_as_json_numbers(api: Any, customer_number: str) -> None:
    rows = [
        {"ArticleNumber": "DEMO-1001-S", "DeliveredQuantity": 1, "Price": 100, "VAT": 25},
        {"Description": "Book", "DeliveredQuantity": 1, "Price": 100, "VAT": 6},
        {"Description": "Food", "DeliveredQuantity": 2, "Price": 10.5, "VAT": 12, "Discount": 10},
    ]
    order = api.created(
        "/3/orders",
        "Order",
        {"CustomerNumber": customer_number, "VATIncluded": False, "Freight": 39, "OrderRows": rows},
    )

    assert [r["Total"] for r in order["OrderRows"]] == [100, 100, 18.9]
    assert (order["Net"], order["Freight"], order["FreightVAT"]) == (218.9, 39, 9.75)
    assert order["TotalVAT"] == 43.02  # 25 + 6 + 2.27 (18.90 at 12 %) + 9.75
    assert (order["Gross"], order["RoundOff"], order["Total"], order["TotalToPay"]) == (300.92, 0.08, 301, 301)
