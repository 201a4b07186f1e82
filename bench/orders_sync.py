"""Benchmark of the orders service against the ikas and Fortnox sandboxes (issues 7 and 11).

Not a test: it measures and prints, it asserts nothing. It starts both sandboxes as processes on free ports,
builds the orders service in this process (`bootstrap.build`, no run queue, every line related by SKU) with
sandbox tokens, turns on create_invoice and send_invoice_email, and reports:

1. Fortnox calls per order with invoice, e-mail and PDF, for a new customer and for a returning one, with
   createinvoice answering with the Order and with the Invoice (the sandbox's switch; fortnox-api.md leaves the
   real shape open), split into reads and writes, and the ikas calls per order (its read and the PDF attachment);
2. orders per minute with the Fortnox rate window scaled down by `--scale` (default 10): the sandbox enforces 25
   calls per 5/scale s and Bridge's own Fortnox budget is scaled the same way, and so is its ikas budget (else
   the ikas budget, not Fortnox, would set the pace and the figure at the real limits would be wrong); printed
   as calls per second, the ratio to the ceiling, the 429s answered, and orders per minute at the real
   (unscaled) limits.

Targets (issue 11): at most 4 Fortnox calls per order for a returning customer when createinvoice answers with the
invoice, at most 6 in the worst case.

Run from the repository root: `.venv/bin/python bench/orders_sync.py` (a minute or two with the defaults;
`--orders 5 --rate-orders 20` gives a quick look).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bridge_orders.adapters.db.tables import metadata
from bridge_orders.app.manage_settings import UpdateOrderSettingsRequest
from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.settings import OrderSettings
from bridge_platform.db import make_engine
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_sandboxes.tokens import FortnoxSandboxTokens, IkasSandboxTokens
from bridge_upstreams import rate_budget, wiring

TENANT, COMPANY, STORE = "bench-tenant", 4243, "bench"
FORTNOX_CEILING = (25, 5.0)  # the real Fortnox limit: 25 calls per 5 s per tenant
ARTICLES = 10
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


class _RelatedBySku:
    """Every line related, to the article whose number is its SKU (the catalog's matching rule)."""

    def for_variants(self, tenant_id: str, variants: Any) -> dict[str, str]:
        return {variant: sku.strip() for variant, sku in variants.items() if sku and sku.strip()}


class _StoreName:
    def store_name(self, tenant_id: str) -> str:
        return STORE


class Bench:
    def __init__(self, fortnox: str, ikas: str, data_dir: Path) -> None:
        self.fortnox, self.ikas, self.data_dir = fortnox, ikas, data_dir
        self._ikas_tokens = IkasSandboxTokens(ikas, STORE)
        self.customers = 0

    def reset(self) -> None:
        for url in (self.fortnox, self.ikas):
            httpx.post(f"{url}/__admin/reset", json={}, timeout=60).raise_for_status()
        articles = [
            {"ArticleNumber": f"O-{n}", "Description": f"Bench article {n}", "VAT": 25, "SalesPrice": 100}
            for n in range(ARTICLES)
        ]
        company = {"tenant_id": COMPANY, "name": "Order Bench AB", "articles": articles}
        httpx.post(f"{self.fortnox}/__admin/seed", json={"companies": [company]}, timeout=120).raise_for_status()
        httpx.post(f"{self.ikas}/__admin/seed", json={"stores": [STORE]}, timeout=60).raise_for_status()
        app = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "store": STORE}
        httpx.post(f"{self.ikas}/__admin/apps", json=app, timeout=60).raise_for_status()
        self._ikas_tokens = IkasSandboxTokens(self.ikas, STORE)
        for url in (self.fortnox, self.ikas):
            self.limit(url, 1_000_000, 1.0)
        for n in range(ARTICLES):
            product = {
                "name": f"Bench article {n}",
                "type": "PHYSICAL",
                "variants": [{"sku": f"O-{n}", "prices": [{"sellPrice": 125.0}]}],
            }
            self.graphql("mutation($i: ProductInput!) { saveProduct(input: $i) { id } }", {"i": product})

    @staticmethod
    def limit(url: str, limit: int, window_s: float) -> None:
        body = {"limit": limit, "window_s": window_s}
        httpx.post(f"{url}/__admin/rate-limit", json=body, timeout=30).raise_for_status()

    def createinvoice_answers(self, shape: str) -> None:
        answer = httpx.post(f"{self.fortnox}/__admin/createinvoice-answers", json={"shape": shape}, timeout=30)
        answer.raise_for_status()

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._ikas_tokens.access_token(TENANT)}"}
        body = {"query": query, "variables": variables}
        answer = httpx.post(f"{self.ikas}/api/v1/admin/graphql", json=body, headers=headers, timeout=60).json()
        if answer.get("errors"):
            raise RuntimeError(answer["errors"])
        data: dict[str, Any] = answer["data"]
        return data

    def build(self) -> Services:
        database = self.data_dir / f"orders-{time.monotonic_ns()}.db"
        settings = load_settings(
            BridgeSettings,
            mode=Mode.LOCAL,
            data_dir=self.data_dir,
            orders_database_url=f"sqlite:///{database}",
            fortnox_api_url=self.fortnox,
            ikas_api_url=self.ikas,
        )
        engine = make_engine(settings.orders_database_url)
        metadata.create_all(engine)
        services = build(
            settings,
            engine=engine,
            with_runs=False,
            ikas_tokens=self._ikas_tokens,
            fortnox_tokens=FortnoxSandboxTokens(
                self.fortnox, COMPANY, "article customer order invoice price companyinformation"
            ),
            article_numbers=_RelatedBySku(),
            store_names=_StoreName(),
        )
        document = OrderSettings(
            sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=True
        )
        services.update_settings(UpdateOrderSettingsRequest(TENANT, document))
        return services

    def new_order(self, email: str, n: int) -> str:
        spec = {
            "store": STORE,
            "customer": {"email": email, "firstName": "Bench", "lastName": f"Buyer {n}"},
            "billingAddress": {
                "firstName": "Bench",
                "lastName": f"Buyer {n}",
                "addressLine1": "Bänkgatan 1",
                "postalCode": "111 20",
                "city": "Stockholm",
                "country": "SE",
            },
            "lines": [
                {"sku": f"O-{n % ARTICLES}", "quantity": 2, "taxValue": 25},
                {"sku": f"O-{(n + 1) % ARTICLES}", "quantity": 1, "taxValue": 25},
            ],
            "shipping": [{"title": "PostNord MyPack", "price": "49.00"}],
        }
        answer = httpx.post(f"{self.ikas}/__admin/orders", json=spec, timeout=30)
        answer.raise_for_status()
        order_id: str = answer.json()["id"]
        return order_id

    def clear(self) -> None:
        for url in (self.fortnox, self.ikas):
            httpx.delete(f"{url}/__admin/calls", timeout=30).raise_for_status()

    def counts(self) -> dict[str, int]:
        fortnox = [c for c in httpx.get(f"{self.fortnox}/__admin/calls", timeout=60).json() if c["key"] == str(COMPANY)]
        ikas = httpx.get(f"{self.ikas}/__admin/calls", timeout=60).json()
        return {
            "fortnox_reads": sum(1 for c in fortnox if c["method"] == "GET" and c["status"] != 429),
            "fortnox_writes": sum(1 for c in fortnox if c["method"] != "GET" and c["status"] != 429),
            "fortnox_429": sum(1 for c in fortnox if c["status"] == 429),
            "ikas_calls": sum(1 for c in ikas if "/graphql" in c["path"]),
        }

    def fortnox_paths(self) -> Counter[str]:
        calls = [c for c in httpx.get(f"{self.fortnox}/__admin/calls", timeout=60).json() if c["key"] == str(COMPANY)]
        return Counter(f"{c['method']} {_shape(c['path'])}" for c in calls)


