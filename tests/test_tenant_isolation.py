"""Tenant walls and secrets (product.md §11, issue #11): two tenants on one stack of this module's own.

"demo" (Demo AB) and "other" (Andra AB) are installed, connected, matched and have their orders sent. Then every
gateway route that takes an id, generated from the gateway's own /openapi.json so a new route is covered without
editing this file, is called with one tenant's session and the other tenant's real ids: each answers 404 with a
problem body that carries none of the owner's data, and the owner's records, runs and Fortnox company are
unchanged. Lists never show the other tenant's ids.

Then both sandboxes' clocks move past their tokens' lifetimes so Bridge refreshes its Fortnox and ikas tokens, and
every database of the stack (every row of every table of every SQLite file in its data dir, and the files'
raw bytes) and the stack's whole log are searched for every secret the stack has seen: the access and refresh
tokens the two sandboxes issued, the OAuth client secrets, the vault key, the service token, the dashboard session
and CSRF tokens and an App Bridge JWT, each exactly and in its base64, URL-encoded and JSON-escaped forms.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import running_stack
from tests.merchants import (
    RUNS,
    Urls,
    clear_calls,
    connect_fortnox,
    fortnox_writes,
    installed,
    run_now,
    started,
    wait_for,
)
from tests.test_orders_api import LONG_AGO, run_orders, save_order_settings

if TYPE_CHECKING:
    from tests.conftest import DevProcess

DEMO_AB, ANDRA_AB = 1001, 1002
COMPANY = {"demo": DEMO_AB, "other": ANDRA_AB}
PRODUCTS, ORDERS = "/api/v1/products", "/api/v1/orders"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code", "errors", "run_id"}
# What each id-taking path parameter names, and the list its real ids come from. A new parameter name fails
# test_every_id_route_is_covered until it is added here, so no id route goes untested.
ID_KINDS = {"line_id": "products", "order_id": "orders", "run_id": "runs"}
LISTS = {"products": PRODUCTS, "orders": ORDERS, "runs": RUNS}
SECRET_FILES = {"service-token", "vault.key"}  # local mode's generated secrets: where they live, by design
DETAILS = {"products": PRODUCTS + "/{}", "orders": ORDERS + "/{}", "runs": RUNS + "/{}"}


@dataclass
class Tenant:
    store: str
    company: int
    client: httpx.Client
    ids: dict[str, list[str]]  # kind -> real ids, as this tenant's lists give them


@pytest.fixture(scope="module")
def isolated_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    with running_stack(tmp_path_factory, "isolation", BRIDGE_SYNC_INTERVAL_S="3600") as dev:
        yield dev


@pytest.fixture(scope="module")
def urls(isolated_stack: DevProcess) -> Urls:
    return Urls.of(isolated_stack)


@pytest.fixture(scope="module")
def tenants(urls: Urls) -> Iterator[dict[str, Tenant]]:
    """Both stores installed and connected, products matched, orders sent with invoices; their ids collected."""
    found: dict[str, Tenant] = {}
    for store, company in COMPANY.items():
        client = installed(urls, store)
        connect_fortnox(urls, client, company)
        (match,) = started(client.post(f"{PRODUCTS}/match"))
        assert wait_for(client, match["id"])["state"] == "succeeded"
        if store == "other":  # Andra AB has no articles of its own: a products run exports the store's to it
            export_products(client)
        save_order_settings(
            client, sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=True
        )
        run_orders(client)
        found[store] = Tenant(store, company, client, {kind: every_id(client, path) for kind, path in LISTS.items()})
    for tenant in found.values():
        for kind, ids in tenant.ids.items():
            assert ids, f"{tenant.store} has no {kind} to test with"
    yield found
    for tenant in found.values():
        tenant.client.close()


# ---- helpers


def export_products(client: httpx.Client) -> None:
    document = client.get("/api/v1/settings").json()
    document["products"].update(sync_mode="ikas_to_fortnox", create_new=True, update_existing=True)
    saved = client.put("/api/v1/settings", json=document, params={"confirm_reset": "true"})
    assert saved.status_code == 200, saved.text
    (run,) = run_now(client, "products")
    assert run["state"] in {"succeeded", "partially_failed"}, run


def every_item(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, params={"page": page, "page_size": 200})
        assert response.status_code == 200, response.text
        body = response.json()
        batch = body["items"] if isinstance(body, dict) else body
        items.extend(batch)
        if not isinstance(body, dict) or len(items) >= body.get("total", len(items)) or not batch:
            return items
        page += 1


def every_id(client: httpx.Client, path: str) -> list[str]:
    return [str(item["id"]) for item in every_item(client, path)]


def id_routes(spec: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path template, path parameter names) for every operation whose path takes a parameter."""
    routes = []
    for path, operations in spec["paths"].items():
        names = re.findall(r"\{([^}]+)\}", path)
        if not names:
            continue
        for method in operations:
            if method in ("get", "put", "post", "patch", "delete"):
                routes.append((method.upper(), path, names))
    return routes


