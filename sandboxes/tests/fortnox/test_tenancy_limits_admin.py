"""Companies side by side, the rate limit (fact sheet §2), and the admin API (seed, reset, state, faults)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

Headers = dict[str, str]


def test_every_register_is_per_company(client: TestClient, token_for: Any) -> None:
    demo, other = token_for(1001), token_for(1002)
    assert client.get("/3/articles/DEMO-1005", headers=demo).json()["Article"]["Description"] == "Enamel mug"
    assert client.get("/3/articles/DEMO-1005", headers=other).json()["Article"]["Description"] == "Andra AB mugg"
    assert client.get("/3/articles/ANDRA-1", headers=demo).status_code == 404
    client.post("/3/articles", json={"Article": {"ArticleNumber": "ONLY-DEMO", "Description": "x"}}, headers=demo)
    assert client.get("/3/articles/ONLY-DEMO", headers=other).status_code == 404
    client.put("/3/prices/A/DEMO-1005/0", json={"Price": {"Price": 1}}, headers=other)
    assert client.get("/3/articles/DEMO-1005", headers=demo).json()["Article"]["SalesPrice"] == 111.2
    assert client.get("/3/articles", headers=other).json()["MetaInformation"]["@TotalResources"] == 2
    assert client.get("/3/companyinformation", headers=other).json()["CompanyInformation"]["CompanyName"] == "Andra AB"


def test_25_requests_per_5_seconds_per_tenant(client: TestClient, token_for: Any) -> None:
    demo, other = token_for(1001), token_for(1002)
    client.post("/__admin/rate-limit", json={"limit": 25, "window_s": 5})
    statuses = [client.get("/3/units", headers=demo).status_code for _ in range(26)]
    assert statuses[:25] == [200] * 25
    assert statuses[25] == 429
    limited = client.get("/3/units", headers=demo)
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers
    assert client.get("/3/units", headers=other).status_code == 200  # another tenant has its own budget
    second_token = token_for(1001)
    assert client.get("/3/units", headers=second_token).status_code == 429  # per tenant, not per token


def test_the_limit_window_slides(client: TestClient, auth: Headers) -> None:
    # A window long enough that four requests fit in it on a busy machine, short enough to wait out.
    client.post("/__admin/rate-limit", json={"limit": 3, "window_s": 1.5})
    assert [client.get("/3/units", headers=auth).status_code for _ in range(4)] == [200, 200, 200, 429]
    import time

    time.sleep(1.6)
    assert client.get("/3/units", headers=auth).status_code == 200


def test_reset_empties_and_seed_loads_explicit_companies(client: TestClient) -> None:
    assert client.post("/__admin/reset").status_code == 200
    state = client.get("/__admin/state").json()
    assert state["companies"] == {}
    assert state["clients"] == []
    seeded = client.post(
        "/__admin/seed",
        json={
            "companies": [
                {
                    "tenant_id": 7,
                    "name": "Sju AB",
                    "organisation_number": "556777-7777",
                    "articles": [{"ArticleNumber": "S1", "Description": "Seven", "SalesPrice": "70.50"}],
                }
            ],
            "clients": [{"client_id": "c", "client_secret": "s"}],
        },
    )
    assert seeded.status_code == 200
    token = client.post("/__admin/tokens", json={"tenant_id": 7, "scopes": "article", "client_id": "c"}).json()
    article = client.get("/3/articles/S1", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert article["Article"]["SalesPrice"] == 70.5
    dump = client.get("/__admin/state").json()["companies"]["7"]
    assert dump["name"] == "Sju AB"
    assert "S1" in dump["tables"]["articles"]
    assert dump["tables"]["prices"]["A|S1|0"]["Price"] == 70.5
    assert client.post("/__admin/seed", json={"dataset": "demo"}).json()["companies"]["1001"]["articles"] == 33


def test_calls_are_logged_with_the_tenant(client: TestClient, auth: Headers) -> None:
    client.delete("/__admin/calls")
    client.get("/3/articles/DEMO-1005", headers=auth)
    calls = client.get("/__admin/calls").json()
    assert [(c["method"], c["path"], c["status"], c["key"]) for c in calls] == [
        ("GET", "/3/articles/DEMO-1005", 200, "1001")
    ]


def test_a_status_fault_answers_without_processing(client: TestClient, auth: Headers) -> None:
    fault = {"kind": "status", "method": "POST", "path": "^/3/articles$", "status": 503, "body": {"message": "down"}}
    client.post("/__admin/faults", json=fault)
    answer = client.post("/3/articles", json={"Article": {"ArticleNumber": "F1", "Description": "x"}}, headers=auth)
    assert answer.status_code == 503
    assert client.get("/3/articles/F1", headers=auth).status_code == 404
