"""Invoices (fact sheet §5.6): direct invoices with the recorded shape, searches and filters, edits until booked,
bookkeep, cancel, e-mail as a GET with a side effect, print/preview as real PDFs, and credit invoices."""

from __future__ import annotations

import re
import zlib
from typing import Any

import pytest
from starlette.testclient import TestClient

from bridge_sandboxes.fortnox.invoices import ocr_for

ARTICLE = "DEMO-1001-S"


def invoice_fields(customer_number: str, **head: Any) -> dict[str, Any]:
    return {
        "CustomerNumber": customer_number,
        "InvoiceDate": "2026-03-01",
        "ExternalInvoiceReference1": "shop:500",
        "VATIncluded": True,
        "InvoiceRows": [{"ArticleNumber": ARTICLE, "DeliveredQuantity": 2, "Price": 125}],
        **head,
    }


def create(api: Any, customer_number: str, **head: Any) -> dict[str, Any]:
    invoice: dict[str, Any] = api.created("/3/invoices", "Invoice", invoice_fields(customer_number, **head))
    return invoice


def booked(api: Any, customer_number: str, **head: Any) -> dict[str, Any]:
    number = create(api, customer_number, **head)["DocumentNumber"]
    answer = api.put(f"/3/invoices/{number}/bookkeep")
    assert answer.status_code == 200, answer.text
    invoice: dict[str, Any] = answer.json()["Invoice"]
    return invoice


def test_a_direct_invoice_has_the_recorded_shape(api: Any, customer_number: str) -> None:
    invoice = create(api, customer_number)

    row = invoice["InvoiceRows"][0]
    assert invoice["DocumentNumber"] == "1"
    assert invoice["@url"].endswith("/3/invoices/1")
    assert (invoice["Credit"], invoice["CreditInvoiceReference"], invoice["OrderReference"]) == ("false", "0", "0")
    assert (invoice["TermsOfPayment"], invoice["DueDate"], invoice["OCR"]) == ("30", "2026-03-31", "133")
    assert (invoice["Booked"], invoice["Cancelled"], invoice["Sent"], invoice["InvoiceType"]) == (
        False,
        False,
        False,
        "INVOICE",
    )
    assert (invoice["Total"], invoice["TotalVAT"], invoice["Balance"]) == (250, 50, 250)
    assert (row["DeliveredQuantity"], row["Price"], row["PriceExcludingVAT"], row["TotalExcludingVAT"]) == (
        "2",
        125,
        100,
        200,
    )
    assert (row["VATCode"], row["AccountNumber"]) == ("MP1", 3001)
    assert "OrderedQuantity" not in row
    assert invoice["EmailInformation"]["EmailAddressTo"] == "anna@example.se"
    assert invoice["EmailInformation"]["EmailSubject"] == "Faktura {no} bifogas"


@pytest.mark.parametrize(("number", "ocr"), [("117", "11759"), ("119", "11957"), ("7", "737"), ("23", "2345")])
def test_ocr_numbers_follow_the_live_recordings(number: str, ocr: str) -> None:
    assert ocr_for(number) == ocr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"CustomerNumber": "404"}, (400, 2000204)),
        ({"InvoiceRows": [{"ArticleNumber": "NOPE"}]}, (400, 2001302)),
        ({"InvoiceRows": [{"Description": "x", "OrderedQuantity": 1}]}, (400, 2001399)),  # orders only
        ({"InvoiceType": "BILL"}, (400, 2000588)),
        ({"Balance": 0}, (400, 2001399)),
        ({"Booked": True}, (400, 2001399)),
    ],
)
def test_create_is_validated(api: Any, customer_number: str, change: dict[str, Any], expected: Any) -> None:
    assert api.error(api.post("/3/invoices", {"Invoice": invoice_fields(customer_number, **change)})) == expected


def test_unknown_invoice_is_404_with_2000434(api: Any) -> None:
    assert api.error(api.get("/3/invoices/9")) == (404, 2000434)


def test_search_by_externalinvoicereference1_is_a_substring_match_and_lists_are_a_subset(
    api: Any, customer_number: str
) -> None:
    for reference in ("shop:50", "shop:500", "shop:9"):
        create(api, customer_number, ExternalInvoiceReference1=reference)

    listed = api.get("/3/invoices", externalinvoicereference1="shop:50").json()["Invoices"]

    assert [i["ExternalInvoiceReference1"] for i in listed] == ["shop:50", "shop:500"]
    assert listed[0]["CurrencyRate"] == "1"  # a string in lists (RB invoices/filter_hit.yml)
    assert "InvoiceRows" not in listed[0]
    assert {"Balance", "Booked", "OCR", "Total"} <= set(listed[0])


