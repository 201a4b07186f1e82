"""Company information, units and currencies (fact sheet §5.3, §5.7, §1.4)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

Headers = dict[str, str]


def error_code(answer: Any) -> int:
    return int(answer.json()["ErrorInformation"]["code"])


def test_company_information_gives_the_database_number(client: TestClient, auth: Headers) -> None:
    info = client.get("/3/companyinformation", headers=auth).json()["CompanyInformation"]
    assert info["CompanyName"] == "Demo AB"
    assert info["OrganizationNumber"] == "556677-8899"
    assert info["DatabaseNumber"] == 1001
    assert {"Address", "City", "ZipCode", "CountryCode", "VisitAddress"} <= info.keys()


def test_units_list_create_and_read(client: TestClient, auth: Headers) -> None:
    codes = {u["Code"] for u in client.get("/3/units", headers=auth).json()["Units"]}
    assert {"st", "kg", "l", "m"} <= codes
    created = client.post("/3/units", json={"Unit": {"Code": "pall", "Description": "Pall"}}, headers=auth)
    assert created.status_code == 201
    assert created.json()["Unit"]["Code"] == "pall"
    assert client.get("/3/units/pall", headers=auth).json()["Unit"]["Description"] == "Pall"
    assert (
        client.post("/3/units", json={"Unit": {"Code": "pall", "Description": "Again"}}, headers=auth).status_code
        == 400
    )
    assert (
        client.post("/3/units", json={"Unit": {"Code": "x" * 21, "Description": "x"}}, headers=auth).status_code == 400
    )
    missing = client.get("/3/units/parsec", headers=auth)
    assert missing.status_code == 404
    assert error_code(missing) == 2000432
    article = client.post("/3/articles", json={"Article": {"Description": "On a pallet", "Unit": "pall"}}, headers=auth)
    assert article.status_code == 201
    assert article.json()["Article"]["Unit"] == "pall"


def test_an_article_with_an_unknown_unit_is_2000432(client: TestClient, auth: Headers) -> None:
    answer = client.put("/3/articles/DEMO-1005", json={"Article": {"Unit": "parsec"}}, headers=auth)
    assert answer.status_code == 400
    assert error_code(answer) == 2000432


def test_currencies(client: TestClient, auth: Headers) -> None:
    codes = [c["Code"] for c in client.get("/3/currencies", headers=auth).json()["Currencies"]]
    assert set(codes) == {"SEK", "EUR", "USD", "NOK", "DKK"}
    eur = client.get("/3/currencies/EUR", headers=auth).json()["Currency"]
    assert eur["SellRate"] == 11.45
    assert eur["Unit"] == 1
    assert client.get("/3/currencies/XXX", headers=auth).status_code == 404
