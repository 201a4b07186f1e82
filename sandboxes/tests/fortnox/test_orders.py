"""Orders (fact sheet §5.5, §4): create with validation, the RowId rules of PUT, createinvoice answering with the
Order or the Invoice, cancel, searches and filters, document numbers never reused, lastmodified."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

ARTICLE = "DEMO-1001-S"  # demo seed: VAT 25 %, unit "st", base price 199.20


def order_body(customer_number: str, **head: Any) -> dict[str, Any]:
    """The fact sheet's minimal order body (§5.5)."""
    return {
        "Order": {
            "CustomerNumber": customer_number,
            "OrderDate": "2026-01-20",
            "YourOrderNumber": "W123",
            "ExternalInvoiceReference1": "shop:123",
            "Language": "EN",
            "Currency": "SEK",
            "VATIncluded": True,
            "OrderRows": [{"ArticleNumber": ARTICLE, "OrderedQuantity": 2, "DeliveredQuantity": 2, "Price": 199}],
            **head,
        }
    }


def create(api: Any, customer_number: str, **head: Any) -> dict[str, Any]:
    answer = api.post("/3/orders", order_body(customer_number, **head))
    assert answer.status_code == 201, answer.text
    order: dict[str, Any] = answer.json()["Order"]
    return order


def test_the_minimal_order_is_created_with_numbers_as_fortnox_writes_them(api: Any, customer_number: str) -> None:
    order = create(api, customer_number)

    row = order["OrderRows"][0]
    assert order["DocumentNumber"] == "1"
    assert order["@url"].endswith("/3/orders/1")
    assert (order["CustomerName"], order["Language"], order["YourOrderNumber"]) == ("Anna Andersson", "EN", "W123")
    assert (row["OrderedQuantity"], row["DeliveredQuantity"]) == ("2", "2")  # strings, as recorded (§4)
    assert (row["Price"], row["Total"], row["VAT"], row["Unit"], row["AccountNumber"]) == (199, 398, 25, "st", 3001)
    assert isinstance(row["RowId"], int)
    assert (order["Total"], order["TotalVAT"], order["Net"], order["RoundOff"]) == (398, 79.6, 318.4, 0)
    assert (order["InvoiceReference"], order["Cancelled"], order["OrderType"]) == ("0", False, "Order")
    assert api.get("/3/orders/1").json()["Order"] == order


def test_omitted_row_fields_come_from_the_article(api: Any, customer_number: str) -> None:
    order = create(
        api, customer_number, VATIncluded=False, OrderRows=[{"ArticleNumber": ARTICLE, "DeliveredQuantity": 1}]
    )

    row = order["OrderRows"][0]
    assert (row["Price"], row["Unit"], row["VAT"], row["OrderedQuantity"]) == (199.2, "st", 25, "0")
    article = api.get(f"/3/articles/{ARTICLE}").json()["Article"]
    assert row["Description"] == article["Description"]
    assert row["Description"]


def test_free_text_rows_need_no_article(api: Any, customer_number: str) -> None:
    order = create(api, customer_number, OrderRows=[{"Description": "Gift note: happy birthday"}])

    assert order["OrderRows"][0]["ArticleNumber"] == ""
    assert order["Total"] == 0


def test_an_order_without_rows_is_allowed(api: Any, customer_number: str) -> None:
    assert create(api, customer_number, OrderRows=[])["OrderRows"] == []


@pytest.mark.parametrize(
    ("change", "status_code"),
    [
        ({"CustomerNumber": "999"}, (400, 2000204)),
        ({"OrderRows": [{"ArticleNumber": "NOPE-1", "DeliveredQuantity": 1}]}, (400, 2001302)),
        ({"OrderRows": [{"ArticleNumber": ARTICLE, "Unit": "bucket"}]}, (400, 2000432)),
        ({"OrderRows": [{"ArticleNumber": ARTICLE, "VAT": 19}]}, (400, 2004167)),  # non-standard rate, no account
        ({"Currency": "XYZ"}, (400, 2000416)),
        ({"Language": "DE"}, (400, 2000588)),
        ({"OrderRows": [{"ArticleNumber": ARTICLE, "DeliveredQuantity": "two"}]}, (400, 2000108)),
        ({"OrderRows": [{"ArticleNumber": ARTICLE, "DiscountType": "HALF"}]}, (400, 2000588)),
        ({"Total": 100}, (400, 2001399)),  # read-only
        ({"Cancelled": True}, (400, 2001399)),
        ({"Colour": "red"}, (400, 2001399)),
    ],
)
def test_create_is_validated(api: Any, customer_number: str, change: dict[str, Any], status_code: Any) -> None:
    assert api.error(api.post("/3/orders", order_body(customer_number, **change))) == status_code