def _shape(path: str) -> str:
    return "/".join("{n}" if part.isdigit() else part for part in path.split("/"))


def process(services: Services, order_ids: list[str]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for order_id in order_ids:
        result = services.process_order(ProcessOrderRequest(TENANT, order_id))
        outcomes[result.outcome] += 1
    return outcomes


def per_order(bench: Bench, orders: int) -> None:
    for shape in ("invoice", "order"):
        bench.reset()
        bench.createinvoice_answers(shape)
        services = bench.build()
        for label, emails in (
            ("new customer", [f"new.{shape}.{n}@example.se" for n in range(orders)]),
            ("returning customer", ["returning@example.se"] * orders),
        ):
            warm = bench.new_order(emails[0], 99) if label == "returning customer" else None
            if warm is not None:  # the customer exists in Fortnox before the measured orders
                process(services, [warm])
            ids = [bench.new_order(email, n) for n, email in enumerate(emails)]
            bench.clear()
            started = time.monotonic()
            outcomes = process(services, ids)
            elapsed = time.monotonic() - started
            calls = bench.counts()
            fortnox = (calls["fortnox_reads"] + calls["fortnox_writes"]) / orders
            print(
                f"{label}, createinvoice answers with the {shape}: {orders} orders in {elapsed:.1f} s {dict(outcomes)}"
                f"\n  per order: fortnox {fortnox:.2f} ({calls['fortnox_reads'] / orders:.2f} reads, "
                f"{calls['fortnox_writes'] / orders:.2f} writes), ikas {calls['ikas_calls'] / orders:.2f}"
                f"\n  calls: {dict(bench.fortnox_paths())}"
            )


def sustained_rate(bench: Bench, orders: int, scale: float) -> None:
    limit, window_s = FORTNOX_CEILING
    scaled_window = window_s / scale
    production = wiring.FORTNOX_RATES
    ikas_production = wiring.IKAS_RATES
    budget_limit, budget_window_s = production[0]
    guard_s = rate_budget.DEFAULT_GUARD_S / scale

    def scaled_budget(upstream: str, rates: list[tuple[int, float]], **options: Any) -> rate_budget.RateBudget:
        options["guard_s"] = guard_s
        return rate_budget.make_rate_budget(upstream, rates, **options)

    vars(wiring)["FORTNOX_RATES"] = [(budget_limit, budget_window_s / scale)]
    vars(wiring)["IKAS_RATES"] = [(calls, seconds / scale) for calls, seconds in ikas_production]
    vars(wiring)["make_rate_budget"] = scaled_budget
    try:
        bench.reset()
        bench.createinvoice_answers("invoice")
        services = bench.build()
        ids = [bench.new_order(f"rate.{n % 10}@example.se", n) for n in range(orders)]
        bench.limit(bench.fortnox, limit, scaled_window)
        bench.clear()
        started = time.monotonic()
        outcomes = process(services, ids)
        elapsed = time.monotonic() - started
    finally:
        vars(wiring)["FORTNOX_RATES"] = production
        vars(wiring)["IKAS_RATES"] = ikas_production
        vars(wiring)["make_rate_budget"] = rate_budget.make_rate_budget
    calls = bench.counts()
    total = calls["fortnox_reads"] + calls["fortnox_writes"]
    rate, ceiling = total / elapsed, limit / scaled_window
    per_minute_real = orders / elapsed * 60 / scale
    print(
        f"sustained: {orders} orders {dict(outcomes)}, {total} Fortnox calls in {elapsed:.1f} s (window scaled "
        f"{scale:g}x: {limit} per {scaled_window:g} s) = {rate:.1f} calls/s, ceiling {ceiling:.1f}/s, ratio "
        f"{rate / ceiling:.2f}, {calls['fortnox_429']} answered 429; {per_minute_real:.1f} orders per minute at "
        f"the real limits"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20, help="orders per calls-per-order measurement")
    parser.add_argument("--rate-orders", type=int, default=200, help="orders for the sustained rate")
    parser.add_argument("--scale", type=float, default=10.0, help="how much shorter the rate window is")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        with (
            running_sandbox("fortnox", seed="none") as fortnox,
            running_sandbox("ikas", seed="none") as ikas,
        ):
            bench = Bench(fortnox, ikas, data_dir)
            per_order(bench, arguments.orders)
            sustained_rate(bench, arguments.rate_orders, arguments.scale)


if __name__ == "__main__":
    main()
