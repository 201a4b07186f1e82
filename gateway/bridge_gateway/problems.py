"""Every error the gateway answers is an RFC 9457 problem (`application/problem+json`), built here.

`type` names the kind of problem with a stable URN so clients can branch on it; routing errors
(404, 405) use "about:blank", whose title is the HTTP status phrase. Details of unexpected errors
are logged, never echoed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from bridge_platform.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge_platform.grpc_errors import error_from_rpc

log = logging.getLogger(__name__)

MEDIA_TYPE: Final = "application/problem+json"
RETRY_AFTER_S: Final = 5

INVALID_INPUT: Final = "urn:bridge:problem:invalid-input"
NOT_FOUND: Final = "urn:bridge:problem:not-found"
CONFLICT: Final = "urn:bridge:problem:conflict"
UPSTREAM_REJECTED: Final = "urn:bridge:problem:upstream-rejected"
UNAUTHENTICATED: Final = "urn:bridge:problem:unauthenticated"
PERMISSION_DENIED: Final = "urn:bridge:problem:permission-denied"
SERVICE_UNAVAILABLE: Final = "urn:bridge:problem:service-unavailable"
INTERNAL: Final = "urn:bridge:problem:internal"

_RESERVED: Final = frozenset({"type", "title", "status", "detail", "instance", "errors"})

# pydantic error types -> the codes of the API (product.md §2); any other type keeps its own name.
_CODE_FOR: Final = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "invalid_choice",
    "json_invalid": "invalid_json",
}
_LOCATIONS: Final = frozenset({"body", "query", "path", "header", "cookie"})


class FieldProblem(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem; extension members (such as `run_id` or `services`) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def problem(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    errors: Iterable[FieldViolation] | None = None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; `extensions` never overwrite the standard members."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in errors]
    body.update({key: value for key, value in (extensions or {}).items() if key not in _RESERVED})
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=MEDIA_TYPE)


def service_unavailable(detail: str, *, extensions: Mapping[str, Any] | None = None) -> JSONResponse:
    return problem(
        503,
        detail,
        type_=SERVICE_UNAVAILABLE,
        title="Service unavailable",
        extensions=extensions,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def from_domain_error(error: DomainError) -> JSONResponse:
    """The HTTP answer for a neutral error (style.md §2: the same road back as the gRPC status)."""
    if isinstance(error, InvalidInput):
        return problem(422, error.message, type_=INVALID_INPUT, title="Invalid input", errors=error.violations)
    if isinstance(error, NotFound):
        return problem(404, error.message, type_=NOT_FOUND, title="Not found")
    if isinstance(error, Conflict):
        return problem(409, error.message, type_=CONFLICT, title="Conflict", extensions=error.details)
    if isinstance(error, UpstreamRejected):
        extensions = {**error.extra, "upstream": error.upstream, "upstream_code": error.upstream_code}
        return problem(409, error.message, type_=UPSTREAM_REJECTED, title="Rejected upstream", extensions=extensions)
    if isinstance(error, Unauthenticated):
        return problem(401, error.message, type_=UNAUTHENTICATED, title="Not signed in")
    if isinstance(error, PermissionDenied):
        return problem(403, error.message, type_=PERMISSION_DENIED, title="Permission denied")
    if isinstance(error, UpstreamUnavailable):
        log.warning("a service is unavailable: %s", error.message)
        return service_unavailable("A service Bridge depends on is not answering; try again shortly.")
    return internal_error(error)


def internal_error(error: BaseException) -> JSONResponse:
    log.error("unexpected error", exc_info=error)
    return problem(500, "An unexpected error occurred; it has been logged.", type_=INTERNAL)


def field_problems(errors: Sequence[Any]) -> list[FieldViolation]:
    """pydantic's errors as the API's field problems: the dotted path inside the request, and a code."""
    found = []
    for error in errors:
        kind = str(error.get("type", ""))
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in _LOCATIONS and len(location) > 1:
            location = location[1:]
        code = _CODE_FOR.get(kind) or ("invalid_type" if kind.endswith(("_type", "_parsing")) else kind)
        message = str(error.get("msg", ""))
        if kind == "json_invalid" or (location == ["body"] and isinstance(error.get("input"), bytes)):
            # A syntax error (its position is not a field), or a body FastAPI left unparsed because
            # it was not sent as application/json.
            location, code, message = ["body"], "invalid_json", "must be a JSON document sent as application/json"
        found.append(FieldViolation(".".join(location) or "body", code, message))
    return found


async def _request_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    violations = field_problems(error.errors())
    return problem(422, "The request is invalid.", type_=INVALID_INPUT, title="Invalid input", errors=violations)


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return from_domain_error(error)


async def _rpc_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, grpc.RpcError)
    return from_domain_error(error_from_rpc(error))


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return problem(error.status_code, str(error.detail), headers=error.headers)


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    # A bug in the gateway. Starlette re-raises after this answer, so the server sees the failure too.
    return internal_error(error)


def install(app: FastAPI) -> None:
    """Makes every error of `app` a problem, and documents the problem schema."""
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(grpc.RpcError, _rpc_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    document(app)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route that may answer these problems (see `document`)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def document(app: FastAPI) -> None:
    """Adds the Problem schema that `responses` refers to to the app's OpenAPI document.

    (Naming the model in `responses` would also document an application/json body, which is never sent.)
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem_schema.pop("$defs", {}))
            components["Problem"] = problem_schema
            # FastAPI answers 400 (a problem, through _http_error) to a body it cannot parse, before any route
            # runs: every operation that takes a body may answer it, so each says so.
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation.setdefault("responses", {}).setdefault("400", responses(400)[400])
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
