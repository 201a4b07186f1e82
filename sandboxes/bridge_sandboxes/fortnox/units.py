"""Units, /3/units (fact sheet §5.3). An article or document row pointing at an unknown unit is 2000432.

[?] The scope for units is probably `settings` (§1.8); the sandbox also accepts `article`. A duplicate code on
create is errors.ALREADY_EXISTS; a unit in use may still be deleted.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import (
    ALREADY_EXISTS,
    INVALID_FIELD_NAME,
    INVALID_VALUE,
    UNIT_NOT_FOUND,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company
from bridge_sandboxes.fortnox.wire import FortnoxRouter, JsonBody, page_of, paginate, resource_url, unwrap

TABLE = "units"
LIMITS = {"Code": (1, 20), "Description": (1, 100), "CodeEnglish": (0, 100)}

TenantCompany = Annotated[Company, Depends(company_for("settings", "article"))]


def existing_code(company: Company, code: Any) -> str:
    """The code itself when the company has that unit; else 2000432 (RB)."""
    if not isinstance(code, str) or code not in company.table(TABLE):
        raise FortnoxApiError(400, UNIT_NOT_FOUND, f"Kunde inte hitta enhet ({code})")
    return code


def add_unit(company: Company, code: str, description: str, english: str, at: Any) -> dict[str, Any]:
    return company.save(TABLE, code, {"Code": code, "CodeEnglish": english, "Description": description}, at)


def _validated(fields: dict[str, Any], *, creating: bool) -> dict[str, str]:
    for name in fields:
        if name not in LIMITS:
            raise FortnoxApiError(400, INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")
    required = ("Code", "Description") if creating else ()
    for name, (low, high) in LIMITS.items():
        if name not in fields and name not in required:
            continue
        value = fields.get(name)
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise FortnoxApiError(400, INVALID_VALUE, f"Ogiltigt värde för {name} ({low}-{high} tecken).")
    return {name: str(value) for name, value in fields.items()}


def units_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/units", tags=["units"])

    def render(record: dict[str, Any], request: Request) -> dict[str, Any]:
        return {"@url": resource_url(request, f"units/{record['Code']}"), **record}

    def find(company: Company, code: str) -> dict[str, Any]:
        record = company.table(TABLE).get(code)
        if record is None:
            raise FortnoxApiError(404, UNIT_NOT_FOUND, f"Kunde inte hitta enhet ({code})")
        return record

    @router.get("")
    def list_units(request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            records = [render(r, request) for _, r in sorted(company.table(TABLE).items())]
        shown, meta = paginate(records, page_of(dict(request.query_params)))
        return {"MetaInformation": meta, "Units": shown}

    @router.get("/{code}")
    def get_unit(code: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"Unit": render(find(company, code), request)}

    @router.post("", status_code=201)
    def post_unit(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        fields = _validated(unwrap(body, "Unit"), creating=True)
        state = fortnox_state(request)
        with state.lock:
            if fields["Code"] in company.table(TABLE):
                raise FortnoxApiError(400, ALREADY_EXISTS, f"Enheten {fields['Code']} finns redan.")
            record = add_unit(
                company, fields["Code"], fields["Description"], fields.get("CodeEnglish", ""), state.now()
            )
            return {"Unit": render(record, request)}

    @router.put("/{code}")
    def put_unit(code: str, request: Request, body: JsonBody, company: TenantCompany) -> dict[str, Any]:
        fields = _validated(unwrap(body, "Unit"), creating=False)
        state = fortnox_state(request)
        with state.lock:
            record = {**find(company, code), **fields, "Code": code}
            company.save(TABLE, code, record, state.now())
            return {"Unit": render(record, request)}

    @router.delete("/{code}", status_code=204)
    def delete_unit(code: str, request: Request, company: TenantCompany) -> Response:
        with fortnox_state(request).lock:
            find(company, code)
            company.remove(TABLE, code)
        return Response(status_code=204)

    return router
