"""Bad input through the public door (product.md §11): schemathesis against the gateway's own OpenAPI document.

Every operation the document describes is called with generated input, as a signed-in merchant (the session
cookie and the X-Bridge-CSRF header on every case), on a stack of its own: the demo store installed, Fortnox
connected, products matched. Every answer must be no 5xx, a status code the document lists for the operation, a
content type it lists and a body of the documented shape. The normal run makes a few examples per operation; the
`long` variant makes many more.

Left out of the generated run, each for a reason and each covered by a hand-written test below:
- DELETE /api/v1/connection/fortnox disconnects Fortnox, so every later case would test a disconnected store;
- POST /webhooks/ikas needs ikas's HMAC signature over the body, so generated bodies only ever reach the 401;
- POST /api/v1/session/logout ends the session, so every later case would only test the 401.
The generated run also asserts that no case was answered 401 or 403: every one was tested signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import running_stack
from tests.merchants import Urls, connect_fortnox, fortnox_table, installed, started, wait_for

if TYPE_CHECKING:
    from tests.conftest import DevProcess

DEMO_AB = 1001
LONG_AGO = "2020-01-01T00:00:00+00:00"
CLIENT_SECRET = "bridge-local-secret"  # Bridge's local ikas client secret, registered in the ikas sandbox
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# (method, path) left out of the generated run; see the module docstring for why and the tests that cover them.
EXCLUDED = {
    ("DELETE", "/api/v1/connection/fortnox"),
    ("POST", "/webhooks/ikas"),
    ("POST", "/api/v1/session/logout"),
}


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    with running_stack(tmp_path_factory, "api-fuzz", BRIDGE_SYNC_INTERVAL_S="3600") as dev:
        yield dev


@pytest.fixture(scope="module")
def urls(fuzz_stack: DevProcess) -> Urls:
    return Urls.of(fuzz_stack)


@pytest.fixture(scope="module")
def merchant(urls: Urls) -> Iterator[httpx.Client]:
    client = installed(urls, "demo")
    connect_fortnox(urls, client, DEMO_AB)
    (match,) = started(client.post("/api/v1/products/match"))
    assert wait_for(client, match["id"])["state"] == "succeeded"
    yield client
    client.close()


@pytest.fixture(scope="module")
def gateway_schema(urls: Urls) -> Any:
    return schemathesis.openapi.from_url(f"{urls.gateway}/openapi.json")


@pytest.fixture(scope="module")
def operations(gateway_schema: Any) -> list[Any]:
    """The operations of the gateway's own /openapi.json, minus EXCLUDED; every one must be readable."""
    found = []
    for result in gateway_schema.get_all_operations():
        assert isinstance(result, Ok), f"schemathesis cannot read an operation: {result.err()}"
        found.append(result.ok())
    kept = [operation for operation in found if (operation.method.upper(), operation.path) not in EXCLUDED]
    assert len(found) - len(kept) == len(EXCLUDED), "an EXCLUDED operation is no longer in the document"
    return kept


# ---- odd ikas orders through an orders run (first, so the generated run below also reads them back)

ODD_NAME = "Zo\u0308e \U0001f600 \u202eevil\u202c \u200b\u0130\u0131\u015f\u011f \u00c5sa-\u00d6rn " + "\u00e5" * 200
ADDRESS = {"addressLine1": "G\u00f6tgatan 1", "postalCode": "116 46", "city": "Stockholm", "country": "SE"}


def ikas_order(urls: Urls, **spec: Any) -> dict[str, Any]:
    answer = httpx.post(f"{urls.ikas}/__admin/orders", json={"store": "demo", **spec}, timeout=30)
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    return order