def test_filters_and_the_one_filter_rule(api: Any, customer_number: str) -> None:
    unbooked = create(api, customer_number)["DocumentNumber"]
    is_booked = booked(api, customer_number)["DocumentNumber"]
    cancelled = create(api, customer_number)["DocumentNumber"]
    api.put(f"/3/invoices/{cancelled}/cancel")

    def listed(value: str) -> list[str]:
        return [i["DocumentNumber"] for i in api.get("/3/invoices", filter=value).json()["Invoices"]]

    assert listed("unbooked") == [unbooked]
    assert listed("cancelled") == [cancelled]
    assert listed("unpaid") == [is_booked]
    assert listed("fullypaid") == []
    assert api.error(api.get("/3/invoices", filter="unbooked", yourordernumber="1")) == (400, 2000587)


def test_an_unbooked_invoice_can_be_changed_a_booked_one_cannot(api: Any, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]
    first_row = api.get(f"/3/invoices/{number}").json()["Invoice"]["InvoiceRows"][0]["RowId"]

    changed = api.put(
        f"/3/invoices/{number}",
        {"Invoice": {"YourReference": "Bo", "InvoiceRows": [{"RowId": first_row, "DeliveredQuantity": 4}]}},
    )
    api.put(f"/3/invoices/{number}/bookkeep")
    refused = api.put(f"/3/invoices/{number}", {"Invoice": {"YourReference": "Late"}})

    assert changed.status_code == 200
    assert (changed.json()["Invoice"]["Total"], changed.json()["Invoice"]["Balance"]) == (500, 500)
    assert api.error(refused) == (400, 2003125)


def test_bookkeep_sets_booked_and_the_voucher(api: Any, customer_number: str) -> None:
    invoice = booked(api, customer_number)

    assert (invoice["Booked"], invoice["VoucherSeries"], invoice["VoucherNumber"], invoice["VoucherYear"]) == (
        True,
        "B",
        1,
        1,
    )
    assert api.put(f"/3/invoices/{invoice['DocumentNumber']}/bookkeep").status_code == 400


def test_cancel_works_only_before_bookkeeping(api: Any, customer_number: str) -> None:
    open_invoice = create(api, customer_number)["DocumentNumber"]
    booked_invoice = booked(api, customer_number)["DocumentNumber"]

    cancelled = api.put(f"/3/invoices/{open_invoice}/cancel")

    assert cancelled.status_code == 200
    assert (cancelled.json()["Invoice"]["Cancelled"], cancelled.json()["Invoice"]["Balance"]) == (True, 0)
    assert api.error(api.put(f"/3/invoices/{booked_invoice}/cancel")) == (400, 2003125)
    assert api.put(f"/3/invoices/{open_invoice}/bookkeep").status_code == 400


def test_email_is_a_get_with_a_side_effect_that_is_counted(api: Any, client: TestClient, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]

    first = api.get(f"/3/invoices/{number}/email")
    second = api.get(f"/3/invoices/{number}/email")

    mails = client.get("/__admin/emails").json()
    assert first.status_code == 200
    assert first.json()["Invoice"]["Sent"] is True
    assert second.status_code == 200
    assert [(m["InvoiceNumber"], m["To"], m["Subject"]) for m in mails] == [
        (number, "anna@example.se", f"Faktura {number} bifogas"),
        (number, "anna@example.se", f"Faktura {number} bifogas"),
    ]
    assert mails[0]["TenantId"] == 1001


def test_email_goes_to_the_address_set_on_the_invoice(api: Any, client: TestClient, customer_number: str) -> None:
    number = create(api, customer_number, EmailInformation={"EmailAddressTo": "ekonomi@example.se"})["DocumentNumber"]

    api.get(f"/3/invoices/{number}/email")

    assert client.get("/__admin/emails").json()[0]["To"] == "ekonomi@example.se"


def test_email_without_any_address_is_refused(api: Any, client: TestClient) -> None:
    silent = api.created("/3/customers", "Customer", {"Name": "No Mail AB"})
    number = create(api, silent["CustomerNumber"])["DocumentNumber"]

    assert api.get(f"/3/invoices/{number}/email").status_code == 400
    assert client.get("/__admin/emails").json() == []


def check_pdf(content: bytes) -> str:
    """A PDF check: the header, a cross-reference table whose offsets point at objects, and the trailer; returns
    the text of the (deflated) content streams."""
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    start = int(re.findall(rb"startxref\s+(\d+)", content)[-1])
    assert content[start:].startswith(b"xref")
    entries = re.findall(rb"(\d{10}) (\d{5}) n", content[start:])
    assert entries
    for offset, _generation in entries:
        assert re.match(rb"\d+ 0 obj", content[int(offset) :]), offset
    assert b"trailer" in content[start:]
    assert b"/Root" in content[start:]
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            text += stream
    return text.decode("latin-1")


