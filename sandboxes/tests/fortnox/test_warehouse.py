"""The warehouse module (fact sheet §6): activation flag, balances, stock taking, read-only QuantityInStock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from bridge_sandboxes.fortnox.state import FortnoxState

Headers = dict[str, str]
W = "/api/warehouse"


def activate(client: TestClient, tenant_id: int = 1001, on: bool = True) -> None:
    answer = client.post(f"/__admin/companies/{tenant_id}/warehouse", json={"activated": on})
    assert answer.status_code == 200, answer.text


def balance(client: TestClient, auth: Headers, item: str) -> list[dict[str, Any]]:
    answer = client.get(f"{W}/status-v1/stockbalance", params={"itemIds": item}, headers=auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_tenants_v4_reports_the_activation_flag(client: TestClient, auth: Headers) -> None:
    assert client.get(f"{W}/tenants-v4", headers=auth).json() == {"activated": False, "tenantId": 1001}
    activate(client)
    assert client.get(f"{W}/tenants-v4", headers=auth).json() == {"activated": True, "tenantId": 1001}


def test_without_the_module_warehouse_endpoints_refuse(client: TestClient, auth: Headers) -> None:
    answer = client.get(f"{W}/status-v1/stockbalance", headers=auth)
    assert answer.status_code == 400
    assert set(answer.json()) == {"error", "message", "id"}


def test_activation_moves_the_article_stock_into_the_warehouse(client: TestClient, auth: Headers) -> None:
    activate(client)
    (row,) = balance(client, auth, "DEMO-1005")
    assert row == {
        "itemId": "DEMO-1005",
        "stockPointCode": "HL",
        "stockPointId": row["stockPointId"],
        "availableStock": 48,
        "inStock": 48,
    }
    article = client.get("/3/articles/DEMO-1005", headers=auth).json()["Article"]
    assert article["QuantityInStock"] == 48
    points = client.get(f"{W}/stockpoints-v1", headers=auth).json()
    assert [p["code"] for p in points] == ["HL"]
    summary = client.get(f"{W}/stockpoints-v1/itemsummary/DEMO-1005", headers=auth).json()
    assert summary[0]["totalQuantity"] == 48
    assert summary[0]["stockPointCode"] == "HL"


def test_with_the_module_quantity_in_stock_is_read_only(client: TestClient, auth: Headers) -> None:
    activate(client)
    answer = client.put("/3/articles/DEMO-1005", json={"Article": {"QuantityInStock": 5}}, headers=auth)
    assert answer.status_code == 400
    assert answer.json()["ErrorInformation"]["code"] == 2001399


def start_taking(client: TestClient, auth: Headers, date: str) -> int:
    created = client.post(f"{W}/stocktaking-v1", json={"name": "Year end", "responsible": "Ann"}, headers=auth)
    assert created.status_code == 201, created.text
    taking_id = int(created.json()["id"])
    head = {"name": "Year end", "responsible": "Ann", "state": "started", "date": date}
    assert client.put(f"{W}/stocktaking-v1/{taking_id}", json=head, headers=auth).status_code == 200
    return taking_id


def test_a_released_stock_taking_sets_the_balance_absolutely(
    client: TestClient, auth: Headers, state: FortnoxState
) -> None:
    activate(client)
    today = state.now().astimezone(ZoneInfo("Europe/Stockholm")).date().isoformat()
    taking_id = start_taking(client, auth, today)
    point_id = balance(client, auth, "DEMO-1005")[0]["stockPointId"]
    rows = client.post(
        f"{W}/stocktaking-v1/{taking_id}/rows", json=[{"itemId": "DEMO-1005", "stockPointId": point_id}], headers=auth
    )
    assert rows.status_code == 200
    assert rows.json()[0]["inStockQuantity"] == 48
    client.post(f"{W}/stocktaking-v1/{taking_id}/addrows", params={"itemIds": "FX-2002"}, headers=auth)
    head = {
        "name": "Year end",
        "responsible": "Ann",
        "state": "started",
        "date": today,
        "rows": [
            {"itemId": "DEMO-1005", "stockPointId": point_id, "stockTakenQuantity": 30, "countedBy": "Ann"},
            {"itemId": "FX-2002", "stockPointId": point_id, "stockTakenQuantity": 7.5, "countedBy": "Ann"},
        ],
    }
    assert client.put(f"{W}/stocktaking-v1/{taking_id}", json=head, headers=auth).status_code == 200
    released = client.put(f"{W}/stocktaking-v1/{taking_id}/release", headers=auth)
    assert released.status_code == 200
    assert released.json()["state"] == "completed"
    assert balance(client, auth, "DEMO-1005")[0]["inStock"] == 30
    assert balance(client, auth, "FX-2002")[0]["inStock"] == 7.5
    assert client.get("/3/articles/DEMO-1005", headers=auth).json()["Article"]["QuantityInStock"] == 30
    again = client.put(f"{W}/stocktaking-v1/{taking_id}", json=head, headers=auth)
    assert again.status_code == 400
    assert again.json()["error"] == "cannot_modify_released_document"
    assert client.put(f"{W}/stocktaking-v1/{taking_id}/void", headers=auth).status_code == 400


def test_a_stock_taking_dated_in_the_future_cannot_be_released(
    client: TestClient, auth: Headers, state: FortnoxState
) -> None:
    activate(client)
    tomorrow = (state.now() + timedelta(days=2)).astimezone(ZoneInfo("Europe/Stockholm")).date().isoformat()
    taking_id = start_taking(client, auth, tomorrow)
    answer = client.put(f"{W}/stocktaking-v1/{taking_id}/release", headers=auth)
    assert answer.status_code == 400
    assert answer.json()["error"] == "cannot_release_later_than_current_date"
    voided = client.put(f"{W}/stocktaking-v1/{taking_id}/void", headers=auth)
    assert voided.status_code == 200
    assert voided.json()["state"] == "voided"


def test_warehouse_endpoints_need_a_warehouse_or_article_scope(client: TestClient, token_for: Any) -> None:
    answer = client.get(f"{W}/tenants-v4", headers=token_for(1001, "companyinformation"))
    assert answer.status_code == 403
    assert answer.json()["error"] == "missing.rights"