def test_a_foreign_vat_rate_is_accepted_with_an_account(api: Any, customer_number: str) -> None:
    rows = [{"ArticleNumber": ARTICLE, "DeliveredQuantity": 1, "Price": 100, "VAT": 19, "AccountNumber": 3106}]

    order = create(api, customer_number, VATIncluded=False, OrderRows=rows)

    assert (order["OrderRows"][0]["AccountNumber"], order["TotalVAT"], order["Total"]) == (3106, 19, 119)


def test_a_foreign_currency_takes_the_company_rate(api: Any, customer_number: str) -> None:
    order = create(api, customer_number, Currency="EUR")

    assert (order["Currency"], order["CurrencyRate"], order["CurrencyUnit"]) == ("EUR", 11.45, 1)
    assert order["RoundOff"] == 0


def test_document_numbers_are_assigned_and_never_reused(api: Any, customer_number: str) -> None:
    first = create(api, customer_number)
    chosen = create(api, customer_number, DocumentNumber="5")
    taken = api.post("/3/orders", order_body(customer_number, DocumentNumber="5"))
    api.put(f"/3/orders/{first['DocumentNumber']}/cancel")
    numbers = [create(api, customer_number)["DocumentNumber"] for _ in range(4)]

    assert (first["DocumentNumber"], chosen["DocumentNumber"]) == ("1", "5")
    assert taken.status_code == 400
    assert numbers == ["2", "3", "4", "6"]


# --- PUT and the RowId rules (§5.5) --------------------------------------------------------------------------------


def three_rows(api: Any, customer_number: str) -> dict[str, Any]:
    rows = [
        {"ArticleNumber": ARTICLE, "OrderedQuantity": 1, "DeliveredQuantity": 1, "Price": 100},
        {"ArticleNumber": "FX-2001", "OrderedQuantity": 2, "DeliveredQuantity": 2, "Price": 20},
        {"Description": "Text row"},
    ]
    return create(api, customer_number, VATIncluded=False, OrderRows=rows)


def test_rows_with_row_ids_are_updated_rows_without_are_added_and_rows_left_out_are_deleted(
    api: Any, customer_number: str
) -> None:
    order = three_rows(api, customer_number)
    first, _second, third = (row["RowId"] for row in order["OrderRows"])

    answer = api.put(
        f"/3/orders/{order['DocumentNumber']}",
        {
            "Order": {
                "OrderRows": [
                    {"RowId": first, "DeliveredQuantity": 3},
                    {"RowId": third},  # kept unchanged
                    {"ArticleNumber": "FX-2004", "DeliveredQuantity": 1},  # new
                ]
            }
        },
    )

    rows = answer.json()["Order"]["OrderRows"]
    assert answer.status_code == 200
    assert [(r["ArticleNumber"], r["DeliveredQuantity"], r["Description"]) for r in rows] == [
        (ARTICLE, "3", rows[0]["Description"]),
        ("", "0", "Text row"),
        ("FX-2004", "1", "Spare lid for enamel mug"),
    ]
    assert rows[0]["Price"] == 100  # fields left out of an updated row stay
    assert {r["RowId"] for r in rows}.isdisjoint({first, third})  # RowIds are regenerated on every update
    assert answer.json()["Order"]["Net"] == 300 + 39.2


def test_without_row_ids_rows_are_matched_by_position(api: Any, customer_number: str) -> None:
    order = three_rows(api, customer_number)

    answer = api.put(f"/3/orders/{order['DocumentNumber']}", {"Order": {"OrderRows": [{"Price": 80}]}})

    rows = answer.json()["Order"]["OrderRows"]
    assert len(rows) == 1  # every row to keep must be sent
    assert (rows[0]["ArticleNumber"], rows[0]["Price"], rows[0]["DeliveredQuantity"]) == (ARTICLE, 80, "1")


