"""Articles (fact sheet §5.1, §4): lists, searches, one filter, lastmodified, create/update/delete rules."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from bridge_sandboxes.fortnox.errors import ARTICLE_NUMBER_TAKEN
from bridge_sandboxes.fortnox.state import FortnoxState

Headers = dict[str, str]


def error_code(answer: Any) -> int:
    return int(answer.json()["ErrorInformation"]["code"])


def create(client: TestClient, auth: Headers, **fields: Any) -> Any:
    return client.post("/3/articles", json={"Article": fields}, headers=auth)


def test_list_pages_with_meta_information(client: TestClient, auth: Headers) -> None:
    first = client.get("/3/articles", params={"limit": 10}, headers=auth).json()
    total = first["MetaInformation"]["@TotalResources"]
    assert total == 33
    assert first["MetaInformation"] == {"@TotalResources": 33, "@TotalPages": 4, "@CurrentPage": 1}
    assert len(first["Articles"]) == 10
    last = client.get("/3/articles", params={"limit": 10, "page": 4}, headers=auth).json()
    assert len(last["Articles"]) == 3
    assert last["MetaInformation"]["@CurrentPage"] == 4
    everything = client.get("/3/articles", params={"limit": 500}, headers=auth).json()["Articles"]
    numbers = [a["ArticleNumber"] for a in everything]
    assert len(set(numbers)) == 33
    assert numbers == sorted(numbers)
    by_offset = client.get("/3/articles", params={"limit": 10, "offset": 10}, headers=auth).json()
    assert [a["ArticleNumber"] for a in by_offset["Articles"]] == numbers[10:20]
    assert by_offset["MetaInformation"]["@CurrentPage"] == 2
    default = client.get("/3/articles", headers=auth).json()
    assert default["MetaInformation"]["@TotalPages"] == 1  # limit defaults to 100


def test_limit_over_500_is_refused(client: TestClient, auth: Headers) -> None:
    answer = client.get("/3/articles", params={"limit": 501}, headers=auth)
    assert answer.status_code == 400
    assert error_code(answer) == 2000588


def test_list_items_are_a_subset_with_quantities_as_strings(client: TestClient, auth: Headers) -> None:
    item = client.get("/3/articles", params={"articlenumber": "DEMO-1005"}, headers=auth).json()["Articles"][0]
    assert item["QuantityInStock"] == "48"
    assert item["DisposableQuantity"] == "48"
    assert item["ReservedQuantity"] == "0"
    assert "Note" not in item
    assert "SalesAccount" not in item
    full = client.get("/3/articles/DEMO-1005", headers=auth).json()["Article"]
    assert full["QuantityInStock"] == 48
    assert full["SalesAccount"] == 3001
    assert full["@url"].endswith("/3/articles/DEMO-1005")


def test_searches_match_substrings_case_insensitively(client: TestClient, auth: Headers) -> None:
    found = client.get("/3/articles", params={"articlenumber": "demo-100"}, headers=auth).json()["Articles"]
    numbers = {a["ArticleNumber"] for a in found}
    assert "DEMO-1005" in numbers
    assert "DEMO-1001-M" in numbers
    assert "FX-2001" not in numbers
    by_description = client.get("/3/articles", params={"description": "MUG"}, headers=auth).json()["Articles"]
    assert {a["ArticleNumber"] for a in by_description} == {"DEMO-1005", "FX-2004"}
    by_ean = client.get("/3/articles", params={"ean": "7350000010054"}, headers=auth).json()["Articles"]
    assert [a["ArticleNumber"] for a in by_ean] == ["DEMO-1005"]


def test_only_one_filter_per_request(client: TestClient, auth: Headers) -> None:
    answer = client.get("/3/articles", params={"description": "mug", "filter": "active"}, headers=auth)
    assert answer.status_code == 400
    assert error_code(answer) == 2000587
    assert answer.json()["ErrorInformation"]["message"] == "Ett ogiltigt filter har använts."
    assert error_code(client.get("/3/articles", params={"filter": "bogus"}, headers=auth)) == 2000587


def test_filter_active_and_inactive(client: TestClient, auth: Headers) -> None:
    inactive = client.get("/3/articles", params={"filter": "inactive"}, headers=auth).json()["Articles"]
    assert [a["ArticleNumber"] for a in inactive] == ["FX-2005"]
    active = client.get("/3/articles", params={"filter": "active"}, headers=auth).json()
    assert active["MetaInformation"]["@TotalResources"] == 32


def test_lastmodified_is_read_in_stockholm_time(client: TestClient, auth: Headers, state: FortnoxState) -> None:
    client.post("/__admin/clock", json={"advance_s": 1800})  # the seed's records are now half an hour old
    changed_at = state.now()
    assert client.put("/3/articles/DEMO-1005", json={"Article": {"Note": "x"}}, headers=auth).status_code == 200
    a_minute_before = changed_at - timedelta(minutes=1)
    stockholm_text = a_minute_before.astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    found = client.get("/3/articles", params={"lastmodified": stockholm_text}, headers=auth).json()["Articles"]
    assert [a["ArticleNumber"] for a in found] == ["DEMO-1005"]
    # The same instant written as UTC wall-clock time is read as Stockholm time, one or two hours earlier:
    # then the seed's articles count as changed too.
    utc_text = a_minute_before.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert len(client.get("/3/articles", params={"lastmodified": utc_text}, headers=auth).json()["Articles"]) == 33
    combined = client.get("/3/articles", params={"lastmodified": stockholm_text, "description": "mug"}, headers=auth)
    assert combined.status_code == 200  # a global parameter combines with the one filter
    assert error_code(client.get("/3/articles", params={"lastmodified": "yesterday"}, headers=auth)) == 2000588


def test_sortby_and_sortorder(client: TestClient, auth: Headers) -> None:
    params = {"sortby": "quantityinstock", "sortorder": "descending", "limit": 3}
    items = client.get("/3/articles", params=params, headers=auth).json()["Articles"]
    quantities = [Decimal(a["QuantityInStock"]) for a in items]
    assert quantities == sorted(quantities, reverse=True)
    assert error_code(client.get("/3/articles", params={"sortby": "description"}, headers=auth)) == 2000588


def test_unknown_article_is_404_2000428(client: TestClient, auth: Headers) -> None:
    answer = client.get("/3/articles/NOPE", headers=auth)
    assert answer.status_code == 404
    assert answer.json() == {"ErrorInformation": {"error": 1, "message": "Kan inte hitta artikeln", "code": 2000428}}


def test_create_needs_only_a_description_and_assigns_a_number(client: TestClient, auth: Headers) -> None:
    answer = create(client, auth, Description="Plain thing")
    assert answer.status_code == 201
    article = answer.json()["Article"]
    assert article["ArticleNumber"] == "1"
    assert article["SalesPrice"] == 0
    assert article["Type"] == "STOCK"
    assert article["Active"] is True
    assert create(client, auth, Description="Second").json()["Article"]["ArticleNumber"] == "2"
    base = client.get("/3/prices/A/1/0", headers=auth)
    assert base.status_code == 200
    assert base.json()["Price"]["FromQuantity"] == 0


def test_create_validates_fields(client: TestClient, auth: Headers) -> None:
    assert error_code(create(client, auth, ArticleNumber="X1")) == 2001392  # Description is required
    assert error_code(create(client, auth, Description="x" * 201)) == 2001392
    assert create(client, auth, Description="x" * 200).status_code == 201
    assert error_code(create(client, auth, ArticleNumber="A" * 51, Description="long number")) == 2001392
    assert error_code(create(client, auth, ArticleNumber="ÅÄÖ 1", Description="bad chars")) == 2000359
    assert error_code(create(client, auth, Description="unit", Unit="parsec")) == 2000432
    assert error_code(create(client, auth, Description="bool", Active="yes")) == 2000134
    assert error_code(create(client, auth, Description="num", PurchasePrice="abc")) == 2000108
    assert error_code(create(client, auth, Description="field", Colour="red")) == 2001399


def test_a_duplicate_article_number_is_a_400(client: TestClient, auth: Headers) -> None:
    answer = create(client, auth, ArticleNumber="DEMO-1005", Description="again")
    assert answer.status_code == 400
    assert error_code(answer) == ARTICLE_NUMBER_TAKEN


@pytest.mark.parametrize(
    "field", ["SalesPrice", "DisposableQuantity", "StockValue", "ReservedQuantity", "SupplierName", "@url"]
)
def test_read_only_fields_are_rejected(client: TestClient, auth: Headers, field: str) -> None:
    answer = create(client, auth, Description="read-only", **{field: 1})
    assert answer.status_code == 400
    assert error_code(answer) == 2001399
    update = client.put("/3/articles/DEMO-1005", json={"Article": {field: 1}}, headers=auth)
    assert update.status_code == 400
    assert error_code(update) == 2001399


def test_put_is_a_partial_update(client: TestClient, auth: Headers) -> None:
    before = client.get("/3/articles/DEMO-1005", headers=auth).json()["Article"]
    answer = client.put(
        "/3/articles/DEMO-1005",
        json={"Article": {"Description": "Enamel mug, blue", "PurchasePrice": 40.5}},
        headers=auth,
    )
    assert answer.status_code == 200
    after = answer.json()["Article"]
    assert after["Description"] == "Enamel mug, blue"
    assert after["PurchasePrice"] == 40.5
    assert after["EAN"] == before["EAN"]
    assert after["Unit"] == before["Unit"]
    assert after["StockValue"] == 48 * 40.5


def test_the_article_number_cannot_change(client: TestClient, auth: Headers) -> None:
    answer = client.put("/3/articles/DEMO-1005", json={"Article": {"ArticleNumber": "NEW-1"}}, headers=auth)
    assert answer.status_code == 400
    assert client.get("/3/articles/NEW-1", headers=auth).status_code == 404


def test_quantity_in_stock_is_writable_without_the_warehouse_module(client: TestClient, auth: Headers) -> None:
    answer = client.put(
        "/3/articles/DEMO-1005", json={"Article": {"StockGoods": True, "QuantityInStock": 12}}, headers=auth
    )
    assert answer.json()["Article"]["QuantityInStock"] == 12
    assert answer.json()["Article"]["DisposableQuantity"] == 12


def test_delete_answers_204_and_removes_the_prices(client: TestClient, auth: Headers) -> None:
    answer = client.delete("/3/articles/DEMO-1005", headers=auth)
    assert answer.status_code == 204
    assert answer.content == b""
    assert client.get("/3/articles/DEMO-1005", headers=auth).status_code == 404
    assert client.get("/3/prices/A/DEMO-1005/0", headers=auth).status_code == 404
    assert client.delete("/3/articles/DEMO-1005", headers=auth).status_code == 404


def test_bodies_must_be_wrapped_and_valid_json(client: TestClient, auth: Headers) -> None:
    unwrapped = client.post("/3/articles", json={"Description": "no wrapper"}, headers=auth)
    assert unwrapped.status_code == 400
    assert error_code(unwrapped) == 2001392
    broken = client.post("/3/articles", content=b'{"Article": ', headers={**auth, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert error_code(broken) == 2002115
