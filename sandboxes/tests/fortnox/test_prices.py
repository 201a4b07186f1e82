"""Price lists and prices (fact sheet §5.2): base rows, the pre-selected list, SalesPrice via /3/prices."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

Headers = dict[str, str]


def error_code(answer: Any) -> int:
    return int(answer.json()["ErrorInformation"]["code"])


def test_the_preselected_price_list_is_a(client: TestClient, auth: Headers) -> None:
    lists = client.get("/3/pricelists", headers=auth).json()
    assert lists["MetaInformation"]["@TotalResources"] == 1
    (only,) = lists["PriceLists"]
    assert only["Code"] == "A"
    assert only["PreSelected"] is True
    assert client.get("/3/pricelists/A", headers=auth).json()["PriceList"]["Description"] == "Standardprislista"
    assert client.get("/3/pricelists/Z", headers=auth).status_code == 404


def test_setting_the_base_price_changes_the_articles_sales_price(client: TestClient, auth: Headers) -> None:
    body = {"Price": {"ArticleNumber": "DEMO-1005", "PriceList": "A", "Price": 119.9}}
    answer = client.put("/3/prices/A/DEMO-1005/0", json=body, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["Price"]["Price"] == 119.9
    assert answer.json()["Price"]["FromQuantity"] == 0
    assert client.get("/3/articles/DEMO-1005", headers=auth).json()["Article"]["SalesPrice"] == 119.9
    # GET and PUT also work without FromQuantity (the base row)
    assert client.get("/3/prices/A/DEMO-1005", headers=auth).json()["Price"]["Price"] == 119.9
    again = client.put("/3/prices/A/DEMO-1005", json={"Price": {"Price": "120.10"}}, headers=auth)
    assert again.json()["Price"]["Price"] == 120.1


def test_exact_decimals_survive_the_round_trip(client: TestClient, auth: Headers) -> None:
    client.put("/3/prices/A/DEMO-1005/0", json={"Price": {"Price": 0.1}}, headers=auth)
    client.put("/3/prices/A/DEMO-1005/0", json={"Price": {"Price": 33.33}}, headers=auth)
    assert client.get("/3/prices/A/DEMO-1005/0", headers=auth).text.count('"Price":33.33') == 1


def test_quantity_price_rows_and_the_sublist(client: TestClient, auth: Headers) -> None:
    row = {"ArticleNumber": "DEMO-1005", "PriceList": "A", "FromQuantity": 10, "Price": 99}
    answer = client.post("/3/prices", json={"Price": row}, headers=auth)
    assert answer.status_code == 201
    assert client.post("/3/prices", json={"Price": row}, headers=auth).status_code == 400  # duplicate row
    sublist = client.get("/3/prices/sublist/A/DEMO-1005", headers=auth).json()["Prices"]
    assert [(p["FromQuantity"], p["Price"]) for p in sublist] == [(0, 111.2), (10, 99)]
    assert client.get("/3/prices/A/DEMO-1005/10", headers=auth).json()["Price"]["Price"] == 99
    assert client.delete("/3/prices/A/DEMO-1005/10", headers=auth).status_code == 204
    assert client.get("/3/prices/A/DEMO-1005/10", headers=auth).status_code == 404


def test_a_price_for_an_unknown_article_is_refused(client: TestClient, auth: Headers) -> None:
    row = {"ArticleNumber": "NOPE", "PriceList": "A", "FromQuantity": 0, "Price": 1}
    answer = client.post("/3/prices", json={"Price": row}, headers=auth)
    assert answer.status_code == 400
    assert error_code(answer) == 2001302
    assert client.get("/3/prices/A/NOPE/0", headers=auth).status_code == 404


def test_date_is_read_only(client: TestClient, auth: Headers) -> None:
    answer = client.put("/3/prices/A/DEMO-1005/0", json={"Price": {"Date": "2020-01-01"}}, headers=auth)
    assert answer.status_code == 400
    assert error_code(answer) == 2001399


def test_a_new_price_list_gets_base_rows_and_new_articles_get_rows_in_every_list(
    client: TestClient, auth: Headers
) -> None:
    created = client.post("/3/pricelists", json={"PriceList": {"Code": "B", "Description": "Reseller"}}, headers=auth)
    assert created.status_code == 201
    assert created.json()["PriceList"]["PreSelected"] is False
    assert client.get("/3/prices/B/DEMO-1005/0", headers=auth).json()["Price"]["Price"] == 0
    client.post("/3/articles", json={"Article": {"ArticleNumber": "NEW-1", "Description": "New"}}, headers=auth)
    assert client.get("/3/prices/A/NEW-1/0", headers=auth).status_code == 200
    assert client.get("/3/prices/B/NEW-1/0", headers=auth).status_code == 200


def test_prices_need_the_price_scope(client: TestClient, token_for: Any) -> None:
    answer = client.get("/3/prices/A/DEMO-1005/0", headers=token_for(1001, "article"))
    assert answer.status_code == 403
    assert error_code(answer) == 2000663
