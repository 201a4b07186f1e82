"""Benchmark of the gateway's overhead on GET /api/v1/products against the gRPC call it makes (issue 11).

Not a test: it measures and prints, it asserts nothing. It starts the whole stack (scripts/dev.py, as the
cross-service tests do: tests/conftest.py `launch_dev`, a day-long sync interval so no scheduled run competes),
installs the sandbox's "demo" store through the consent page (a signed-in merchant), and writes `--lines`
(default 10 000) synced product lines for that tenant into the running catalog's own database with the catalog's
own unit of work and domain class (`SqlCatalogUnitOfWork`, `ProductLine.link` + `mark_synced`): the fastest
honest way to get them there; a seeded ikas catalog and a match run would give the same rows after 10 000
GraphQL product creates. Then `--requests` (default 2 000) pairs, interleaved and after `--warmup` pairs:

- through the gateway: GET /api/v1/products?page=K&page_size=50 with the merchant's session (httpx, kept alive);
- direct: the gateway's own `CatalogClient.list_product_lines` (ProductService.ListProductLines with the same
  paging, the service token, the same deadline and conversion to the gateway's pydantic page);
- and, to explain the difference, the one other RPC the gateway makes for the request: its session check
  (`AuthClient.resolve_session` with the merchant's cookie, AuthService.ResolveSession), timed the same way,
  and GET /healthz through the gateway (no RPC, a tiny body): the HTTP server's and FastAPI's floor.

K walks over every page of the 10 000 lines. Printed: p50 and p99 of both, and what the gateway adds at p50
(target: at most 5 ms) and at p99, and the session check's p50 and p99.

Run from the repository root: `.venv/bin/python -u bench/gateway_overhead.py` (about a minute;
`--lines 1000 --requests 200` gives a quick look). Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.conftest and tests.merchants: how the cross-service tests start a stack

from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork  # noqa: E402
from bridge_catalog.adapters.db.tables import map_tables  # noqa: E402
from bridge_catalog.domain.lines import ProductLine, SyncedValues  # noqa: E402
from bridge_gateway.clients.auth import AuthClient  # noqa: E402
from bridge_gateway.clients.catalog import CatalogClient  # noqa: E402
from bridge_gateway.models import PageRequest  # noqa: E402
from bridge_gateway.sessions import SESSION_COOKIE  # noqa: E402
from bridge_platform.db import make_engine, session_factory  # noqa: E402
from bridge_platform.grpc_client import grpc_channel  # noqa: E402
from tests.conftest import RUNNING_LINE, START_TIMEOUT_S, launch_dev  # noqa: E402
from tests.merchants import Urls, installed  # noqa: E402

STORE = "demo"
PAGE_SIZE = 50
TARGET_P50_MS = 5.0


def tenant_of(data_dir: Path, store: str) -> str:
    with sqlite3.connect(data_dir / "auth.db") as auth:
        (tenant_id,) = auth.execute("SELECT id FROM tenants WHERE store_name = ?", (store,)).fetchone()
    return str(tenant_id)


def add_lines(data_dir: Path, tenant_id: str, count: int) -> None:
    """`count` related, synced lines in the catalog's database, written as the catalog writes them."""
    map_tables()
    engine = make_engine(f"sqlite:///{data_dir / 'catalog.db'}")
    now = datetime.now(UTC)
    with SqlCatalogUnitOfWork(session_factory(engine), tenant_id) as uow:
        for n in range(count):
            line = ProductLine(
                tenant_id=tenant_id,
                ikas_product_id=f"bench-product-{n // 4}",
                ikas_variant_id=f"bench-variant-{n}",
                name=f"Bench product {n // 4:05d}",
                variant_name=f"Size {n % 4}",
                sku=f"B-{n}",
                ikas_stock=Decimal(n % 17),
                fortnox_stock=Decimal(n % 17),
            )
            line.link(f"B-{n}")
            line.mark_synced(SyncedValues(line.name, Decimal("100.00"), None, Decimal(n % 17)), now)
            uow.lines.add(line)
        uow.commit()
    engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000, help="product lines of the tenant")
    parser.add_argument("--requests", type=int, default=2_000, help="measured pairs (gateway, direct)")
    parser.add_argument("--warmup", type=int, default=200, help="pairs before measuring")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        dev = launch_dev(Path(scratch), BRIDGE_SYNC_INTERVAL_S="86400")
        try:
            dev.wait_for_output(RUNNING_LINE, START_TIMEOUT_S)
            urls = Urls.of(dev)
            merchant = installed(urls, STORE)
            tenant_id = tenant_of(dev.data_dir, STORE)
            started = time.monotonic()
            add_lines(dev.data_dir, tenant_id, arguments.lines)
            print(f"setup: {arguments.lines} lines written in {time.monotonic() - started:.1f} s")
            token = (dev.data_dir / "service-token").read_text().strip()
            catalog = CatalogClient(grpc_channel(dev.env["BRIDGE_CATALOG_ADDR"], service_token=token))
            auth = AuthClient(grpc_channel(dev.env["BRIDGE_AUTH_ADDR"], service_token=token))
            session_token = merchant.cookies[SESSION_COOKIE]
            pages = max(1, -(-arguments.lines // PAGE_SIZE))
            first = merchant.get("/api/v1/products", params={"page": 1, "page_size": PAGE_SIZE})
            first.raise_for_status()
            print(f"GET /api/v1/products: total {first.json()['total']}, {len(first.json()['items'])} per page")
            gateway_ms: list[float] = []
            direct_ms: list[float] = []
            session_ms: list[float] = []
            floor_ms: list[float] = []
            for n in range(arguments.warmup + arguments.requests):
                page = n % pages + 1
                at = time.perf_counter()
                answer = merchant.get("/api/v1/products", params={"page": page, "page_size": PAGE_SIZE})
                through_gateway = (time.perf_counter() - at) * 1000
                answer.raise_for_status()
                at = time.perf_counter()
                catalog.list_product_lines(
                    tenant_id, PageRequest(page=page, page_size=PAGE_SIZE), query="", status=None
                )
                direct = (time.perf_counter() - at) * 1000
                at = time.perf_counter()
                auth.resolve_session(session_token)
                session = (time.perf_counter() - at) * 1000
                at = time.perf_counter()
                merchant.get("/healthz").raise_for_status()
                floor = (time.perf_counter() - at) * 1000
                if n >= arguments.warmup:
                    gateway_ms.append(through_gateway)
                    direct_ms.append(direct)
                    session_ms.append(session)
                    floor_ms.append(floor)
            merchant.close()
            g50, g99 = percentile(gateway_ms, 0.5), percentile(gateway_ms, 0.99)
            d50, d99 = percentile(direct_ms, 0.5), percentile(direct_ms, 0.99)
            print(
                f"{arguments.requests} pairs, pages of {PAGE_SIZE} out of {arguments.lines} lines "
                f"(after {arguments.warmup} warm-up pairs)\n"
                f"  gateway GET /api/v1/products: p50 {g50:.2f} ms, p99 {g99:.2f} ms, mean "
                f"{statistics.fmean(gateway_ms):.2f} ms\n"
                f"  direct ListProductLines:      p50 {d50:.2f} ms, p99 {d99:.2f} ms, mean "
                f"{statistics.fmean(direct_ms):.2f} ms\n"
                f"  added by the gateway: p50 {g50 - d50:.2f} ms (target <= {TARGET_P50_MS:g} ms: ratio "
                f"{(g50 - d50) / TARGET_P50_MS:.2f}), p99 {g99 - d99:.2f} ms\n"
                f"  of which the session check (ResolveSession): p50 {percentile(session_ms, 0.5):.2f} ms, p99 "
                f"{percentile(session_ms, 0.99):.2f} ms; the rest (HTTP, routing, JSON) at p50 "
                f"{g50 - d50 - percentile(session_ms, 0.5):.2f} ms\n"
                f"  GET /healthz through the gateway (no RPC): p50 {percentile(floor_ms, 0.5):.2f} ms, p99 "
                f"{percentile(floor_ms, 0.99):.2f} ms"
            )
            dev.interrupt()
        finally:
            dev.kill_everything()


if __name__ == "__main__":
    main()