def test_print_returns_a_real_pdf_and_sets_sent(api: Any, customer_number: str) -> None:
    number = create(api, customer_number, Freight=49)["DocumentNumber"]

    answer = api.get(f"/3/invoices/{number}/print")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = check_pdf(answer.content)
    assert f"Faktura {number}" in text
    assert "Anna Andersson" in text
    assert ARTICLE in text
    assert "311.00" in text
    assert "-0.25" in text
    assert api.get(f"/3/invoices/{number}").json()["Invoice"]["Sent"] is True


def test_preview_returns_a_pdf_and_leaves_sent_alone(api: Any, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]

    answer = api.get(f"/3/invoices/{number}/preview")

    assert answer.headers["content-type"] == "application/pdf"
    check_pdf(answer.content)
    assert api.get(f"/3/invoices/{number}").json()["Invoice"]["Sent"] is False


def test_credit_needs_a_booked_invoice(api: Any, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]

    assert api.put(f"/3/invoices/{number}/credit").status_code == 400


def test_credit_makes_a_credit_invoice_linked_both_ways(api: Any, customer_number: str) -> None:
    original = booked(api, customer_number, Freight=49)

    answer = api.put(f"/3/invoices/{original['DocumentNumber']}/credit")

    assert answer.status_code == 200
    reference = answer.json()["Invoice"]["CreditInvoiceReference"]
    credit = api.get(f"/3/invoices/{reference}").json()["Invoice"]
    assert reference not in ("0", original["DocumentNumber"])
    assert (credit["Credit"], credit["CreditInvoiceReference"], credit["Booked"]) == (
        "true",
        original["DocumentNumber"],
        False,
    )
    assert credit["InvoiceRows"][0]["DeliveredQuantity"] == "-2"
    assert (credit["Total"], credit["TotalVAT"], credit["Freight"]) == (
        -original["Total"],
        -original["TotalVAT"],
        -49,
    )
    assert api.put(f"/3/invoices/{original['DocumentNumber']}/credit").status_code == 400  # already credited
    assert api.put(f"/3/invoices/{reference}/bookkeep").status_code == 200
    assert api.put(f"/3/invoices/{reference}/credit").status_code == 400  # a credit is not credited
    listed = api.get("/3/invoices", credit="true").json()["Invoices"]
    assert [i["DocumentNumber"] for i in listed] == [reference]


def test_a_partial_credit_is_a_new_invoice_with_negative_rows(api: Any, customer_number: str) -> None:
    original = booked(api, customer_number)

    credit = create(
        api,
        customer_number,
        CreditInvoiceReference=original["DocumentNumber"],
        InvoiceRows=[{"ArticleNumber": ARTICLE, "DeliveredQuantity": -1, "Price": 125}],
    )

    assert (credit["Credit"], credit["CreditInvoiceReference"], credit["Total"]) == (
        "true",
        original["DocumentNumber"],
        -125,
    )
    linked = api.get(f"/3/invoices/{original['DocumentNumber']}").json()["Invoice"]
    assert linked["CreditInvoiceReference"] == credit["DocumentNumber"]


def test_a_partial_credit_of_an_unbooked_invoice_is_refused(api: Any, customer_number: str) -> None:
    original = create(api, customer_number)

    answer = api.post(
        "/3/invoices", {"Invoice": invoice_fields(customer_number, CreditInvoiceReference=original["DocumentNumber"])}
    )

    assert answer.status_code == 400


def test_an_invoice_from_an_order_carries_its_head_and_delivered_rows(api: Any, customer_number: str) -> None:
    order = api.created(
        "/3/orders",
        "Order",
        {
            "CustomerNumber": customer_number,
            "YourOrderNumber": "W9",
            "Currency": "EUR",
            "VATIncluded": True,
            "Freight": 5,
            "OrderRows": [
                {"ArticleNumber": ARTICLE, "OrderedQuantity": 3, "DeliveredQuantity": 2, "Price": 20},
                {"Description": "Backordered", "OrderedQuantity": 1, "DeliveredQuantity": 0, "Price": 9},
            ],
        },
    )

    reference = api.put(f"/3/orders/{order['DocumentNumber']}/createinvoice").json()["Order"]["InvoiceReference"]
    invoice = api.get(f"/3/invoices/{reference}").json()["Invoice"]

    assert (invoice["YourOrderNumber"], invoice["Currency"], invoice["CurrencyRate"]) == ("W9", "EUR", 11.45)
    assert [r["DeliveredQuantity"] for r in invoice["InvoiceRows"]] == ["2", "0"]
    assert (invoice["Total"], invoice["TotalVAT"], invoice["Freight"]) == (order["Total"], order["TotalVAT"], 5)
    assert invoice["RoundOff"] == 0