def minimal(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The smallest value a request-body schema accepts (required fields only), so a route gets past validation
    and its 404 is about the id."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return minimal(spec["components"]["schemas"][name], spec)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return minimal(schema[combined][0], spec)
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal(props[name], spec) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 0, "number": 0, "boolean": False, "null": None}.get(str(kind), "x")


def body_for(operation: dict[str, Any], spec: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return None if schema is None else minimal(schema, spec)


def detail_of(tenant: Tenant, kind: str, item_id: str) -> Any:
    response = tenant.client.get(DETAILS[kind].format(item_id))
    assert response.status_code == 200, response.text
    return response.json()


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str) and len(value) >= 6:
        yield value


# ---- the walls


def test_every_id_route_is_covered(urls: Urls, tenants: dict[str, Tenant]) -> None:
    spec = httpx.get(f"{urls.gateway}/openapi.json", timeout=10).json()
    routes = id_routes(spec)
    paths = {path for _, path, _ in routes}

    assert paths, "the gateway's OpenAPI lists routes that take an id"
    assert {f"{PRODUCTS}/{{line_id}}", f"{ORDERS}/{{order_id}}", f"{RUNS}/{{run_id}}"} <= paths
    unknown = {name for _, _, names in routes for name in names} - set(ID_KINDS)
    assert not unknown, f"path parameters this suite has no ids for (add them to ID_KINDS): {unknown}"


@pytest.mark.parametrize(("caller", "owner"), [("demo", "other"), ("other", "demo")])
def test_another_tenants_ids_answer_404_and_change_nothing(
    urls: Urls, tenants: dict[str, Tenant], caller: str, owner: str
) -> None:
    spec = httpx.get(f"{urls.gateway}/openapi.json", timeout=10).json()
    me, them = tenants[caller], tenants[owner]
    # One id of each kind, and of the orders one that has an invoice (the PDF route has something to give).
    picked = {kind: ids[0] for kind, ids in them.ids.items()}
    invoiced = [o for o in every_item(them.client, ORDERS) if o.get("fortnox_invoice_number")]
    assert invoiced, f"{owner} has an invoiced order"
    picked["orders"] = str(invoiced[0]["id"])
    before = {kind: detail_of(them, kind, item_id) for kind, item_id in picked.items()}
    their_runs = set(every_id(them.client, RUNS))
    their_values = {value for record in before.values() for value in strings_in(record)} - set(picked.values())
    clear_calls(urls)

    called = []
    for method, path, names in id_routes(spec):
        target = path
        for name in names:
            target = target.replace(f"{{{name}}}", quote(picked[ID_KINDS[name]], safe=""))
        body = body_for(spec["paths"][path][method.lower()], spec)
        answer = me.client.request(method, target, **({} if body is None else {"json": body}))
        called.append(f"{method} {path}")

        assert answer.status_code == 404, f"{method} {target} as {caller}: {answer.status_code} {answer.text}"
        assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
        problem = answer.json()
        assert problem["status"] == 404, problem
        assert set(problem) <= PROBLEM_FIELDS, problem
        leaked = [value for value in their_values if value in answer.text]
        assert not leaked, f"{method} {target} as {caller} shows {owner}'s data {leaked}: {answer.text}"

    assert {f"POST {ORDERS}/{{order_id}}/send", f"GET {PRODUCTS}/{{line_id}}", f"GET {RUNS}/{{run_id}}"} <= set(called)
    after = {kind: detail_of(them, kind, item_id) for kind, item_id in picked.items()}
    assert after == before
    assert set(every_id(them.client, RUNS)) == their_runs, f"a call as {caller} started a run of {owner}"
    assert fortnox_writes(urls, them.company) == [], f"a call as {caller} wrote to {owner}'s Fortnox"
    assert fortnox_writes(urls, me.company) == []


@pytest.mark.parametrize(("caller", "owner"), [("demo", "other"), ("other", "demo")])
def test_lists_never_show_another_tenants_ids(tenants: dict[str, Tenant], caller: str, owner: str) -> None:
    me, them = tenants[caller], tenants[owner]
    for kind, path in LISTS.items():
        mine = set(every_id(me.client, path))
        assert mine, f"{caller} lists no {kind}"
        assert not mine & set(them.ids[kind]), f"{caller}'s {kind} list shows {owner}'s ids"

    # Searching for the other tenant's SKUs, order numbers and ids finds none of theirs.
    for path, fields in ((PRODUCTS, ("sku", "id")), (ORDERS, ("ikas_order_number", "fortnox_order_number", "id"))):
        theirs = every_item(them.client, path)[:3]
        for item in theirs:
            for field in fields:
                if not item.get(field):
                    continue
                answer = me.client.get(path, params={"q": str(item[field]), "page_size": 200})
                assert answer.status_code == 200, answer.text
                shown = {str(found["id"]) for found in answer.json()["items"]}
                assert not shown & set(them.ids["products" if path == PRODUCTS else "orders"]), (path, item[field])


# ---- secrets at rest and in logs


