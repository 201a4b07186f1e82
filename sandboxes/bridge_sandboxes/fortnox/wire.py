"""What every /3/ resource shares on the wire (fact sheet §4): JSON bodies wrapped in the singular key,
list paging with MetaInformation, the one-filter rule, `lastmodified` in Stockholm time, `sortorder`, and
numbers that come back as strings.

Records are kept as JSON-shaped dicts whose money and quantities are `Decimal`. Routes are made with
`FortnoxRouter`, which has no response models: FastAPI's plain encoder then writes a Decimal as a JSON number
(an int when it has no fraction), where a response model would turn it into a string. Handlers return records
as they are and use `as_text` only where Fortnox answers with a string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request

from bridge_sandboxes.fortnox.errors import (
    INCORRECT_DATA,
    INVALID_FILTER,
    INVALID_JSON,
    INVALID_PARAMETER,
    NOT_NUMERIC,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500  # fact sheet §4 [M]
API_BLANK = "API_BLANK"  # sent as a value to blank a field (§4)


class FortnoxRouter(APIRouter):
    """An APIRouter whose routes never get a response model, so Decimals go out as JSON numbers."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model"] = None
        super().add_api_route(path, endpoint, **kwargs)


async def json_body(request: Request) -> Any:
    """A FastAPI dependency: the parsed body, with JSON numbers read as exact Decimals (never floats)."""
    raw = await request.body()
    if not raw.strip():
        raise FortnoxApiError(400, INCORRECT_DATA, "Ingen eller felaktig typ av data.")
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise FortnoxApiError(400, INVALID_JSON, "Error deserializing JSON: JSON_ERROR_SYNTAX") from error


JsonBody = Annotated[Any, Depends(json_body)]  # a handler parameter: the parsed body, exact decimals


def unwrap(body: Any, key: str) -> dict[str, Any]:
    """`{"Article": {...}}` -> the inner dict; anything else is "Ingen eller felaktig typ av data" (2001392)."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise FortnoxApiError(400, INCORRECT_DATA, "Ingen eller felaktig typ av data.")
    return inner


def to_number(value: Any, field: str) -> Decimal:
    """A JSON number or a numeric string as an exact Decimal; anything else is 2000108."""
    if isinstance(value, bool) or value is None:
        raise FortnoxApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({field})")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as error:
        raise FortnoxApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({field})") from error
    if not number.is_finite():
        raise FortnoxApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({field})")
    return number


def as_text(number: Decimal) -> str:
    """How Fortnox writes a number it returns as a string: "0", "12", "2.5" (§4: `"QuantityInStock": "0"`)."""
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def resource_url(request: Request, path: str) -> str:
    """The `@url` of a record: this server's own base URL plus the resource path."""
    return f"{str(request.base_url).rstrip('/')}/3/{path}"


def parse_lastmodified(value: str) -> datetime:
    """`lastmodified` is Stockholm local time, "YYYY-MM-DD HH:MM" or with seconds (§4); returned in UTC."""
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            local = datetime.strptime(value.strip(), pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=STOCKHOLM).astimezone(UTC)
    raise FortnoxApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet. (lastmodified)")


def stockholm_date(at: datetime) -> str:
    """A record's date as Fortnox writes it (YYYY-MM-DD), in Swedish local time."""
    return at.astimezone(STOCKHOLM).date().isoformat()


def one_filter(params: Mapping[str, str], searches: Iterable[str], filters: Iterable[str]) -> tuple[str, str] | None:
    """The single resource-specific search or filter of a list call, as (name, value).

    Fortnox allows only ONE per request (§4); `filter` must be one of the resource's filter values. Global
    parameters (`lastmodified`, paging, sorting) do not count.
    """
    given = [(name, params[name]) for name in (*searches, "filter") if name in params]
    if len(given) > 1:
        raise FortnoxApiError(400, INVALID_FILTER, "Ett ogiltigt filter har använts.")
    if given and given[0][0] == "filter" and given[0][1] not in set(filters):
        raise FortnoxApiError(400, INVALID_FILTER, "Ett ogiltigt filter har använts.")
    return given[0] if given else None


def contains(haystack: Any, needle: str) -> bool:
    """Fortnox searches match substrings, case-insensitively (ILIKE '%value%', §4)."""
    return needle.casefold() in str(haystack if haystack is not None else "").casefold()


@dataclass(frozen=True)
class Page:
    limit: int
    page: int
    offset: int


def page_of(params: Mapping[str, str]) -> Page:
    """`limit` (default 100, at most 500), 1-based `page`, or `offset` (§4)."""

    def integer(name: str, default: int, low: int, high: int | None = None) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as error:
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})") from error
        # [?] The error for limit > 500 is not documented beyond "max 500": the sandbox answers 2000588.
        if value < low or (high is not None and value > high):
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})")
        return value

    limit = integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if "offset" in params:
        offset = integer("offset", 0, 0)
        return Page(limit=limit, page=offset // limit + 1, offset=offset)
    page = integer("page", 1, 1)
    return Page(limit=limit, page=page, offset=(page - 1) * limit)


def paginate(records: list[Any], page: Page) -> tuple[list[Any], dict[str, int]]:
    """One page of records and the MetaInformation block.

    [?] With no records at all, @TotalPages is 0 (the sandbox's choice; a client should loop while
    @CurrentPage < @TotalPages, which works either way).
    """
    total = len(records)
    meta = {
        "@TotalResources": total,
        "@TotalPages": math.ceil(total / page.limit),
        "@CurrentPage": page.page,
    }
    return records[page.offset : page.offset + page.limit], meta


def changed_since(company: Company, table: str, params: Mapping[str, str]) -> Callable[[str], bool]:
    """A predicate on record keys for the global `lastmodified` parameter (true for every key without it)."""
    raw = params.get("lastmodified")
    if raw is None or raw == "":
        return lambda _key: True
    since = parse_lastmodified(raw)

    def is_changed(key: str) -> bool:
        at = company.changed_at(table, key)
        return at is not None and at >= since

    return is_changed


def sort_order(params: Mapping[str, str]) -> bool:
    """`sortorder=ascending|descending`; True when descending."""
    order = params.get("sortorder", "ascending")
    if order not in ("ascending", "descending"):
        raise FortnoxApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortorder)")
    return order == "descending"