def test_an_unknown_row_id_is_refused(api: Any, customer_number: str) -> None:
    order = three_rows(api, customer_number)

    answer = api.put(f"/3/orders/{order['DocumentNumber']}", {"Order": {"OrderRows": [{"RowId": 123456}]}})

    assert answer.status_code == 400


def test_old_row_ids_are_stale_after_an_update(api: Any, customer_number: str) -> None:
    order = three_rows(api, customer_number)
    number, old = order["DocumentNumber"], order["OrderRows"][0]["RowId"]
    api.put(f"/3/orders/{number}", {"Order": {"Remarks": "first change"}})

    answer = api.put(f"/3/orders/{number}", {"Order": {"OrderRows": [{"RowId": old}]}})

    assert answer.status_code == 400  # re-read RowIds after each PUT (§5.5)


def test_put_changes_only_the_fields_sent_and_keeps_the_rows(api: Any, customer_number: str) -> None:
    order = three_rows(api, customer_number)

    updated = api.put(f"/3/orders/{order['DocumentNumber']}", {"Order": {"Freight": 49, "YourReference": "Anna"}})

    body = updated.json()["Order"]
    assert (body["Freight"], body["FreightVAT"], body["YourReference"]) == (49, 12.25, "Anna")
    assert len(body["OrderRows"]) == 3
    assert body["ExternalInvoiceReference1"] == "shop:123"
    assert api.error(api.put("/3/orders/999", {"Order": {"Remarks": "x"}})) == (404, 2000439)
    assert api.error(api.put(f"/3/orders/{order['DocumentNumber']}", {"Order": {"Total": 1}})) == (400, 2001399)


# --- createinvoice and cancel -------------------------------------------------------------------------------------


def test_createinvoice_answers_with_the_order_by_default(api: Any, customer_number: str) -> None:
    order = create(api, customer_number)

    answer = api.put(f"/3/orders/{order['DocumentNumber']}/createinvoice")

    assert answer.status_code == 200
    assert set(answer.json()) == {"Order"}
    reference = answer.json()["Order"]["InvoiceReference"]
    invoice = api.get(f"/3/invoices/{reference}").json()["Invoice"]
    assert reference != "0"
    assert (invoice["OrderReference"], invoice["Total"], invoice["ExternalInvoiceReference1"]) == (
        order["DocumentNumber"],
        order["Total"],
        "shop:123",
    )
    assert invoice["InvoiceRows"][0]["DeliveredQuantity"] == "2"


def test_createinvoice_answers_with_the_invoice_when_switched(
    api: Any, client: TestClient, customer_number: str
) -> None:
    assert client.post("/__admin/createinvoice-answers", json={"shape": "invoice"}).json() == {"shape": "invoice"}
    order = create(api, customer_number)

    answer = api.put(f"/3/orders/{order['DocumentNumber']}/createinvoice")

    assert set(answer.json()) == {"Invoice"}
    invoice = answer.json()["Invoice"]
    assert invoice["OrderReference"] == order["DocumentNumber"]
    assert (
        api.get(f"/3/orders/{order['DocumentNumber']}").json()["Order"]["InvoiceReference"] == invoice["DocumentNumber"]
    )
    assert client.get("/__admin/createinvoice-answers").json() == {"shape": "invoice"}
    client.post("/__admin/reset")
    assert client.get("/__admin/createinvoice-answers").json() == {"shape": "order"}


def test_an_invoiced_order_is_locked(api: Any, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]
    api.put(f"/3/orders/{number}/createinvoice")

    assert api.error(api.put(f"/3/orders/{number}/createinvoice")) == (400, 2003125)
    assert api.error(api.put(f"/3/orders/{number}", {"Order": {"Remarks": "late edit"}})) == (400, 2003125)
    assert api.error(api.put(f"/3/orders/{number}/cancel")) == (400, 2003125)


