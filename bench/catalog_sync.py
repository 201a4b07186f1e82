"""Benchmark of the catalog's product and stock sync against the ikas and Fortnox sandboxes (issue 6).

Not a test: it measures and prints, it asserts nothing. It starts both sandboxes as processes on free ports,
builds the catalog in this process (`bootstrap.build`, no run queue) with sandbox tokens, and reports:

1. calls per created article: an empty Fortnox company, `--created` ikas products tagged "fortnox", one
   ikas_to_fortnox products run (create_new on); Fortnox and ikas calls divided by the articles created;
2. calls per updated article: every ikas price changed, one more run (update_existing on);
3. a no-change run over `--lines` related lines (default 10 000): Fortnox articles seeded to equal the ikas
   products, matched, synced once, and one more run of each scope once the watermark's overlap (2 min) has
   passed since the data last changed (the steady state: a change inside the overlap is read again on
   purpose); then a products run and a stock run, each counted as Fortnox reads (GET) and writes (anything
   else) and ikas calls (all GraphQL POSTs; the sandbox's call log cannot tell reads from writes, so the ikas
   store's state is compared before and after to prove nothing was written);
4. the sustained rate on a `--rate-articles` (default 2 000) create with the rate window scaled down by
   `--scale` (default 10): the Fortnox sandbox enforces 25 calls per 5/scale s (POST /__admin/rate-limit) and
   Bridge's own Fortnox budget (window and guard) is scaled the same way; printed as calls per second, the
   ratio to the ceiling (25 per window), and the 429s seen. `--fortnox-limit` replaces the budget's limit
   (production: bridge_upstreams.rate_budget.FORTNOX_RATES) to see what another one would give.

Run from the repository root: `.venv/bin/python -u bench/catalog_sync.py` (the full size; about half an hour
on two cores; `--lines 500 --created 50 --rate-articles 200` gives a quick look). Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bridge_catalog.adapters.db.tables import metadata
from bridge_catalog.app.manage_settings import UpdateCatalogSettingsRequest
from bridge_catalog.app.ports import RunReport
from bridge_catalog.app.product_sync import OVERLAP
from bridge_catalog.bootstrap import Services, build
from bridge_catalog.domain.settings import CatalogSettings, ProductSettings, StockSettings
from bridge_platform.db import make_engine
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_sandboxes.tokens import FortnoxSandboxTokens, IkasSandboxTokens
from bridge_upstreams import rate_budget, wiring

TENANT, COMPANY, STORE = "bench-tenant", 4242, "bench"
FORTNOX_CEILING = (25, 5.0)  # the real Fortnox limit: 25 calls per 5 s per tenant


class _NoProgress:
    def progress(self, done: int, total: int | None = None) -> None:
        pass

    def lease_lost(self) -> bool:
        return False


class Bench:
    """Both sandboxes, a fresh catalog database, and helpers to seed, run and count."""

    def __init__(self, fortnox: str, ikas: str, data_dir: Path) -> None:
        self.fortnox, self.ikas, self.data_dir = fortnox, ikas, data_dir
        self._ikas_tokens = IkasSandboxTokens(ikas, STORE)
        self.services: Services | None = None

    # -- setting up ---------------------------------------------------------------------------------------

    def reset(self, fortnox_articles: list[dict[str, Any]]) -> None:
        for url in (self.fortnox, self.ikas):
            httpx.post(f"{url}/__admin/reset", json={}, timeout=60).raise_for_status()
        company = {"tenant_id": COMPANY, "name": "Bench AB", "articles": fortnox_articles}
        httpx.post(f"{self.fortnox}/__admin/seed", json={"companies": [company]}, timeout=600).raise_for_status()
        httpx.post(f"{self.ikas}/__admin/seed", json={"stores": [STORE]}, timeout=60).raise_for_status()
        app = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "store": STORE}
        httpx.post(f"{self.ikas}/__admin/apps", json=app, timeout=60).raise_for_status()
        self._ikas_tokens = IkasSandboxTokens(self.ikas, STORE)  # the reset forgot the old tokens
        self.limit(self.fortnox, 1_000_000, 1.0)
        self.limit(self.ikas, 1_000_000, 1.0)

    @staticmethod
    def limit(url: str, limit: int, window_s: float) -> None:
        body = {"limit": limit, "window_s": window_s}
        httpx.post(f"{url}/__admin/rate-limit", json=body, timeout=30).raise_for_status()

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._ikas_tokens.access_token(TENANT)}"}
        body = {"query": query, "variables": variables}
        answer = httpx.post(f"{self.ikas}/api/v1/admin/graphql", json=body, headers=headers, timeout=60).json()
        if answer.get("errors"):
            raise RuntimeError(answer["errors"])
        data: dict[str, Any] = answer["data"]
        return data

    def add_products(self, count: int, price: str = "125.00") -> None:
        mutation = "mutation($i: ProductTagInput!) { saveProductTag(input: $i) { id } }"
        tag = self.graphql(mutation, {"i": {"name": "fortnox"}})
        tag_id = tag["saveProductTag"]["id"]
        for n in range(count):
            product = {
                "name": f"Bench product {n}",
                "type": "PHYSICAL",
                "tagIds": [tag_id],
                "variants": [{"sku": f"B-{n}", "prices": [{"sellPrice": float(price)}]}],
            }
            self.graphql("mutation($i: ProductInput!) { saveProduct(input: $i) { id } }", {"i": product})

    def set_all_prices(self, price: str) -> None:
        page = 1
        while True:
            query = (
                "query($p: Int) { listProduct(pagination: {page: $p, limit: 200}) "
                "{ data { id variants { id } } hasNext } }"
            )
            data = self.graphql(query, {"p": page})["listProduct"]
            updates = [
                {"productId": p["id"], "variantId": v["id"], "price": {"sellPrice": float(price)}}
                for p in data["data"]
                for v in p["variants"]
            ]
            if updates:
                mutation = "mutation($i: SaveVariantPricesInput!) { saveVariantPrices(input: $i) }"
                self.graphql(mutation, {"i": {"variantPriceInputs": updates}})
            if not data["hasNext"]:
                return
            page += 1

    def build(self, *, mode: str, create_new: bool, update_existing: bool) -> Services:
        database = self.data_dir / f"catalog-{time.monotonic_ns()}.db"
        settings = load_settings(
            BridgeSettings,
            mode=Mode.LOCAL,
            data_dir=self.data_dir,
            catalog_database_url=f"sqlite:///{database}",
            fortnox_api_url=self.fortnox,
            ikas_api_url=self.ikas,
        )
        engine = make_engine(settings.catalog_database_url)
        metadata.create_all(engine)
        services = build(
            settings,
            engine=engine,
            with_runs=False,
            ikas_tokens=self._ikas_tokens,
            fortnox_tokens=FortnoxSandboxTokens(self.fortnox, COMPANY, "article price companyinformation settings"),
            auth=_NoAuth(),
        )
        document = CatalogSettings(ProductSettings(mode, False, create_new, update_existing), StockSettings())
        services.update_settings(UpdateCatalogSettingsRequest(TENANT, document, confirm_reset=True))
        self.services = services
        return services

    # -- measuring ----------------------------------------------------------------------------------------

    def clear(self) -> None:
        for url in (self.fortnox, self.ikas):
            httpx.delete(f"{url}/__admin/calls", timeout=30).raise_for_status()

    def counts(self) -> dict[str, int]:
        fortnox = httpx.get(f"{self.fortnox}/__admin/calls", timeout=60).json()
        ikas = httpx.get(f"{self.ikas}/__admin/calls", timeout=60).json()
        fortnox = [c for c in fortnox if c["key"] == str(COMPANY)]
        return {
            "fortnox_reads": sum(1 for c in fortnox if c["method"] == "GET"),
            "fortnox_writes": sum(1 for c in fortnox if c["method"] != "GET"),
            "fortnox_429": sum(1 for c in fortnox if c["status"] == 429),
            "ikas_calls": sum(1 for c in ikas if "/graphql" in c["path"]),
        }

    def ikas_state(self) -> Any:
        stores = httpx.get(f"{self.ikas}/__admin/state", timeout=120).json()["stores"]
        return {"products": stores[STORE]["products"], "stocks": stores[STORE]["stocks"]}

    def run(self, scope: str) -> tuple[RunReport, dict[str, int], float]:
        assert self.services is not None
        self.clear()
        started = time.monotonic()
        use_case = self.services.sync_stock if scope == "stock" else self.services.sync_products
        report = use_case(TENANT, _NoProgress())
        return report, self.counts(), time.monotonic() - started


class _NoAuth:
    """The bench runs the catalog without an auth service: nothing to forget, the demo store by name."""

    def forget_fortnox_company(self, tenant_id: str) -> None:
        pass

    def store_name(self, tenant_id: str) -> str:
        return "demo"


def _article(n: int) -> dict[str, Any]:
    return {
        "ArticleNumber": f"B-{n}",
        "Description": f"Bench product {n}",
        "StockGoods": True,
        "QuantityInStock": 0,
        "VAT": 25,
        "SalesPrice": 100,
    }


def per_article(bench: Bench, created: int) -> None:
    bench.reset([])
    bench.add_products(created)
    bench.build(mode="ikas_to_fortnox", create_new=True, update_existing=True)
    report, calls, elapsed = bench.run("products")
    made = report.counts["created"]
    print(f"create: {made} articles in {elapsed:.1f} s, {report.counts}")
    print(
        f"  per created article: fortnox {(calls['fortnox_reads'] + calls['fortnox_writes']) / max(made, 1):.2f} "
        f"({calls['fortnox_reads']} reads, {calls['fortnox_writes']} writes in all), "
        f"ikas {calls['ikas_calls'] / max(made, 1):.2f}"
    )
    bench.set_all_prices("150.00")
    report, calls, elapsed = bench.run("products")
    updated = report.counts["updated"]
    print(f"update: {updated} articles in {elapsed:.1f} s, {report.counts}")
    print(
        f"  per updated article: fortnox {(calls['fortnox_reads'] + calls['fortnox_writes']) / max(updated, 1):.2f} "
        f"({calls['fortnox_reads']} reads, {calls['fortnox_writes']} writes in all), "
        f"ikas {calls['ikas_calls'] / max(updated, 1):.2f}"
    )


def no_change(bench: Bench, lines: int) -> None:
    bench.reset([_article(n) for n in range(lines)])
    bench.add_products(lines)
    changed_last = time.monotonic()
    services = bench.build(mode="ikas_to_fortnox", create_new=False, update_existing=True)
    services.match_products(TENANT, _NoProgress())
    first, calls, elapsed = bench.run("products")
    print(
        f"no-change setup: first products run over {lines} lines in {elapsed:.1f} s, {first.counts}, "
        f"fortnox {calls['fortnox_reads']} reads {calls['fortnox_writes']} writes, ikas {calls['ikas_calls']} calls"
    )
    bench.run("stock")
    # A run's watermark is its start minus OVERLAP: runs that start once that has passed since the last change
    # read nothing again. One such run of each scope settles the watermarks; the next ones are measured.
    time.sleep(max(0.0, changed_last + OVERLAP.total_seconds() + 5 - time.monotonic()))
    for scope in ("products", "stock"):
        bench.run(scope)
    for scope in ("products", "stock"):
        before = bench.ikas_state()
        report, calls, elapsed = bench.run(scope)
        unchanged = bench.ikas_state() == before
        print(
            f"no-change {scope} run over {lines} lines: {elapsed:.1f} s, fortnox {calls['fortnox_reads']} reads "
            f"{calls['fortnox_writes']} writes, ikas {calls['ikas_calls']} calls "
            f"(ikas state {'unchanged' if unchanged else 'CHANGED'}), counts {report.counts}"
        )


def sustained_rate(bench: Bench, articles: int, scale: float, fortnox_limit: int | None) -> None:
    limit, window_s = FORTNOX_CEILING
    scaled_window = window_s / scale
    production = wiring.FORTNOX_RATES
    budget_limit, budget_window_s = production[0]
    budget_limit = fortnox_limit or budget_limit
    guard_s = rate_budget.DEFAULT_GUARD_S / scale

    def scaled_budget(upstream: str, rates: list[tuple[int, float]], **options: Any) -> rate_budget.RateBudget:
        if upstream == "fortnox":  # the guard widens every window: scaled with it, or it would weigh 10x more
            options["guard_s"] = guard_s
        return rate_budget.make_rate_budget(upstream, rates, **options)

    # Bridge's own Fortnox budget, scaled like the sandbox's window (the names are Final for production code).
    vars(wiring)["FORTNOX_RATES"] = [(budget_limit, budget_window_s / scale)]
    vars(wiring)["make_rate_budget"] = scaled_budget
    try:
        bench.reset([])
        bench.add_products(articles)
        bench.build(mode="ikas_to_fortnox", create_new=True, update_existing=False)
        bench.limit(bench.fortnox, limit, scaled_window)
        report, calls, elapsed = bench.run("products")
    finally:
        vars(wiring)["FORTNOX_RATES"] = production
        vars(wiring)["make_rate_budget"] = rate_budget.make_rate_budget
    total = calls["fortnox_reads"] + calls["fortnox_writes"]
    rate, ceiling = total / elapsed, limit / scaled_window
    print(
        f"sustained: {report.counts['created']} articles, {total} Fortnox calls in {elapsed:.1f} s "
        f"(window scaled {scale:g}x: the sandbox allows {limit} per {scaled_window:g} s; Bridge's budget "
        f"{budget_limit} per {budget_window_s / scale:g} s + {guard_s:g} s guard) = {rate:.1f} calls/s, "
        f"ceiling {ceiling:.1f}/s, ratio {rate / ceiling:.2f}, {calls['fortnox_429']} answered 429"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000, help="lines of the no-change runs")
    parser.add_argument("--created", type=int, default=200, help="articles created (and updated) per-article")
    parser.add_argument("--rate-articles", type=int, default=2_000, help="articles created for the sustained rate")
    parser.add_argument("--scale", type=float, default=10.0, help="how much shorter the rate window is")
    parser.add_argument("--fortnox-limit", type=int, default=None, help="the budget's limit per 5 s (what-if)")
    parser.add_argument(
        "--only", choices=("per-article", "no-change", "sustained"), action="append", help="run only these parts"
    )
    arguments = parser.parse_args()
    parts = set(arguments.only or ("per-article", "no-change", "sustained"))
    with (
        tempfile.TemporaryDirectory() as data_dir,
        running_sandbox("fortnox", seed="none") as fortnox,
        running_sandbox("ikas", seed="none") as ikas,
    ):
        bench = Bench(fortnox, ikas, Path(data_dir))
        if "per-article" in parts:
            per_article(bench, arguments.created)
        if "no-change" in parts:
            no_change(bench, arguments.lines)
        if "sustained" in parts:
            sustained_rate(bench, arguments.rate_articles, arguments.scale, arguments.fortnox_limit)


if __name__ == "__main__":
    main()
