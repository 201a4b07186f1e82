"""Currencies, /3/currencies (fact sheet §5.7; scope `currency`). Read-only in the sandbox.

[?] Rates are the seed's fixed values (SEK per `Unit` units of the currency); an unknown code is 404
errors.CURRENCY_NOT_FOUND.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import CURRENCY_NOT_FOUND, FortnoxApiError
from bridge_sandboxes.fortnox.state import Company
from bridge_sandboxes.fortnox.wire import FortnoxRouter, page_of, paginate, resource_url, stockholm_date

TABLE = "currencies"

TenantCompany = Annotated[Company, Depends(company_for("currency"))]


def add_currency(company: Company, code: str, description: str, rate: Decimal, unit: int, at: Any) -> None:
    record = {
        "BuyRate": rate,
        "Code": code,
        "Date": stockholm_date(at),
        "Description": description,
        "SellRate": rate,
        "SimulatedRate": rate,
        "Unit": unit,
    }
    company.save(TABLE, code, record, at)


def currencies_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/currencies", tags=["currencies"])

    def render(record: dict[str, Any], request: Request) -> dict[str, Any]:
        return {"@url": resource_url(request, f"currencies/{record['Code']}"), **record}

    @router.get("")
    def list_currencies(request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            records = [render(r, request) for _, r in sorted(company.table(TABLE).items())]
        shown, meta = paginate(records, page_of(dict(request.query_params)))
        return {"MetaInformation": meta, "Currencies": shown}

    @router.get("/{code}")
    def get_currency(code: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            record = company.table(TABLE).get(code.upper())
            if record is None:
                raise FortnoxApiError(404, CURRENCY_NOT_FOUND, f"Kunde inte hitta valuta ({code})")
            return {"Currency": render(record, request)}

    return router
