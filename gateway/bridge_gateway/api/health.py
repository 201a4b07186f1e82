"""Liveness and readiness (product.md §8): /healthz checks nothing, /readyz asks every service."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bridge_gateway.problems import responses, service_unavailable
from bridge_gateway.sessions import Clients

router = APIRouter(tags=["health"])

ServiceState = Literal["serving", "not_serving"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    services: dict[str, ServiceState]


@router.get("/healthz")
def healthz() -> Liveness:
    """The process answers; no dependency is checked, so a slow service never restarts the gateway."""
    return Liveness(status="ok")


@router.get("/readyz", response_model=Readiness, responses=responses(503))
def readyz(clients: Clients) -> Readiness | JSONResponse:
    """Ready when auth, catalog and orders all answer SERVING; otherwise 503 naming each one's state."""
    checks = {
        "auth": clients.auth.is_serving,
        "catalog": clients.catalog.is_serving,
        "orders": clients.orders.is_serving,
    }
    with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz") as pool:  # at most one deadline
        futures = {name: pool.submit(check) for name, check in checks.items()}
        serving = {name: future.result() for name, future in futures.items()}
    states: dict[str, ServiceState] = {name: "serving" if ok else "not_serving" for name, ok in serving.items()}
    if all(serving.values()):
        return Readiness(status="ready", services=states)
    down = ", ".join(name for name, ok in serving.items() if not ok)
    return service_unavailable(f"not ready: {down} not serving", extensions={"services": states})
