"""Fortnox's error answers (fortnox-api.md §3): the ErrorInformation envelope for /3/, the flat shape
for /api/ (warehouse), and the bare 401 for an expired or unknown token (§1.7)."""

from __future__ import annotations

from typing import Final

from fastapi import Request
from fastapi.responses import JSONResponse

# /3/ error codes (fact sheet §3; the Swedish texts from the RS error table). Codes marked [?] are not
# documented anywhere: the sandbox picks one so clients can be tested, and clients must not rely on them.
NOT_NUMERIC: Final = 2000108  # "Värdet måste vara numeriskt"
NOT_BOOLEAN: Final = 2000134  # "Värdet måste vara en boolean"
INVALID_CHARACTERS: Final = 2000359  # "Värdet innehåller ej tillåtna tecken"
INVALID_FILTER: Final = 2000587  # "Ett ogiltigt filter har använts" (400, RB)
INVALID_PARAMETER: Final = 2000588  # "Ogiltig parameter i anropet"
NO_ACCESS_TO_SCOPE: Final = 2000663  # "Har inte behörighet för scope"
INCORRECT_DATA: Final = 2001392  # "Ingen eller felaktig typ av data"
INVALID_FIELD_NAME: Final = 2001399  # "Felaktigt fältnamn"
INVALID_JSON: Final = 2002115  # "Error deserializing JSON: JSON_ERROR_SYNTAX"
ARTICLE_NOT_FOUND: Final = 2000428  # "Kan inte hitta artikeln" (404, RB)
ARTICLE_IN_REQUEST_NOT_FOUND: Final = 2001302  # "Kunde inte hitta artikel"
UNIT_NOT_FOUND: Final = 2000432  # (RB)
# [?] Read-only fields (SalesPrice, DisposableQuantity, ...) sent in a body: no code is documented; the sandbox
# answers "Felaktigt fältnamn" like an unknown field, which is the closest documented meaning.
READ_ONLY_FIELD: Final = INVALID_FIELD_NAME
# [?] A missing required field or a value out of its length limits: no code is documented.
INVALID_VALUE: Final = INCORRECT_DATA
# [?] "Article number already exists" on POST /3/articles: the fact sheet says the code is unknown (§3, §10).
# The sandbox invents this code; a client should treat any 400 on create as a possible duplicate and re-read.
ARTICLE_NUMBER_TAKEN: Final = 2000013
# [?] Not-found codes for registers the fact sheet gives none for.
PRICE_NOT_FOUND: Final = 2000414
PRICE_LIST_NOT_FOUND: Final = 2000415
CURRENCY_NOT_FOUND: Final = 2000416
# [?] A duplicate price row, price list or unit code on create.
ALREADY_EXISTS: Final = 2000417


class FortnoxApiError(Exception):
    """Raised by a /3/ handler; rendered as {"ErrorInformation": {"error": 1, "message", "code"}}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class WarehouseApiError(Exception):
    """Raised by an /api/warehouse handler; rendered as {"error": key, "message", "id"}."""

    def __init__(self, status: int, key: str, message: str) -> None:
        super().__init__(message)
        self.status, self.key, self.message = status, key, message


class Unauthorized(Exception):
    """An unknown or expired access token: 401 {"message": "unauthorized"}, not the ErrorInformation shape."""


async def render_fortnox_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, FortnoxApiError)
    body = {"ErrorInformation": {"error": 1, "message": error.message, "code": error.code}}
    return JSONResponse(body, status_code=error.status)


async def render_warehouse_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, WarehouseApiError)
    return JSONResponse({"error": error.key, "message": error.message, "id": "sandbox"}, status_code=error.status)


async def render_unauthorized(_request: Request, _error: Exception) -> JSONResponse:
    return JSONResponse({"message": "unauthorized"}, status_code=401)
