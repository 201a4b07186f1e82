"""The documents after the order, against the Fortnox and ikas sandboxes as real processes over HTTP (product.md §5):
ProcessOrder and the per-order actions through the real adapters, clients and transports, asserting on what the
sandboxes hold: the invoice made once in either createinvoice answer shape, the e-mail asked at most once (a lost
answer is `unknown` and never asked again by itself; resend asks), the PDF attached once (Order.invoices checked
first), 429/503/timeouts/dropped connections at each step, two concurrent calls on one order, and each setting's
effect on the Fortnox documents (language, shipping, units, unrelated items, VATType, totals).

Relations come from a small ArticleNumbers of the test (a variant is related when its SKU is a Fortnox article of
the company): the catalog service is not part of these tests."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import JSON, bindparam, insert, text

from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.tables import map_tables, order_records
from bridge_orders.adapters.ikas_feed import HttpIkasOrderFeed
from bridge_orders.adapters.upstreams import (
    HttpFortnoxCustomers,
    HttpFortnoxDocuments,
    HttpFortnoxInvoices,
    HttpFortnoxOrders,
    HttpFortnoxRegisters,
    HttpFortnoxSettlements,
    HttpIkasOrderInvoices,
    HttpIkasOrders,
)
from bridge_orders.app.ports import AttachedInvoice
from bridge_orders.app.process_order import ProcessOrderRequest, ProcessOrderResult
from bridge_orders.bootstrap import MIGRATIONS, Services, build
from bridge_orders.domain.order_record import UNKNOWN_OUTCOME_SETTLE, OrderRecord
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.settings import BridgeSettings
from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_upstreams.fortnox.client import FortnoxClient
from bridge_upstreams.ikas.client import IkasClient
from bridge_upstreams.rate_budget import make_rate_budget
from bridge_upstreams.transport import RetryPolicy, UpstreamTransport

TENANT = "t-demo"
STORE, COMPANY = "demo", "1001"
FORTNOX_SCOPES = "article customer order invoice price companyinformation settings currency payment"
FAST = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=0.3)
READ_TIMEOUT_S = 1.5  # a delay fault of SLOW_S answers after the client gave up: a timeout
SLOW_S = 2.5
ANNA = {"email": "anna.docs@example.com", "firstName": "Anna", "lastName": "Berg", "preferredLanguage": "sv-SE"}
ANNA_ADDRESS = {"firstName": "Anna", "lastName": "Berg", "addressLine1": "Storgatan 1", "city": "Stockholm"}
POST = [{"title": "PostNord", "price": 49, "taxValue": 25}]
MUGS = [{"sku": "DEMO-1005", "quantity": 2}]


@pytest.fixture(scope="module")
def fortnox_url() -> Iterator[str]:
    with running_sandbox("fortnox") as url:
        yield url


@pytest.fixture(scope="module")
def ikas_url() -> Iterator[str]:
    with running_sandbox("ikas") as url:
        yield url


def post(url: str, body: Any = None) -> Any:
    response = httpx.post(url, json=body if body is not None else {}, timeout=30)
    assert response.status_code < 300, f"{url}: {response.status_code} {response.text}"
    return response.json()


def get(url: str) -> Any:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


class Tokens:
    """Sandbox access tokens: the Fortnox company's, or the ikas store's (client credentials); `minted` keeps
    every token handed out, so a test can prove none reached the timeline."""

    def __init__(self, mint: Callable[[], str]) -> None:
        self._mint, self._lock = mint, threading.Lock()
        self._token: str | None = None
        self.minted: list[str] = []

    def access_token(self, tenant_id: str) -> str:
        assert tenant_id == TENANT
        with self._lock:
            if self._token is None:
                self._token = self._mint()
                self.minted.append(self._token)
            return self._token

    def report_rejected(self, tenant_id: str, token: str) -> None:
        with self._lock:
            self._token = None


def fortnox_tokens(url: str) -> Tokens:
    def mint() -> str:
        token: str = post(f"{url}/__admin/tokens", {"tenant_id": int(COMPANY), "scopes": FORTNOX_SCOPES})[
            "access_token"
        ]
        return token

    return Tokens(mint)


def ikas_tokens(url: str) -> Tokens:
    def mint() -> str:
        form = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
        response = httpx.post(f"{url}/stores/{STORE}/api/admin/oauth/token", data=form, timeout=30)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return Tokens(mint)


def transport(upstream: str, tokens: Tokens, tmp_path: Path, read_timeout_s: float) -> UpstreamTransport:
    return UpstreamTransport(
        upstream=upstream,
        http=httpx.Client(timeout=httpx.Timeout(read_timeout_s, connect=5.0)),
        tokens=tokens,
        budget=make_rate_budget(upstream, [(100_000, 1.0)], url=None, data_dir=tmp_path / upstream),
        retry=FAST,
    )


class SkuRelations:
    """ArticleNumbers: a variant is related when its SKU is an article of the Fortnox company."""

    def __init__(self, fortnox_url: str) -> None:
        self._url = fortnox_url

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]:
        articles = get(f"{self._url}/__admin/state")["companies"][COMPANY]["tables"].get("articles", {})
        return {variant: sku for variant, sku in variants.items() if sku and sku in articles}


class StoreNames:
    def store_name(self, tenant_id: str) -> str:
        return STORE


class ArmedAttachments:
    """The real HttpIkasOrderInvoices, with a sandbox fault armed right before addOrderInvoice: every GraphQL
    call shares one path, so a fault added beforehand would hit the order read that precedes the mutation."""

    def __init__(self, inner: HttpIkasOrderInvoices, ikas_url: str) -> None:
        self._inner, self._url = inner, ikas_url
        self.fault: dict[str, Any] | None = None

    def app_id(self, tenant_id: str) -> str:
        return self._inner.app_id(tenant_id)

    def attach(
        self,
        tenant_id: str,
        ikas_order_id: str,
        invoice_number: str,
        pdf: bytes,
        *,
        buyer_is_company: bool,
        notify_customer: bool,
    ) -> AttachedInvoice:
        if self.fault is not None:
            post(f"{self._url}/__admin/faults", {"path": "^/api/v1/admin/graphql$", **self.fault})
            self.fault = None
        return self._inner.attach(
            tenant_id,
            ikas_order_id,
            invoice_number,
            pdf,
            buyer_is_company=buyer_is_company,
            notify_customer=notify_customer,
        )


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


@dataclasses.dataclass
class Stack:
    fortnox_url: str
    ikas_url: str
    clock: Clock
    uow_for: Callable[[str], SqlOrdersUnitOfWork]
    fortnox: FortnoxClient
    ikas: IkasClient
    attachments: ArmedAttachments
    fortnox_tokens: Tokens
    ikas_tokens: Tokens
    tmp_path: Path

    def services(self) -> Services:
        return build(
            BridgeSettings(data_dir=self.tmp_path),
            uow_for=self.uow_for,
            clock=self.clock,
            with_runs=False,
            delete_tenant_data=lambda tenant_id: 0,
            forget_personal_data=lambda tenant_id: 0,
            ikas_orders=HttpIkasOrders(self.ikas),
            order_feed=HttpIkasOrderFeed(self.ikas),
            store_names=StoreNames(),
            article_numbers=SkuRelations(self.fortnox_url),
            fortnox_orders=HttpFortnoxOrders(self.fortnox),
            fortnox_customers=HttpFortnoxCustomers(self.fortnox),
            ikas_invoices=self.attachments,
            fortnox_invoices=HttpFortnoxInvoices(self.fortnox),
            fortnox_registers=HttpFortnoxRegisters(self.fortnox),
            fortnox_settlements=HttpFortnoxSettlements(self.fortnox),
            fortnox_documents=HttpFortnoxDocuments(self.fortnox),
        )

    # -- the tenant's settings and its ikas orders ---------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        settings = dataclasses.replace(
            OrderSettings(sync_automatically=True, sync_from=self.clock.at - timedelta(days=1)), **changes
        )
        with self.uow_for(TENANT) as uow:
            stored = uow.settings.get()
            if stored is None:
                uow.settings.add(TenantOrderSettings(TENANT, settings, self.clock.at))
            else:
                stored.replace(settings, self.clock.at)
            uow.commit()

    def ikas_order(self, **spec: Any) -> str:
        body = {"store": STORE, "customer": ANNA, "billingAddress": ANNA_ADDRESS, "lines": MUGS, **spec}
        order_id: str = post(f"{self.ikas_url}/__admin/orders", body)["id"]
        return order_id

    def process(self, order_id: str, services: Services | None = None) -> ProcessOrderResult:
        return (services or self.services()).process_order(ProcessOrderRequest(TENANT, order_id))

    def record(self, order_id: str) -> OrderRecord:
        with self.uow_for(TENANT) as uow:
            record = uow.orders.get(order_id)
        assert record is not None
        return record

    def settle(self) -> None:
        self.clock.at += UNKNOWN_OUTCOME_SETTLE

    # -- what the sandboxes hold ---------------------------------------------------------------------------

    def company(self) -> dict[str, Any]:
        tables: dict[str, Any] = get(f"{self.fortnox_url}/__admin/state")["companies"][COMPANY]["tables"]
        return tables

    def fortnox_order(self, order_id: str) -> dict[str, Any]:
        (order,) = [
            o
            for o in self.company().get("orders", {}).values()
            if o.get("ExternalInvoiceReference1") == f"ikas:{order_id}"
        ]
        return order

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        return [
            i
            for i in self.company().get("invoices", {}).values()
            if i.get("ExternalInvoiceReference1") == f"ikas:{order_id}"
        ]

    def emails(self, invoice_number: str) -> list[dict[str, Any]]:
        return [m for m in get(f"{self.fortnox_url}/__admin/emails") if m["InvoiceNumber"] == invoice_number]

    def attached(self, order_id: str) -> list[dict[str, Any]]:
        orders = get(f"{self.ikas_url}/__admin/state")["stores"][STORE]["orders"]
        (order,) = [o for o in orders if o["id"] == order_id]
        invoices: list[dict[str, Any]] = order["invoices"]
        return invoices

    def fortnox_calls(self, method: str, path_end: str, *, at_least: int = 0) -> list[dict[str, Any]]:
        """The calls made so far; `at_least`: wait for a late answer's call to be logged (it is logged when the
        sandbox has answered, after the client gave up)."""
        deadline = datetime.now(UTC) + timedelta(seconds=2 * SLOW_S)
        while True:
            calls = [
                c
                for c in get(f"{self.fortnox_url}/__admin/calls")
                if c["method"] == method and c["path"].endswith(path_end)
            ]
            if len(calls) >= at_least or datetime.now(UTC) > deadline:
                return calls
            threading.Event().wait(0.1)

    def fortnox_fault(self, **fault: Any) -> None:
        post(f"{self.fortnox_url}/__admin/faults", fault)


@pytest.fixture
def stack(fortnox_url: str, ikas_url: str, tmp_path: Path) -> Stack:
    post(f"{fortnox_url}/__admin/reset")
    post(f"{fortnox_url}/__admin/seed", {"dataset": "demo"})
    post(f"{fortnox_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 5})
    for _ in range(2):  # the second reset after one that moved the clock, as the ikas sandbox asks
        post(f"{ikas_url}/__admin/reset")
    post(f"{ikas_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 10})
    database_url = f"sqlite:///{tmp_path / 'orders.db'}"
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    return make_stack(fortnox_url, ikas_url, database_url, tmp_path)


def make_stack(fortnox_url: str, ikas_url: str, database_url: str, tmp_path: Path) -> Stack:
    fortnox_tokens_, ikas_tokens_ = fortnox_tokens(fortnox_url), ikas_tokens(ikas_url)
    fortnox = FortnoxClient(transport("fortnox", fortnox_tokens_, tmp_path, READ_TIMEOUT_S), fortnox_url)
    ikas = IkasClient(transport("ikas", ikas_tokens_, tmp_path, READ_TIMEOUT_S), f"{ikas_url}/api/v1/admin/graphql")
    stack = Stack(
        fortnox_url,
        ikas_url,
        Clock(),
        partial(SqlOrdersUnitOfWork, session_factory(make_engine(database_url))),
        fortnox,
        ikas,
        ArmedAttachments(HttpIkasOrderInvoices(ikas), ikas_url),
        fortnox_tokens_,
        ikas_tokens_,
        tmp_path,
    )
    stack.configure()
    return stack


# -- invoice, e-mail, PDF once ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["order", "invoice"])
def test_the_invoice_is_made_once_whichever_shape_createinvoice_answers_with(stack: Stack, shape: str) -> None:
    post(f"{stack.fortnox_url}/__admin/createinvoice-answers", {"shape": shape})
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order(shipping=POST)
    result = stack.process(order_id)
    assert (result.outcome, result.status, result.wrote) == ("created", "created", True)
    order = stack.fortnox_order(order_id)
    (invoice,) = stack.invoices(order_id)
    record = stack.record(order_id)
    assert record.fortnox_invoice_number == invoice["DocumentNumber"] == order["InvoiceReference"]
    assert (invoice["OrderReference"], record.fortnox_state) == (order["DocumentNumber"], "invoiced")
    (attached,) = stack.attached(order_id)
    assert (attached["invoiceNumber"], attached["hasPdf"], attached["sendNotificationToCustomer"]) == (
        invoice["DocumentNumber"],
        True,
        True,  # Fortnox does not e-mail it: ikas tells the customer
    )
    assert invoice["Sent"] is True  # printed: the attachment is the delivery
    writes = [c for c in get(f"{stack.fortnox_url}/__admin/calls") if c["method"] != "GET"]
    again = stack.process(order_id)
    assert (again.outcome, again.wrote) == ("already_sent", False)
    assert len(stack.invoices(order_id)) == len(stack.attached(order_id)) == 1
    assert [c for c in get(f"{stack.fortnox_url}/__admin/calls") if c["method"] != "GET"] == writes


def test_fortnox_emails_the_invoice_once_and_the_attachment_is_an_unsent_preview(stack: Stack) -> None:
    stack.configure(create_invoice=True, send_invoice_email=True)
    order_id = stack.ikas_order()
    stack.process(order_id)
    record = stack.record(order_id)
    number = record.fortnox_invoice_number
    assert number is not None
    (mail,) = stack.emails(number)
    assert mail["To"] == ANNA["email"]
    assert (record.invoice_email_state, record.invoice_email_at) == ("sent", stack.clock.at)
    assert [a["sendNotificationToCustomer"] for a in stack.attached(order_id)] == [False]
    assert stack.fortnox_calls("GET", "/preview")
    assert not stack.fortnox_calls("GET", "/print")
    stack.process(order_id)
    assert len(stack.emails(number)) == 1
    assert len(stack.fortnox_calls("GET", "/email")) == 1


@pytest.mark.parametrize("shape", ["order", "invoice"])
def test_an_order_with_invoice_email_and_pdf_makes_only_the_calls_that_decide_or_write(
    stack: Stack, shape: str
) -> None:
    """The key looked up among the orders (a first attempt: no invoice can carry the key), the customer
    matched once and then cached, no read of the order just created, no search of the invoices before
    createinvoice (nothing earlier is unaccounted for): 5 Fortnox calls for a returning buyer, 7 for a new one."""
    post(f"{stack.fortnox_url}/__admin/createinvoice-answers", {"shape": shape})
    stack.configure(create_invoice=True, send_invoice_email=True)
    services = stack.services()

    def fortnox_calls_of(order_id: str) -> list[str]:
        httpx.delete(f"{stack.fortnox_url}/__admin/calls", timeout=30).raise_for_status()
        assert stack.process(order_id, services).outcome == "created"
        calls = get(f"{stack.fortnox_url}/__admin/calls")
        return [c["method"] + " " + re.sub(r"^/3/(\w+)/\d+", r"/3/\1/n", c["path"]) for c in calls]

    work = ["POST /3/orders", "PUT /3/orders/n/createinvoice", "GET /3/invoices/n/email", "GET /3/invoices/n/preview"]
    assert fortnox_calls_of(stack.ikas_order()) == [
        "GET /3/orders",
        "GET /3/customers",  # ?email=: a new buyer
        "POST /3/customers",
        *work,
    ]
    assert fortnox_calls_of(stack.ikas_order()) == ["GET /3/orders", *work]  # the same buyer: cached


# -- faults at each step ---------------------------------------------------------------------------------------

FAULTS: dict[str, dict[str, Any]] = {
    "503": {"kind": "status", "status": 503},
    "429": {"kind": "status", "status": 429},
    "drop_after": {"kind": "drop_after"},
    "timeout": {"kind": "delay", "delay_s": SLOW_S},
}
# Whether the fault leaves the write done (a dropped answer, a late answer) or undone (503 and 429 do no work).
DONE_ANYWAY = {"503": False, "429": False, "drop_after": True, "timeout": True}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_at_createinvoice_ends_with_one_invoice(stack: Stack, fault: str) -> None:
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order()
    stack.fortnox_fault(method="PUT", path="/createinvoice$", **FAULTS[fault])
    first = stack.process(order_id)
    if fault == "429":  # never processed: the transport repeats it at once
        assert first.outcome == "created"
    else:
        assert (first.outcome, first.status) == ("unknown", "error")
        assert len(stack.invoices(order_id)) == int(DONE_ANYWAY[fault])
        assert stack.process(order_id).outcome == "busy"  # the unknown outcome settles first
        stack.settle()
        assert stack.process(order_id).status == "created"
    assert len(stack.invoices(order_id)) == 1
    assert len(stack.attached(order_id)) == 1
    expected = 2 if fault in ("503", "429") else 1
    assert len(stack.fortnox_calls("PUT", "/createinvoice", at_least=expected)) == expected


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_at_the_email_asks_at_most_once_and_only_resend_asks_again(stack: Stack, fault: str) -> None:
    stack.configure(create_invoice=True, send_invoice_email=True)
    order_id = stack.ikas_order()
    stack.fortnox_fault(method="GET", path="/email$", **FAULTS[fault])
    first = stack.process(order_id)
    number = stack.record(order_id).fortnox_invoice_number
    assert number is not None
    if fault == "429":
        assert (first.outcome, stack.record(order_id).invoice_email_state) == ("created", "sent")
        assert len(stack.emails(number)) == 1
        return
    record = stack.record(order_id)
    assert (first.outcome, record.invoice_email_state, record.status) == ("unknown", "unknown", "created")
    assert len(stack.emails(number)) == int(DONE_ANYWAY[fault])
    assert len(stack.attached(order_id)) == 1  # the PDF still goes on the ikas order
    stack.clock.at += timedelta(days=1)
    stack.process(order_id)
    assert len(stack.fortnox_calls("GET", "/email", at_least=1)) == 1  # never a second GET by itself
    resent = stack.services().resend_invoice_email(TENANT, order_id)
    assert resent.invoice_email_state == "sent"
    assert len(stack.emails(number)) == int(DONE_ANYWAY[fault]) + 1
    assert [a.outcome for a in resent.timeline if a.step == "send_invoice_email"] == [
        "started",
        "unknown",
        "started",
        "sent",
    ]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_at_add_order_invoice_ends_with_one_attachment(stack: Stack, fault: str) -> None:
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order()
    stack.attachments.fault = FAULTS[fault]
    first = stack.process(order_id)
    if fault == "429":
        assert first.outcome == "created"
    else:
        assert first.outcome == "unknown"
        assert len(stack.attached(order_id)) == int(DONE_ANYWAY[fault])
        assert stack.record(order_id).invoice_attached_at is None
        stack.settle()
        assert stack.process(order_id).status == "created"
    assert len(stack.attached(order_id)) == 1
    assert stack.record(order_id).invoice_attached_at is not None


# -- two workers ---------------------------------------------------------------------------------------------


def test_two_concurrent_process_order_calls_make_each_document_once(
    fortnox_url: str, ikas_url: str, database_url: str, tmp_path: Path
) -> None:
    post(f"{fortnox_url}/__admin/reset")
    post(f"{fortnox_url}/__admin/seed", {"dataset": "demo"})
    post(f"{fortnox_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 5})
    for _ in range(2):
        post(f"{ikas_url}/__admin/reset")
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    stack = make_stack(fortnox_url, ikas_url, database_url, tmp_path)
    stack.configure(create_invoice=True, send_invoice_email=True)
    order_id = stack.ikas_order(shipping=POST)
    workers = [stack.services(), stack.services()]
    barrier = threading.Barrier(2)
    results: list[ProcessOrderResult] = []
    errors: list[BaseException] = []

    def work(services: Services) -> None:
        barrier.wait()
        try:
            results.append(stack.process(order_id, services))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(services,)) for services in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert {r.outcome for r in results} <= {"created", "busy", "already_sent"}
    stack.process(order_id)  # whatever a busy worker left is done now, once
    stack.fortnox_order(order_id)  # exactly one (it unpacks one)
    (invoice,) = stack.invoices(order_id)
    assert len(stack.emails(invoice["DocumentNumber"])) == 1
    assert len(stack.attached(order_id)) == 1
    record = stack.record(order_id)
    assert (record.invoice_email_state, record.status) == ("sent", "created")
    assert record.invoice_attached_at is not None


# -- each setting's effect on the Fortnox documents ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "preferred", "expected"),
    [
        ("customer_else_en", "sv-SE", "SV"),
        ("customer_else_sv", "en-GB", "EN"),
        ("customer_else_sv", "tr-TR", "SV"),
        ("customer_else_en", None, "EN"),
        ("always_sv", "en", "SV"),
        ("always_en", "sv", "EN"),
    ],
)
def test_the_language_rules(stack: Stack, setting: str, preferred: str | None, expected: str) -> None:
    stack.configure(language=setting)
    order_id = stack.ikas_order(customer={**ANNA, "preferredLanguage": preferred})
    stack.process(order_id)
    assert stack.fortnox_order(order_id)["Language"] == expected


def test_shipping_as_freight_or_as_rows(stack: Stack) -> None:
    as_freight = stack.ikas_order(shipping=POST)
    stack.process(as_freight)
    freight = stack.fortnox_order(as_freight)
    assert (Decimal(str(freight["Freight"])), Decimal(str(freight["FreightVAT"]))) == (Decimal("39.2"), Decimal("9.8"))
    assert [r["ArticleNumber"] for r in freight["OrderRows"]] == ["DEMO-1005"]
    stack.configure(shipping="order_row", shipping_article_number="FX-2001")
    as_rows = stack.ikas_order(shipping=[{"title": "DHL Express", "price": 99, "taxValue": 25}])
    stack.process(as_rows)
    rows = stack.fortnox_order(as_rows)
    assert Decimal(str(rows["Freight"])) == 0
    shipping = rows["OrderRows"][-1]
    assert (shipping["ArticleNumber"], shipping["Description"], Decimal(str(shipping["Price"])), shipping["VAT"]) == (
        "FX-2001",
        "DHL Express",
        Decimal(99),
        25,
    )


def _graphql(stack: Stack, query: str, variables: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{stack.ikas_url}/api/v1/admin/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {stack.ikas_tokens.access_token(TENANT)}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_units_from_the_base_unit_or_from_the_unit_attribute_created_in_fortnox_when_missing(stack: Stack) -> None:
    coffee = stack.ikas_order(lines=[{"sku": "DEMO-1015", "quantity": 2}])  # 500 g bags priced per kg
    stack.process(coffee)
    (row,) = stack.fortnox_order(coffee)["OrderRows"]
    assert (row["Unit"], Decimal(row["DeliveredQuantity"]), Decimal(str(row["Price"]))) == ("kg", 1, Decimal(238))

    unit = _graphql(
        stack,
        "mutation($i: ProductAttributeInput!) { saveProductAttribute(input: $i) { id } }",
        {"i": {"name": "Enhet", "type": "TEXT"}},
    )["saveProductAttribute"]["id"]
    _graphql(
        stack,
        "mutation($i: ProductInput!) { saveProduct(input: $i) { id } }",
        {
            "i": {
                "name": "Loose tea",
                "type": "PHYSICAL",
                "baseUnit": {"baseAmount": 1, "type": "KILOGRAM"},
                "attributes": [{"productAttributeId": unit, "value": "burk"}],
                "variants": [
                    {
                        "sku": "TEA-250",
                        "prices": [{"sellPrice": 65}],
                        "unit": {"amount": 250, "type": "GRAM"},
                        "attributes": [{"productAttributeId": unit, "value": "påse"}],
                    },
                    {"sku": "TEA-500", "prices": [{"sellPrice": 120}], "unit": {"amount": 500, "type": "GRAM"}},
                ],
            }
        },
    )
    for sku in ("TEA-250", "TEA-500"):
        stack.fortnox.create_article(TENANT, {"ArticleNumber": sku, "Description": "Loose tea", "VAT": 12})
    stack.configure(unit_source="attribute", unit_attribute="Enhet")
    tea = stack.ikas_order(lines=[{"sku": "TEA-250", "quantity": 3}, {"sku": "TEA-500", "quantity": 1}])
    stack.process(tea)
    rows = stack.fortnox_order(tea)["OrderRows"]
    assert [(r["ArticleNumber"], r["Unit"], Decimal(r["DeliveredQuantity"])) for r in rows] == [
        ("TEA-250", "påse", 3),  # the variant's attribute; the quantity stays in items
        ("TEA-500", "burk", 1),  # the product's
    ]
    units = stack.company()["units"]
    assert (units["påse"]["Description"], units["burk"]["Description"]) == ("påse", "burk")


def test_items_without_relation_wait_or_go_as_free_text_rows(stack: Stack) -> None:
    lines = [{"sku": "DEMO-1005", "quantity": 1}, {"sku": "DEMO-1006", "quantity": 1}]  # 1006: no Fortnox article
    order_id = stack.ikas_order(lines=lines)
    waiting = stack.process(order_id)
    assert (waiting.outcome, waiting.status, waiting.reason) == (
        "waiting",
        "outgoing",
        "waiting for product relations: DEMO-1006",
    )
    assert stack.company().get("orders", {}) == {}
    stack.configure(sync_items_without_relation=True, sales_accounts={"25": 3011})
    assert stack.process(order_id).outcome == "created"
    related, free_text = stack.fortnox_order(order_id)["OrderRows"]
    assert (related["ArticleNumber"], related["AccountNumber"]) == ("DEMO-1005", 3001)
    assert (free_text["ArticleNumber"], free_text["Description"], free_text["AccountNumber"]) == (
        "",
        "Steel water bottle",
        3011,
    )
    assert Decimal(str(free_text["Price"])) == Decimal(299)


@pytest.mark.parametrize(
    ("address", "lines", "vat_type", "kind"),
    [
        ({"country": "SE"}, MUGS, "SEVAT", "PRIVATE"),
        (
            {"country": "DE", "company": "Berg GmbH", "taxNumber": "DE123456789"},
            [{"sku": "DEMO-1005", "quantity": 2, "taxValue": 0}],
            "EUREVERSEDVAT",
            "COMPANY",
        ),
        ({"country": "DE"}, [{"sku": "DEMO-1005", "quantity": 2, "taxValue": 19}], "EUVAT", "PRIVATE"),
        ({"country": "NO"}, [{"sku": "DEMO-1005", "quantity": 2, "taxValue": 0}], "EXPORT", "PRIVATE"),
    ],
    ids=["SE", "EU-company", "EU-private-OSS", "non-EU"],
)
def test_vat_type_follows_the_vat_charged_and_the_billing_address(
    stack: Stack, address: dict[str, str], lines: list[dict[str, Any]], vat_type: str, kind: str
) -> None:
    stack.configure(sales_accounts={"19": 3019})  # an OSS rate needs its own account (2004167)
    order_id = stack.ikas_order(lines=lines, billingAddress={**ANNA_ADDRESS, **address})
    assert stack.process(order_id).outcome == "created"
    order = stack.fortnox_order(order_id)
    customer = stack.fortnox.get_customer(TENANT, order["CustomerNumber"])
    assert customer is not None
    assert (customer.vat_type, customer.type, customer.country_code) == (vat_type, kind, address["country"])
    if vat_type == "EUVAT":
        assert [(r["VAT"], r["AccountNumber"]) for r in order["OrderRows"]] == [(19, 3019)]


DISCOUNTED = [
    {"sku": "DEMO-1005", "quantity": 2},  # 25 %
    {"sku": "DEMO-1012", "quantity": 3},  # 12 %
    {"sku": "DEMO-1017", "quantity": 1},  # 6 %
]


@pytest.mark.parametrize("shipping", ["freight", "order_row"])
def test_the_totals_check_on_a_discounted_multi_vat_order_with_shipping(stack: Stack, shipping: str) -> None:
    stack.configure(shipping=shipping)
    order_id = stack.ikas_order(lines=DISCOUNTED, shipping=POST, discount={"percent": 10, "name": "SAVE10"})
    ikas = stack.ikas.get_order(TENANT, order_id)
    assert ikas is not None
    assert ikas.total_final_price == Decimal("772.60")
    stack.process(order_id)
    order = stack.fortnox_order(order_id)
    total, round_off = Decimal(str(order["Total"])), Decimal(str(order["RoundOff"]))
    assert total - round_off == ikas.total_final_price
    assert Decimal(str(order["TotalVAT"])) == ikas.total_tax
    record = stack.record(order_id)
    assert record.totals_match is True
    assert record.fortnox_total is not None
    assert (record.fortnox_total.amount, record.ikas_total and record.ikas_total.amount) == (total, Decimal("772.60"))
    assert record.totals_explanation == (
        "Fortnox rounds the total to whole kronor: its total 773.00 SEK includes a round-off of +0.40 SEK, "
        "which is not counted as a difference."
    )


def test_freight_vat_fortnox_adds_at_another_rate_than_ikas_charged_is_explained(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=DISCOUNTED, shipping=[{"title": "Food box", "price": 56, "taxValue": 12}])
    stack.process(order_id)
    record = stack.record(order_id)
    assert record.totals_match is False
    assert record.totals_explanation is not None
    # ikas: 56.00 incl. 6.00 VAT at 12 %; Fortnox: 50.00 net freight plus 25 % = 12.50 VAT.
    assert "a difference of +6.50 SEK" in record.totals_explanation
    assert "Of it, +6.50 SEK is Fortnox's VAT on the freight" in record.totals_explanation


def test_a_currency_fortnox_lacks_is_a_clear_error(stack: Stack) -> None:
    order_id = stack.ikas_order(currencyCode="GBP")
    result = stack.process(order_id)
    assert (result.outcome, result.status, result.reason) == (
        "failed",
        "error",
        "Fortnox has no currency GBP, the currency of this order",
    )
    assert stack.company().get("orders", {}) == {}


# -- the actions and the timeline -------------------------------------------------------------------------------


def test_the_actions_on_demand(stack: Stack) -> None:
    order_id = stack.ikas_order()
    stack.process(order_id)
    services = stack.services()
    record = services.create_invoice(TENANT, order_id)  # orders.create_invoice is off
    assert record.fortnox_invoice_number == stack.invoices(order_id)[0]["DocumentNumber"]
    assert len(stack.attached(order_id)) == 1
    pdf = services.get_invoice_pdf(TENANT, order_id)
    assert pdf.pdf.startswith(b"%PDF")
    assert pdf.filename == f"invoice-{record.fortnox_invoice_number}.pdf"
    again = services.attach_invoice_pdf(TENANT, order_id)
    assert again.timeline[-1].outcome == "found"
    assert len(stack.attached(order_id)) == 1
    assert services.create_invoice(TENANT, order_id).fortnox_invoice_number == record.fortnox_invoice_number
    assert len(stack.invoices(order_id)) == 1


def test_the_timeline_shows_each_exchange_redacted(stack: Stack) -> None:
    stack.configure(create_invoice=True, send_invoice_email=True)
    order_id = stack.ikas_order()
    stack.process(order_id)
    timeline = stack.record(order_id).timeline
    shown = {(a.step, a.outcome): (a.request, a.response) for a in timeline}
    request, response = shown[("create_fortnox_order", "created")]
    assert request.startswith('POST /3/orders {"Order":{"CustomerNumber"')
    assert f"ikas:{order_id}" in request
    assert '"DocumentNumber"' in response
    assert shown[("send_invoice_email", "sent")][0].endswith("/email")
    assert "sendNotificationToCustomer: false" in shown[("attach_invoice_pdf", "attached")][0]
    everything = " ".join(f"{a.detail} {a.request} {a.response}" for a in timeline)
    for token in [*stack.fortnox_tokens.minted, *stack.ikas_tokens.minted]:
        assert token not in everything
    assert "Bearer" not in everything
    assert "EmailBody" not in everything
    assert "base64: <" in everything
    assert all(len(a.request) <= 600 and len(a.response) <= 600 for a in timeline)


def test_attempts_stored_before_the_exchange_was_kept_still_load(database_url: str) -> None:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    engine = make_engine(database_url)
    at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with engine.begin() as db:
        db.execute(
            insert(order_records).values(
                id="old",
                tenant_id=TENANT,
                ikas_order_id="ikas-old",
                ikas_order_number="1001",
                ordered_at=at,
                customer_name="",
                status="created",
                invoice_email_state="not_requested",
                timeline=(),
                created_at=at,
                updated_at=at,
                version=1,
            )
        )
        # The JSON as 0002's code wrote it: attempts without request and response.
        old = [{"at": at.isoformat(), "step": "create_fortnox_order", "outcome": "created", "detail": "5"}]
        update = text("UPDATE order_records SET timeline = :timeline WHERE id = 'old'")
        db.execute(update.bindparams(bindparam("timeline", type_=JSON)), {"timeline": old})
    with partial(SqlOrdersUnitOfWork, session_factory(engine))(TENANT) as uow:
        record = uow.orders.get("ikas-old")
    assert record is not None
    ((step, outcome, detail, request, response),) = [
        (a.step, a.outcome, a.detail, a.request, a.response) for a in record.timeline
    ]
    assert (step, outcome, detail, request, response) == ("create_fortnox_order", "created", "5", "", "")
    assert record.totals_explanation is None
    engine.dispose()