def test_odd_ikas_orders_get_a_per_order_error_or_a_correct_order(urls: Urls, merchant: httpx.Client) -> None:
    lines = merchant.get("/api/v1/products", params={"page_size": 200}).json()["items"]
    sku = next(
        line["sku"] for line in lines if line["fortnox_article_number"] and line["status"] in ("synced", "pending")
    )
    customer = {"email": "odd.buyer@example.se", "firstName": "Odd", "lastName": "Buyer"}
    billing = {"firstName": "Odd", "lastName": "Buyer", **ADDRESS}
    odd = {
        "no lines": ikas_order(urls, customer=customer, billingAddress=billing, lines=[]),
        "no customer, no address": ikas_order(urls, lines=[{"sku": sku}]),
        "odd unicode": ikas_order(
            urls,
            customer={"email": "\u00f6dd+\U0001f600@example.se", "firstName": ODD_NAME, "lastName": "\u0000\ufeff"},
            billingAddress={"firstName": ODD_NAME, "lastName": "\u202e", **ADDRESS, "city": "\u0130stanbul \U0001f30d"},
            lines=[{"sku": sku}],
            note="\u0000 \ud7ff \uffff " * 50,
        ),
        "zero price": ikas_order(urls, customer=customer, billingAddress=billing, lines=[{"sku": sku, "price": "0"}]),
        "negative adjustment": ikas_order(
            urls, customer=customer, billingAddress=billing, lines=[{"sku": sku}], discount={"percent": -15}
        ),
        "many lines": ikas_order(
            urls, customer=customer, billingAddress=billing, lines=[{"sku": sku, "quantity": n} for n in range(1, 61)]
        ),
    }
    normal = ikas_order(urls, customer=customer, billingAddress=billing, lines=[{"sku": sku, "quantity": 2}])
    document = merchant.get("/api/v1/settings").json()
    document["orders"].update(
        sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=False
    )
    assert merchant.put("/api/v1/settings", json=document).status_code == 200

    for _ in range(3):  # a run going (a webhook's) is waited for, then one more that began after these orders
        answer = merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        if answer.status_code == 409:
            wait_for(merchant, answer.json()["run_id"])
            continue
        (run,) = started(answer)
        break
    finished = wait_for(merchant, run["id"])

    assert finished["state"] in ("succeeded", "partially_failed"), finished  # never a stopped run
    in_fortnox = Counter(
        str(o.get("ExternalInvoiceReference1") or "") for o in fortnox_table(urls, DEMO_AB, "orders").values()
    )
    listed = {}
    for order in [*odd.values(), normal]:
        answer = merchant.get("/api/v1/orders", params={"q": order["orderNumber"]})
        assert answer.status_code == 200, answer.text
        listed.update({o["ikas_order_id"]: o for o in answer.json()["items"]})
    outcome = {}
    for name, order in [*odd.items(), ("normal", normal)]:
        assert in_fortnox[f"ikas:{order['id']}"] <= 1, name
        seen = listed.get(order["id"])
        outcome[name] = seen and seen["status"]
        if seen is None:  # not taken at all (an order with nothing to send): never in Fortnox either
            assert in_fortnox[f"ikas:{order['id']}"] == 0, name
        elif seen["status"] == "error":
            assert seen["error"]["message"], (name, seen)
        elif seen["status"] in ("created", "fulfilled"):
            assert in_fortnox[f"ikas:{order['id']}"] == 1, (name, seen)
            assert seen["totals_match"] or seen["totals_explanation"], (name, seen)
    assert outcome["normal"] == "created", outcome  # one odd order never stops the others
    assert outcome["no lines"] == "error", outcome  # product.md §11: a clear error, not an empty Fortnox order
    for name in ("no customer, no address", "odd unicode", "zero price", "many lines"):
        assert outcome[name] == "created", (name, outcome)
    assert outcome["negative adjustment"] in ("created", "error"), outcome


def fuzz(urls: Urls, merchant: httpx.Client, operations: list[Any], examples: int) -> None:
    """`examples` valid and `examples` invalid cases per operation, as the merchant; every failure is collected
    (operation, mode, the reproducing curl command and the check's message) and reported together at the end."""
    cookies = {cookie.name: cookie.value for cookie in merchant.cookies.jar}
    headers = {"X-Bridge-CSRF": merchant.headers["X-Bridge-CSRF"]}
    failures: list[str] = []
    signed_out: set[str] = set()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
            )
            def check(case: Any) -> None:
                response = case.call_and_validate(
                    base_url=urls.gateway, headers=headers, cookies=cookies, checks=CHECKS, timeout=30
                )
                if response.status_code in (401, 403):
                    signed_out.add(f"{case.method} {case.path}: {response.status_code} {response.text[:200]}")

            try:
                check()
            except Unsatisfiable:  # the document leaves nothing to get wrong here (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, f"no valid case for {operation.method} {operation.path}"
            except (Exception, BaseExceptionGroup) as failure:  # one operation's failure must not hide the others'
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)
    assert not signed_out, f"cases answered as if not signed in: {sorted(signed_out)}"


def test_every_operation_answers_as_documented(urls: Urls, merchant: httpx.Client, operations: list[Any]) -> None:
    fuzz(urls, merchant, operations, examples=10)


@pytest.mark.long
@pytest.mark.skipif(os.environ.get("BRIDGE_LONG_TESTS") != "1", reason="the long variant: BRIDGE_LONG_TESTS=1")
def test_every_operation_answers_as_documented_long(urls: Urls, merchant: httpx.Client, operations: list[Any]) -> None:
    fuzz(urls, merchant, operations, examples=300)


# ---- the operations left out of the generated run, by hand


def sign(data: str) -> str:
    return hmac.new(CLIENT_SECRET.encode(), data.encode(), hashlib.sha256).hexdigest()


