"""Customers (fact sheet §5.4, §4): create with only a Name, numbers never reused, validation, substring searches,
one filter per request, paging, lastmodified, the 404 envelope, the scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

OTHER = 1002


def test_create_needs_only_a_name_and_fills_the_recorded_defaults(api: Any) -> None:
    answer = api.post("/3/customers", {"Customer": {"Name": "Kund AB"}})

    assert answer.status_code == 201
    customer = answer.json()["Customer"]
    assert customer["CustomerNumber"] == "1"
    assert customer["@url"].endswith("/3/customers/1")
    assert (customer["Type"], customer["VATType"], customer["Currency"], customer["PriceList"]) == (
        "COMPANY",
        "SEVAT",
        "SEK",
        "A",
    )
    assert customer["Email"] == ""
    assert customer["Address1"] is None
    assert api.get("/3/customers/1").json()["Customer"]["Name"] == "Kund AB"


def test_a_missing_name_is_refused(api: Any) -> None:
    assert api.post("/3/customers", {"Customer": {"Email": "x@example.se"}}).status_code == 400


def test_customer_numbers_are_never_reused_even_after_a_delete(api: Any) -> None:
    first = api.created("/3/customers", "Customer", {"Name": "A"})
    api.created("/3/customers", "Customer", {"Name": "B", "CustomerNumber": "3"})
    assert api.delete(f"/3/customers/{first['CustomerNumber']}").status_code == 204

    again = api.post("/3/customers", {"Customer": {"Name": "C", "CustomerNumber": first["CustomerNumber"]}})
    taken = api.post("/3/customers", {"Customer": {"Name": "D", "CustomerNumber": "3"}})
    assigned = [api.created("/3/customers", "Customer", {"Name": n})["CustomerNumber"] for n in ("E", "F")]

    assert api.error(again) == (400, 2000637)
    assert api.error(taken) == (400, 2000637)
    assert assigned == ["2", "4"]  # 1 (deleted) and 3 (taken) are skipped


def test_an_unknown_customer_is_404_with_2000433(api: Any) -> None:
    answer = api.get("/3/customers/999")

    assert api.error(answer) == (404, 2000433)
    assert answer.json()["ErrorInformation"]["message"] == "Kan inte hitta kunden."


@pytest.mark.parametrize(
    "fields",
    [{"Type": "PERSON"}, {"VATType": "EUVAT25"}, {"CountryCode": "XX"}, {"DeliveryCountryCode": "Sweden"}],
)
def test_enumerations_and_country_codes_are_validated(api: Any, fields: dict[str, str]) -> None:
    assert api.error(api.post("/3/customers", {"Customer": {"Name": "X", **fields}})) == (400, 2000588)


@pytest.mark.parametrize("vat_type", ["SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"])
def test_every_documented_vat_type_is_accepted(api: Any, vat_type: str) -> None:
    customer = api.created("/3/customers", "Customer", {"Name": "X", "VATType": vat_type, "VATNumber": "DE123"})
    assert customer["VATType"] == vat_type


def test_country_names_are_read_only_and_derived_from_the_codes(api: Any) -> None:
    customer = api.created("/3/customers", "Customer", {"Name": "X", "CountryCode": "NO", "DeliveryCountryCode": "DK"})

    assert (customer["Country"], customer["DeliveryCountry"]) == ("Norge", "Danmark")
    assert api.error(api.post("/3/customers", {"Customer": {"Name": "Y", "Country": "Norge"}})) == (400, 2001399)
    assert api.error(api.post("/3/customers", {"Customer": {"Name": "Y", "Nickname": "y"}})) == (400, 2001399)


def test_put_is_a_partial_update(api: Any, customer_number: str) -> None:
    answer = api.put(f"/3/customers/{customer_number}", {"Customer": {"VATType": "EUREVERSEDVAT", "VATNumber": "X1"}})

    customer = answer.json()["Customer"]
    assert answer.status_code == 200
    assert (customer["VATType"], customer["VATNumber"]) == ("EUREVERSEDVAT", "X1")
    assert (customer["Name"], customer["Email"], customer["Type"]) == ("Anna Andersson", "anna@example.se", "PRIVATE")
    assert api.error(api.put("/3/customers/404", {"Customer": {"Name": "X"}})) == (404, 2000433)


def test_search_by_email_is_a_case_insensitive_substring_match(api: Any) -> None:
    for name, email in (("A", "anna@example.se"), ("B", "hanna@example.se"), ("C", "bo@other.se")):
        api.created("/3/customers", "Customer", {"Name": name, "Email": email})

    found = api.get("/3/customers", email="ANNA@example").json()

    assert [c["Name"] for c in found["Customers"]] == ["A", "B"]  # substring: the client compares exactly
    assert set(found["Customers"][0]) == {
        "@url",
        "Address1",
        "Address2",
        "City",
        "CustomerNumber",
        "Email",
        "Name",
        "OrganisationNumber",
        "Phone",
        "ZipCode",
    }


def test_search_by_organisation_number_name_and_number(api: Any) -> None:
    api.created("/3/customers", "Customer", {"Name": "Alfa AB", "OrganisationNumber": "556000-1111"})
    api.created("/3/customers", "Customer", {"Name": "Beta AB", "OrganisationNumber": "556000-2222"})

    assert [c["Name"] for c in api.get("/3/customers", organisationnumber="2222").json()["Customers"]] == ["Beta AB"]
    assert [c["Name"] for c in api.get("/3/customers", name="alfa").json()["Customers"]] == ["Alfa AB"]
    assert [c["CustomerNumber"] for c in api.get("/3/customers", customernumber="2").json()["Customers"]] == ["2"]


def test_only_one_search_or_filter_per_request(api: Any) -> None:
    assert api.error(api.get("/3/customers", email="a", name="b")) == (400, 2000587)
    assert api.error(api.get("/3/customers", filter="deleted")) == (400, 2000587)


def test_filter_active_and_inactive(api: Any) -> None:
    api.created("/3/customers", "Customer", {"Name": "Active"})
    api.created("/3/customers", "Customer", {"Name": "Gone", "Active": False})

    assert [c["Name"] for c in api.get("/3/customers", filter="inactive").json()["Customers"]] == ["Gone"]
    assert [c["Name"] for c in api.get("/3/customers", filter="active").json()["Customers"]] == ["Active"]


def test_pages_carry_meta_information(api: Any) -> None:
    for index in range(5):
        api.created("/3/customers", "Customer", {"Name": f"K{index}"})

    page = api.get("/3/customers", limit=2, page=3).json()
    empty = api.get("/3/customers", name="nobody").json()

    assert page["MetaInformation"] == {"@TotalResources": 5, "@TotalPages": 3, "@CurrentPage": 3}
    assert [c["Name"] for c in page["Customers"]] == ["K4"]
    assert empty == {"MetaInformation": {"@TotalResources": 0, "@TotalPages": 0, "@CurrentPage": 1}, "Customers": []}
    assert api.error(api.get("/3/customers", limit=501)) == (400, 2000588)


def test_sort_by_name_descending(api: Any) -> None:
    for name in ("Beta", "alfa", "Gamma"):
        api.created("/3/customers", "Customer", {"Name": name})

    listed = api.get("/3/customers", sortby="name", sortorder="descending").json()["Customers"]

    assert [c["Name"] for c in listed] == ["Gamma", "Beta", "alfa"]


def test_lastmodified_returns_what_changed_since_in_stockholm_time(api: Any, client: TestClient) -> None:
    api.created("/3/customers", "Customer", {"Name": "Old"})
    changed = api.created("/3/customers", "Customer", {"Name": "Changed"})
    now = client.post("/__admin/clock", json={"advance_s": 600}).json()["now"]
    api.put(f"/3/customers/{changed['CustomerNumber']}", {"Customer": {"City": "Lund"}})

    since = datetime.fromisoformat(now).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    listed = api.get("/3/customers", lastmodified=since).json()["Customers"]

    assert [c["Name"] for c in listed] == ["Changed"]


def test_companies_are_separate(api: Any, token_for: Callable[..., dict[str, str]], client: TestClient) -> None:
    api.created("/3/customers", "Customer", {"Name": "Demo kund"})

    other = client.get("/3/customers/1", headers=token_for(OTHER))

    assert other.status_code == 404


def test_the_customer_scope_is_needed(client: TestClient, token_for: Callable[..., dict[str, str]]) -> None:
    answer = client.get("/3/customers", headers=token_for(scopes="article order"))

    assert answer.status_code == 403
    assert answer.json()["ErrorInformation"]["code"] == 2000663
