"""Invoice payments and modes of payment (fact sheet §5.6b): validation, Balance and FullyPaid following the
payments, bookkeeping a payment, and the seeded modes of payment."""

from __future__ import annotations

from typing import Any

import pytest


def booked_invoice(api: Any, customer_number: str, **head: Any) -> dict[str, Any]:
    fields = {
        "CustomerNumber": customer_number,
        "VATIncluded": True,
        "InvoiceRows": [{"Description": "Mug", "DeliveredQuantity": 2, "Price": 150}],
        **head,
    }
    number = api.created("/3/invoices", "Invoice", fields)["DocumentNumber"]
    invoice: dict[str, Any] = api.put(f"/3/invoices/{number}/bookkeep").json()["Invoice"]
    return invoice


def pay(api: Any, invoice_number: str, amount: Any, mode: str = "SWISH", **more: Any) -> Any:
    body = {"InvoiceNumber": invoice_number, "Amount": amount, "PaymentDate": "2026-03-05", "ModeOfPayment": mode}
    return api.post("/3/invoicepayments", {"InvoicePayment": {**body, **more}})


def test_the_modes_of_payment_are_seeded(api: Any) -> None:
    listed = api.get("/3/modesofpayments").json()

    assert [m["Code"] for m in listed["ModesOfPayments"]] == ["BG", "KORT", "PG", "SWISH"]
    assert api.get("/3/modesofpayments/BG").json()["ModeOfPayment"]["AccountNumber"] == 1930
    assert api.error(api.get("/3/modesofpayments/CASH")) == (404, 2000426)


def test_a_part_payment_lowers_the_balance(api: Any, customer_number: str) -> None:
    invoice = booked_invoice(api, customer_number)

    answer = pay(api, invoice["DocumentNumber"], 100)

    payment = answer.json()["InvoicePayment"]
    assert answer.status_code == 201
    assert (payment["Number"], payment["InvoiceNumber"], payment["Amount"], payment["AmountCurrency"]) == (
        1,
        int(invoice["DocumentNumber"]),
        100,
        100,
    )
    assert (payment["ModeOfPaymentAccount"], payment["Booked"], payment["InvoiceTotal"]) == (1930, False, 300)
    after = api.get(f"/3/invoices/{invoice['DocumentNumber']}").json()["Invoice"]
    assert (after["Balance"], after["FullyPaid"], after["FinalPayDate"]) == (200, False, None)


def test_paying_the_rest_makes_the_invoice_fully_paid(api: Any, customer_number: str) -> None:
    number = booked_invoice(api, customer_number)["DocumentNumber"]
    pay(api, number, 100)
    pay(api, number, "200.00", mode="BG")

    invoice = api.get(f"/3/invoices/{number}").json()["Invoice"]

    assert (invoice["Balance"], invoice["FullyPaid"], invoice["FinalPayDate"]) == (0, True, "2026-03-05")
    assert [i["DocumentNumber"] for i in api.get("/3/invoices", filter="fullypaid").json()["Invoices"]] == [number]
    assert api.get("/3/invoices", filter="unpaid").json()["Invoices"] == []


@pytest.mark.parametrize(
    ("invoice_number", "mode", "expected"),
    [("404", "BG", (400, 2000434)), (None, "KONTANT", (400, 2000426))],
)
def test_the_invoice_and_the_mode_of_payment_must_exist(
    api: Any, customer_number: str, invoice_number: str | None, mode: str, expected: tuple[int, int]
) -> None:
    number = invoice_number or booked_invoice(api, customer_number)["DocumentNumber"]

    assert api.error(pay(api, number, 10, mode=mode)) == expected


def test_an_unbooked_invoice_takes_no_payment(api: Any, customer_number: str) -> None:
    number = api.created(
        "/3/invoices", "Invoice", {"CustomerNumber": customer_number, "InvoiceRows": [{"Description": "x"}]}
    )["DocumentNumber"]

    assert pay(api, number, 10).status_code == 400


def test_read_only_fields_are_refused(api: Any, customer_number: str) -> None:
    number = booked_invoice(api, customer_number)["DocumentNumber"]

    assert api.error(pay(api, number, 10, Booked=True)) == (400, 2001399)


def test_bookkeep_a_payment(api: Any, customer_number: str) -> None:
    number = booked_invoice(api, customer_number)["DocumentNumber"]
    payment = pay(api, number, 300).json()["InvoicePayment"]

    answer = api.put(f"/3/invoicepayments/{payment['Number']}/bookkeep")

    booked = answer.json()["InvoicePayment"]
    assert answer.status_code == 200
    assert (booked["Booked"], booked["VoucherSeries"], booked["VoucherNumber"]) == (True, "C", 1)
    assert api.put(f"/3/invoicepayments/{payment['Number']}/bookkeep").status_code == 400
    assert api.put(f"/3/invoicepayments/{payment['Number']}", {"InvoicePayment": {"Amount": 1}}).status_code == 400
    assert api.delete(f"/3/invoicepayments/{payment['Number']}").status_code == 400


def test_an_unbooked_payment_can_be_changed_and_deleted(api: Any, customer_number: str) -> None:
    number = booked_invoice(api, customer_number)["DocumentNumber"]
    payment = pay(api, number, 300).json()["InvoicePayment"]

    changed = api.put(f"/3/invoicepayments/{payment['Number']}", {"InvoicePayment": {"Amount": 250}})
    balance_after_change = api.get(f"/3/invoices/{number}").json()["Invoice"]["Balance"]
    deleted = api.delete(f"/3/invoicepayments/{payment['Number']}")

    assert changed.json()["InvoicePayment"]["Amount"] == 250
    assert balance_after_change == 50
    assert deleted.status_code == 204
    assert api.get(f"/3/invoices/{number}").json()["Invoice"]["Balance"] == 300
    assert api.get(f"/3/invoicepayments/{payment['Number']}").status_code == 404


def test_a_foreign_currency_payment_converts_with_the_invoice_rate(api: Any, customer_number: str) -> None:
    invoice = booked_invoice(api, customer_number, Currency="EUR")

    payment = pay(api, invoice["DocumentNumber"], "1145.00").json()["InvoicePayment"]

    assert (payment["Currency"], payment["AmountCurrency"], payment["CurrencyRate"]) == ("EUR", 100, 11.45)
    assert api.get(f"/3/invoices/{invoice['DocumentNumber']}").json()["Invoice"]["Balance"] == 200


def test_list_and_search_by_invoice_number(api: Any, customer_number: str) -> None:
    first = booked_invoice(api, customer_number)["DocumentNumber"]
    second = booked_invoice(api, customer_number)["DocumentNumber"]
    pay(api, first, 10)
    pay(api, second, 20)

    listed = api.get("/3/invoicepayments", invoicenumber=second).json()

    assert [p["Amount"] for p in listed["InvoicePayments"]] == [20]
    assert listed["MetaInformation"]["@TotalResources"] == 1
    assert api.get("/3/invoicepayments").json()["MetaInformation"]["@TotalResources"] == 2
