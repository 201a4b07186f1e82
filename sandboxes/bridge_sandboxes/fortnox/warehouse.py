"""The warehouse endpoints Bridge uses, under /api/warehouse/ (fact sheet §6): camelCase JSON, not wrapped, and
the flat {"error", "message", "id"} error shape.

- `tenants-v4`: {"activated", "tenantId"}; the flag is set per company through /__admin/ (a sysadmin does it in
  the Fortnox UI; the API cannot, §6.1). On activation, each stock article's QuantityInStock moves into the
  company's first stock point, and from then on the article's QuantityInStock is read-only and derived.
- `status-v1/stockbalance`: rows {itemId, stockPointCode, stockPointId, availableStock, inStock}.
- `stockpoints-v1`: list, one, create; `stockpoints-v1/itemsummary/{itemId}` (older, per stock point).
- `stocktaking-v1`: planning -> started (with a date) -> rows counted -> release sets the balance ABSOLUTELY to
  stockTakenQuantity; void only in planning/started.

What the sandbox decides ([?]): lists are bare JSON arrays; a company without the module answers 400
`warehouse.not.activated` on every endpoint but tenants-v4; stock-taking ids are integers; its rows are keyed by
(itemId, stockPointId, stockLocationId) and a row without stockTakenQuantity is left unchanged on release; the
stock balance lists only (item, stock point) pairs that ever held stock; an unknown item is 404 `notfound`;
deactivating the module (admin) moves the summed balance back into QuantityInStock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bridge_sandboxes.fortnox.access import fortnox_state, warehouse_company
from bridge_sandboxes.fortnox.errors import WarehouseApiError
from bridge_sandboxes.fortnox.state import Company, FortnoxState
from bridge_sandboxes.fortnox.wire import STOCKHOLM, FortnoxRouter, JsonBody, to_number

POINTS = "stockpoints"
BALANCES = "stockbalances"
TAKINGS = "stocktakings"
ZERO = Decimal(0)
EDITABLE_STATES = ("planning", "started")

TenantCompany = Annotated[Company, Depends(warehouse_company)]


def _balance_key(item: str, stock_point_id: str) -> str:
    return f"{item}|{stock_point_id}"


def in_stock(company: Company, item: str) -> Decimal:
    return sum((b["inStock"] for b in company.table(BALANCES).values() if b["itemId"] == item), ZERO)


def reserved(company: Company, item: str) -> Decimal:
    return sum((b["reserved"] for b in company.table(BALANCES).values() if b["itemId"] == item), ZERO)


def add_stock_point(company: Company, code: str, name: str, at: datetime) -> dict[str, Any]:
    point_id = str(uuid.uuid4())
    record = {
        "id": point_id,
        "code": code,
        "name": name,
        "active": True,
        "usingCompanyAddress": True,
        "deliveryName": "",
        "deliveryAddress": "",
        "deliveryAddress2": "",
        "deliveryZipCode": "",
        "deliveryCity": "",
        "deliveryCountryCode": "",
        "deliveryPhone": "",
        "stockLocations": [],
    }
    return company.save(POINTS, point_id, record, at)


def default_stock_point(company: Company, at: datetime) -> dict[str, Any]:
    points = list(company.table(POINTS).values())
    return points[0] if points else add_stock_point(company, "HL", "Huvudlager", at)  # [?] the seed's main point


def adjust(
    company: Company,
    item: str,
    stock_point_id: str,
    at: datetime,
    *,
    in_stock: Decimal = ZERO,
    reserved: Decimal = ZERO,
) -> None:
    """Changes a balance by the given amounts (for warehouse documents, and for orders and invoices that
    reserve or deliver stock when the module is on, §6.1)."""
    point = company.table(POINTS)[stock_point_id]
    key = _balance_key(item, stock_point_id)
    balance = company.table(BALANCES).get(key) or {
        "itemId": item,
        "stockPointId": stock_point_id,
        "stockPointCode": point["code"],
        "inStock": ZERO,
        "reserved": ZERO,
    }
    balance = {**balance, "inStock": balance["inStock"] + in_stock, "reserved": balance["reserved"] + reserved}
    company.save(BALANCES, key, balance, at)
    if item in company.table("articles"):
        company.touch("articles", item, at)


def set_activated(company: Company, activated: bool, at: datetime) -> None:
    """What the sysadmin's activation does (§6.1): the item register's balances move into the warehouse."""
    if activated == company.warehouse_enabled:
        return
    articles = company.table("articles")
    if activated:
        point = default_stock_point(company, at)
        for number, article in articles.items():
            if article["QuantityInStock"] != ZERO:
                adjust(company, number, point["id"], at, in_stock=article["QuantityInStock"])
                articles[number] = {**article, "QuantityInStock": ZERO}
    else:
        for number, article in articles.items():
            articles[number] = {**article, "QuantityInStock": in_stock(company, number)}
            company.touch("articles", number, at)
        company.table(BALANCES).clear()
    company.warehouse_enabled = activated


def _active(company: Company) -> Company:
    if not company.warehouse_enabled:
        raise WarehouseApiError(400, "warehouse.not.activated", "The warehouse module is not activated.")
    return company


def _point(company: Company, id_or_code: str) -> dict[str, Any]:
    points = company.table(POINTS)
    found = points.get(id_or_code) or next((p for p in points.values() if p["code"] == id_or_code), None)
    if found is None:
        raise WarehouseApiError(404, "notfound", f"Stock point {id_or_code} not found.")
    return found


def _balance_row(balance: dict[str, Any]) -> dict[str, Any]:
    return {
        "itemId": balance["itemId"],
        "stockPointCode": balance["stockPointCode"],
        "stockPointId": balance["stockPointId"],
        "availableStock": balance["inStock"] - balance["reserved"],
        "inStock": balance["inStock"],
    }


def _today(state: FortnoxState) -> str:
    return state.now().astimezone(STOCKHOLM).date().isoformat()


def _taking(company: Company, taking_id: int) -> dict[str, Any]:
    found = company.table(TAKINGS).get(str(taking_id))
    if found is None:
        raise WarehouseApiError(404, "notfound", f"Stock taking {taking_id} not found.")
    return found


def _editable(taking: dict[str, Any]) -> None:
    if taking["state"] not in EDITABLE_STATES:
        raise WarehouseApiError(400, "cannot_modify_released_document", "The document is released or voided.")


def _add_row(company: Company, taking: dict[str, Any], item: Any, point_ref: Any, location: Any) -> None:
    if not isinstance(item, str) or item not in company.table("articles"):
        raise WarehouseApiError(404, "notfound", f"Item {item} not found.")
    points = company.table(POINTS)
    if not point_ref and not points:
        raise WarehouseApiError(400, "invalid", "The company has no stock point.")
    point = _point(company, str(point_ref)) if point_ref else next(iter(points.values()))
    for row in taking["rows"]:
        if (row["itemId"], row["stockPointId"], row["stockLocationId"]) == (item, point["id"], location):
            return
    balance = company.table(BALANCES).get(_balance_key(item, point["id"]))
    taking["rows"].append(
        {
            "itemId": item,
            "itemDescription": company.table("articles")[item]["Description"],
            "stockPointId": point["id"],
            "stockPointCode": point["code"],
            "stockLocationId": location,
            "inStockQuantity": balance["inStock"] if balance else ZERO,
            "stockTakenQuantity": None,
            "countedBy": None,
        }
    )


def warehouse_router() -> APIRouter:
    router = FortnoxRouter(prefix="/api/warehouse", tags=["warehouse"])

    @router.get("/tenants-v4")
    def tenant(request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return {"activated": company.warehouse_enabled, "tenantId": company.tenant_id}

    @router.get("/status-v1/stockbalance")
    def stock_balance(request: Request, company: TenantCompany) -> list[dict[str, Any]]:
        items = {i for i in request.query_params.get("itemIds", "").split(",") if i}
        codes = {c for c in request.query_params.get("stockPointCodes", "").split(",") if c}
        with fortnox_state(request).lock:
            return [
                _balance_row(b)
                for _, b in sorted(_active(company).table(BALANCES).items())
                if (not items or b["itemId"] in items) and (not codes or b["stockPointCode"] in codes)
            ]

    @router.get("/stockpoints-v1")
    def stock_points(request: Request, company: TenantCompany) -> list[dict[str, Any]]:
        wanted = request.query_params.get("state", "ACTIVE").upper()
        q = request.query_params.get("q", "").casefold()
        with fortnox_state(request).lock:
            return [
                p
                for p in _active(company).table(POINTS).values()
                if (wanted == "ALL" or p["active"] == (wanted == "ACTIVE"))
                and (q in p["code"].casefold() or q in p["name"].casefold())
            ]

    @router.get("/stockpoints-v1/itemsummary/{item}")
    def item_summary(item: str, request: Request, company: TenantCompany) -> list[dict[str, Any]]:
        code = request.query_params.get("q")
        with fortnox_state(request).lock:
            rows = []
            for point in _active(company).table(POINTS).values():
                if code and point["code"] != code:
                    continue
                balance = company.table(BALANCES).get(_balance_key(item, point["id"]))
                total = balance["inStock"] if balance else ZERO
                held = balance["reserved"] if balance else ZERO
                rows.append(
                    {
                        "stockPointId": point["id"],
                        "stockPointCode": point["code"],
                        "stockPointName": point["name"],
                        "totalQuantity": total,
                        "availableQuantity": total - held,
                        "orderShortage": ZERO,
                        "stockLocations": [],
                        "orderPointQuantity": ZERO,
                        "maxStock": ZERO,
                    }
                )
            return rows

    @router.get("/stockpoints-v1/{id_or_code}")
    def stock_point(id_or_code: str, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return _point(_active(company), id_or_code)

    @router.post("/stockpoints-v1", status_code=201)
    def create_stock_point(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        state = fortnox_state(request)
        code, name = (body.get("code"), body.get("name")) if isinstance(body, dict) else (None, None)
        if not isinstance(code, str) or not 1 <= len(code) <= 10 or not isinstance(name, str) or not name:
            raise WarehouseApiError(400, "invalid", "code (1-10) and name (1-25) are required.")
        with state.lock:
            if any(p["code"] == code for p in _active(company).table(POINTS).values()):
                raise WarehouseApiError(400, "alreadyexists", f"Stock point {code} already exists.")
            return add_stock_point(company, code, name[:25], state.now())

    @router.post("/stocktaking-v1", status_code=201)
    def create_taking(request: Request, body: JsonBody, company: TenantCompany) -> Any:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise WarehouseApiError(400, "invalid", "name is required.")
        if body.get("state", "planning") != "planning":
            raise WarehouseApiError(400, "invalid", "A new stock taking starts in state planning.")
        with fortnox_state(request).lock:
            _active(company)
            taking_id = int(company.next_number(TAKINGS))
            taking = {
                "id": taking_id,
                "name": body["name"],
                "responsible": str(body.get("responsible") or ""),
                "state": "planning",
                "date": None,
                "note": str(body.get("note") or ""),
                "rows": [],
            }
            company.table(TAKINGS)[str(taking_id)] = taking
            return taking

    @router.get("/stocktaking-v1/{taking_id}")
    def get_taking(taking_id: int, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            return _taking(_active(company), taking_id)

    @router.get("/stocktaking-v1/{taking_id}/rows")
    def get_taking_rows(taking_id: int, request: Request, company: TenantCompany) -> list[dict[str, Any]]:
        with fortnox_state(request).lock:
            return list(_taking(_active(company), taking_id)["rows"])

    @router.put("/stocktaking-v1/{taking_id}")
    def update_taking(taking_id: int, request: Request, body: JsonBody, company: TenantCompany) -> dict[str, Any]:
        """Every head field is sent each time (§6.2); rows carry the counted quantities."""
        if not isinstance(body, dict) or any(name not in body for name in ("name", "responsible", "state")):
            raise WarehouseApiError(400, "invalid", "name, responsible and state are required.")
        if body["state"] not in EDITABLE_STATES:
            raise WarehouseApiError(400, "invalid", "state must be planning or started; use release or void.")
        if body["state"] == "started" and not body.get("date"):
            raise WarehouseApiError(400, "invalid", "A started stock taking needs a date.")
        with fortnox_state(request).lock:
            taking = _taking(_active(company), taking_id)
            _editable(taking)
            for row in body.get("rows") or []:
                _add_row(company, taking, row.get("itemId"), row.get("stockPointId"), row.get("stockLocationId"))
                for existing in taking["rows"]:
                    if existing["itemId"] == row.get("itemId") and (
                        not row.get("stockPointId")
                        or row["stockPointId"] in (existing["stockPointId"], existing["stockPointCode"])
                    ):
                        if row.get("stockTakenQuantity") is not None:
                            existing["stockTakenQuantity"] = to_number(row["stockTakenQuantity"], "stockTakenQuantity")
                        existing["countedBy"] = row.get("countedBy", existing["countedBy"])
            taking.update(
                name=body["name"], responsible=body["responsible"], state=body["state"], date=body.get("date")
            )
            return taking

    @router.post("/stocktaking-v1/{taking_id}/rows")
    def add_rows(taking_id: int, request: Request, body: JsonBody, company: TenantCompany) -> list[dict[str, Any]]:
        if not isinstance(body, list):
            raise WarehouseApiError(400, "invalid", "A list of rows is required.")
        with fortnox_state(request).lock:
            taking = _taking(_active(company), taking_id)
            _editable(taking)
            for row in body:
                _add_row(company, taking, row.get("itemId"), row.get("stockPointId"), row.get("stockLocationId"))
            return list(taking["rows"])

    @router.post("/stocktaking-v1/{taking_id}/addrows")
    def add_rows_by_item(taking_id: int, request: Request, company: TenantCompany) -> list[dict[str, Any]]:
        items = [i for i in request.query_params.get("itemIds", "").split(",") if i]
        point = request.query_params.get("stockPointId")
        with fortnox_state(request).lock:
            taking = _taking(_active(company), taking_id)
            _editable(taking)
            for item in items:
                _add_row(company, taking, item, point, None)
            return list(taking["rows"])

    @router.put("/stocktaking-v1/{taking_id}/release")
    def release_taking(taking_id: int, request: Request, company: TenantCompany) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            taking = _taking(_active(company), taking_id)
            _editable(taking)
            if taking["state"] != "started" or not taking["date"]:
                raise WarehouseApiError(400, "invalid", "Only a started stock taking with a date can be released.")
            if taking["date"] > _today(state):
                raise WarehouseApiError(
                    400, "cannot_release_later_than_current_date", "The date is later than the current date."
                )
            now = state.now()
            for row in taking["rows"]:
                if row["stockTakenQuantity"] is None:
                    continue
                balance = company.table(BALANCES).get(_balance_key(row["itemId"], row["stockPointId"]))
                current = balance["inStock"] if balance else ZERO
                adjust(company, row["itemId"], row["stockPointId"], now, in_stock=row["stockTakenQuantity"] - current)
            taking["state"] = "completed"
            return taking

    @router.put("/stocktaking-v1/{taking_id}/void")
    def void_taking(taking_id: int, request: Request, company: TenantCompany) -> dict[str, Any]:
        with fortnox_state(request).lock:
            taking = _taking(_active(company), taking_id)
            _editable(taking)
            taking["state"] = "voided"
            return taking

    return router


class Activation(BaseModel):
    activated: bool


def warehouse_admin_router(state: FortnoxState) -> APIRouter:
    router = FortnoxRouter(prefix="/__admin", tags=["admin"])

    @router.post("/companies/{tenant_id}/warehouse")
    def activate(tenant_id: int, body: Activation) -> JSONResponse:
        with state.lock:
            company = state.companies.get(tenant_id)
            if company is None:
                return JSONResponse({"error": f"unknown tenant {tenant_id}"}, status_code=404)
            set_activated(company, body.activated, state.now())
            return JSONResponse({"tenant_id": tenant_id, "activated": company.warehouse_enabled})

    return router