def test_cancel_sets_cancelled_and_locks_the_order(api: Any, customer_number: str) -> None:
    number = create(api, customer_number)["DocumentNumber"]

    answer = api.put(f"/3/orders/{number}/cancel")

    assert answer.status_code == 200
    assert answer.json()["Order"]["Cancelled"] is True
    assert api.put(f"/3/orders/{number}/cancel").status_code == 400
    assert api.put(f"/3/orders/{number}/createinvoice").status_code == 400
    assert api.error(api.put("/3/orders/999/cancel")) == (404, 2000439)


# --- lists --------------------------------------------------------------------------------------------------------


def test_search_by_externalinvoicereference1_is_a_substring_match(api: Any, customer_number: str) -> None:
    for reference in ("shop:12", "shop:123", "shop:7"):
        create(api, customer_number, ExternalInvoiceReference1=reference)

    listed = api.get("/3/orders", externalinvoicereference1="shop:12").json()

    assert [o["ExternalInvoiceReference1"] for o in listed["Orders"]] == ["shop:12", "shop:123"]
    assert set(listed["Orders"][0]) == {
        "@url",
        "Cancelled",
        "Currency",
        "CustomerName",
        "CustomerNumber",
        "DeliveryDate",
        "DocumentNumber",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "OrderDate",
        "OrderType",
        "Project",
        "Sent",
        "Total",
    }


def test_search_by_your_order_number_and_customer_number(api: Any, customer_number: str) -> None:
    create(api, customer_number, YourOrderNumber="1001")
    create(api, customer_number, YourOrderNumber="2002")

    assert [o["DocumentNumber"] for o in api.get("/3/orders", yourordernumber="2002").json()["Orders"]] == ["2"]
    assert len(api.get("/3/orders", customernumber=customer_number).json()["Orders"]) == 2


def test_filters(api: Any, customer_number: str) -> None:
    invoiced, cancelled, open_order = (create(api, customer_number)["DocumentNumber"] for _ in range(3))
    api.put(f"/3/orders/{invoiced}/createinvoice")
    api.put(f"/3/orders/{cancelled}/cancel")

    def listed(value: str) -> list[str]:
        return [o["DocumentNumber"] for o in api.get("/3/orders", filter=value).json()["Orders"]]

    assert listed("cancelled") == [cancelled]
    assert listed("invoicecreated") == [invoiced]
    assert listed("invoicenotcreated") == [open_order]
    assert api.error(api.get("/3/orders", filter="open")) == (400, 2000587)
    assert api.error(api.get("/3/orders", filter="cancelled", customernumber="1")) == (400, 2000587)


def test_lastmodified_and_paging(api: Any, client: TestClient, customer_number: str) -> None:
    numbers = [create(api, customer_number)["DocumentNumber"] for _ in range(3)]
    now = client.post("/__admin/clock", json={"advance_s": 120}).json()["now"]
    api.put(f"/3/orders/{numbers[0]}", {"Order": {"Remarks": "changed"}})
    since = datetime.fromisoformat(now).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")

    changed = api.get("/3/orders", lastmodified=since).json()
    page = api.get("/3/orders", limit=2, page=2, sortorder="descending").json()

    assert [o["DocumentNumber"] for o in changed["Orders"]] == [numbers[0]]
    assert page["MetaInformation"] == {"@TotalResources": 3, "@TotalPages": 2, "@CurrentPage": 2}
    assert [o["DocumentNumber"] for o in page["Orders"]] == ["1"]


def test_an_unknown_order_is_404_with_2000439(api: Any) -> None:
    assert api.error(api.get("/3/orders/77")) == (404, 2000439)


def test_reverse_charge_customers_get_no_vat(api: Any) -> None:
    customer = api.created(
        "/3/customers", "Customer", {"Name": "EU GmbH", "CountryCode": "DE", "VATType": "EUREVERSEDVAT"}
    )

    order = create(api, customer["CustomerNumber"], VATIncluded=False, Freight=50)

    assert (order["TotalVAT"], order["FreightVAT"], order["Total"]) == (0, 0, 448)
    assert (order["OrderRows"][0]["VAT"], order["OrderRows"][0]["AccountNumber"]) == (0, 3108)