def secret_values(urls: Urls, stack: DevProcess, tenants: dict[str, Tenant]) -> dict[str, str]:
    """Every secret the stack has seen, by a name that says where it came from."""
    found: dict[str, str] = {}
    for sandbox, base in (("ikas", urls.ikas), ("fortnox", urls.fortnox)):
        for kind, values in issued(base).items():
            for index, value in enumerate(values):
                found[f"{sandbox} {kind}[{index}]"] = value
    data = stack.data_dir
    found["service token"] = (data / "service-token").read_text().strip()
    vault_key = (data / "vault.key").read_text().strip()
    found["vault key"] = vault_key
    found["vault key (hex)"] = base64.b64decode(vault_key).hex()
    for name, value in stack.env.items():
        if any(word in name for word in ("SECRET", "TOKEN", "VAULT_KEY")):
            found[f"environment {name}"] = value
    for tenant in tenants.values():
        for cookie in ("bridge_session", "bridge_csrf"):
            found[f"{tenant.store} {cookie}"] = tenant.client.cookies[cookie]
    return {name: value for name, value in found.items() if len(value) >= 8}


def issued(base: str) -> dict[str, list[str]]:
    answer: dict[str, list[str]] = httpx.get(f"{base}/__admin/issued-secrets", timeout=10).json()
    return answer


def refresh_every_token(urls: Urls, demo: Tenant) -> set[str]:
    """Both sandboxes' clocks moved past their access tokens' lifetimes, then a PDF download and a match run:
    Bridge refreshes its Fortnox and ikas tokens, so the refresh paths' handling of tokens is searched too.
    The tokens issued by the refreshes."""
    before = {base: issued(base) for base in (urls.fortnox, urls.ikas)}
    for base, seconds in ((urls.fortnox, 3900), (urls.ikas, 15_000)):
        moved = httpx.post(f"{base}/__admin/clock", json={"advance_s": seconds}, timeout=10)
        assert moved.status_code == 200, moved.text
    invoiced = [o for o in every_item(demo.client, ORDERS) if o.get("fortnox_invoice_number")]
    pdf = demo.client.get(f"{ORDERS}/{invoiced[0]['id']}/invoice.pdf")
    assert pdf.status_code == 200, pdf.text
    (match,) = started(demo.client.post(f"{PRODUCTS}/match"))
    assert wait_for(demo.client, match["id"])["state"] == "succeeded"
    new: set[str] = set()
    for base, old in before.items():
        now = issued(base)
        fresh = {kind: set(now[kind]) - set(old[kind]) for kind in ("access_tokens", "refresh_tokens")}
        assert fresh["access_tokens"], f"no token was refreshed at {base}"
        new |= fresh["access_tokens"] | fresh["refresh_tokens"]
    return new


def forms_of(value: str) -> set[bytes]:
    raw = value.encode()
    return {
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        quote(value, safe="").encode(),
        json.dumps(value)[1:-1].encode(),
    }


def database_texts(data_dir: Path) -> dict[str, bytes]:
    """Every row of every table of every SQLite database in the data dir, and each file's raw bytes."""
    texts: dict[str, bytes] = {}
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and path.name not in SECRET_FILES:
            texts[f"file {path.name}"] = path.read_bytes()
    for path in sorted(data_dir.glob("*.db")):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                cells = []
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    for cell in row:
                        cells.append(cell if isinstance(cell, bytes) else str(cell).encode())
                texts[f"{path.name} table {table}"] = b"\n".join(cells)
        finally:
            connection.close()
    return texts


def test_no_secret_is_stored_or_logged(urls: Urls, isolated_stack: DevProcess, tenants: dict[str, Tenant]) -> None:
    demo = tenants["demo"]
    # An App Bridge JWT, used once, has been through the gateway and auth like a session token.
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": "demo"}, timeout=10).json()
    jwt_call = httpx.get(f"{urls.gateway}{ORDERS}", headers={"Authorization": f"JWT {launch['jwt']}"}, timeout=30)
    assert jwt_call.status_code == 200, jwt_call.text
    refreshed = refresh_every_token(urls, demo)
    secrets = secret_values(urls, isolated_stack, tenants)
    secrets["demo App Bridge JWT"] = launch["jwt"]
    assert refreshed <= set(secrets.values())
    assert demo.client.get(f"{PRODUCTS}").status_code == 200
    kinds = {name.split("[")[0] for name in secrets}
    assert {"ikas access_tokens", "ikas refresh_tokens", "fortnox access_tokens", "fortnox refresh_tokens"} <= kinds
    assert {"ikas client_secrets", "fortnox client_secrets", "service token", "vault key"} <= kinds

    places = database_texts(isolated_stack.data_dir)
    places["the stack's log"] = isolated_stack.log_path.read_bytes()
    assert any(name.startswith("auth.db table") for name in places)

    leaks = [
        f"{secret} in {place}"
        for secret, value in secrets.items()
        for form in forms_of(value)
        for place, text in places.items()
        if form in text
    ]
    assert not leaks, "\n".join(sorted(set(leaks)))