def delivery(urls: Urls, scope: str | None = "store/order/created", data: str | None = None, **fields: Any) -> bytes:
    """An ikas webhook delivery of the demo store, signed as the ikas sandbox signs them (`fields` override)."""
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": "demo"}, timeout=10).json()
    data = json.dumps({"id": str(uuid.uuid4()), "orderNumber": "9001"}) if data is None else data
    body = {
        "id": str(uuid.uuid4()),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "scope": scope,
        "merchantId": launch["merchantId"],
        "authorizedAppId": launch["authorizedAppId"],
        "data": data,
        "signature": sign(data),
        **fields,
    }
    return json.dumps({name: value for name, value in body.items() if value is not None}).encode()


def test_bad_and_forged_webhooks_get_a_documented_4xx(urls: Urls, merchant: httpx.Client, gateway_schema: Any) -> None:
    webhook = gateway_schema["/webhooks/ikas"]["POST"]
    url = f"{urls.gateway}/webhooks/ikas"
    genuine = delivery(urls)
    bad = {
        "forged signature": delivery(urls, signature="0" * 64),
        "signed by another secret": delivery(urls, signature=hmac.new(b"x", b"{}", hashlib.sha256).hexdigest()),
        "no signature": delivery(urls, signature=None),
        "no id": delivery(urls, id=None),
        "no scope": delivery(urls, scope=None),
        "no merchant": delivery(urls, merchantId=None),
        "another merchant": delivery(urls, merchantId=str(uuid.uuid4())),
        "data not a string": json.dumps({**json.loads(delivery(urls)), "data": {"id": "1"}}).encode(),
        "not json": b"{not json",
        "not utf-8": b"\xff\xfe\x00",
        "a list": b"[]",
        "empty": b"",
    }
    for name, body in bad.items():
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=60)
        assert 400 <= answer.status_code < 500 or answer.json().get("status") == "ignored", (name, answer.text)
        webhook.validate_response(answer)

    # Over the limit: 413 before anything is read further (it was a 503: the body is one gRPC message to auth).
    huge = delivery(urls, data=json.dumps({"id": "1", "note": "x" * 5_000_000}))
    too_large = httpx.post(url, content=huge, headers={"Content-Type": "application/json"}, timeout=60)
    assert too_large.status_code == 413, too_large.text
    webhook.validate_response(too_large)

    first = httpx.post(url, content=genuine, headers={"Content-Type": "application/json"}, timeout=30)
    replayed = httpx.post(url, content=genuine, headers={"Content-Type": "application/json"}, timeout=30)
    assert (first.status_code, first.json()) == (200, {"status": "accepted"}), first.text
    assert (replayed.status_code, replayed.json()) == (200, {"status": "duplicate"}), replayed.text
    for answer in (first, replayed):
        webhook.validate_response(answer)

    # Signed, so past the signature: data that is not JSON, an order without its fields, odd unicode, a scope
    # nobody handles. Each is taken or ignored, and the stack still answers afterwards.
    odd = {
        "data not json": delivery(urls, data="{not json"),
        "order without fields": delivery(urls, data="{}"),
        "odd unicode": delivery(urls, data=json.dumps({"id": "\u0000\ud7ff\U0001f600\u202e", "orderNumber": "é"})),
        "unknown scope": delivery(urls, scope="store/unknown/thing"),
        "big but under the limit": delivery(urls, data=json.dumps({"id": str(uuid.uuid4()), "note": "x" * 2_000_000})),
    }
    for name, body in odd.items():
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert answer.status_code < 500, (name, answer.text)
        webhook.validate_response(answer)
    assert merchant.get("/api/v1/connection").status_code == 200


def test_disconnecting_fortnox_answers_as_documented(merchant: httpx.Client, gateway_schema: Any) -> None:
    """Next to last in the module: the stack is left without its Fortnox connection."""
    disconnect = gateway_schema["/api/v1/connection/fortnox"]["DELETE"]
    first, again = merchant.delete("/api/v1/connection/fortnox"), merchant.delete("/api/v1/connection/fortnox")
    for answer in (first, again):
        assert answer.status_code < 500, answer.text
        disconnect.validate_response(answer)
    assert first.is_success, first.text
    assert merchant.get("/api/v1/connection").json()["fortnox"]["status"] != "connected"


def test_logging_out_answers_as_documented(merchant: httpx.Client, gateway_schema: Any) -> None:
    """Last in the module: the merchant's session ends, and a second logout is the documented 401."""
    logout = gateway_schema["/api/v1/session/logout"]["POST"]
    first = merchant.post("/api/v1/session/logout")
    assert first.status_code == 204, first.text
    logout.validate_response(first)
    again = merchant.post("/api/v1/session/logout")
    assert again.status_code == 401, again.text
    logout.validate_response(again)
    assert merchant.get("/api/v1/connection").status_code == 401
