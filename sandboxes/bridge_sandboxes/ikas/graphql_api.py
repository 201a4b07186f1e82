"""POST /api/v1/admin/graphql: bearer auth, then graphql-core against the real v1 schema (schema/admin-v1.graphql).

Answer shapes (fact sheet §7 says only "standard GraphQL errors[] with extensions.code"; the HTTP statuses and
messages here are guesses [?] modelled on Apollo Server, which ikas's error codes suggest):
- no, unknown or expired token: HTTP 401,
  `{"data": null, "errors": [{"message", "extensions": {"code": "UNAUTHENTICATED"}}]}`;
- a document the schema rejects (unknown field or argument, wrong type): HTTP 400, code GRAPHQL_VALIDATION_FAILED
  (syntax errors: GRAPHQL_PARSE_FAILED); nothing is executed;
- a resolver error (limit > 200, unknown id, refused webhook URL): HTTP 200, `data` with null where it failed and
  `errors[].extensions.code` (ARGUMENT_VALIDATION_ERROR, FORBIDDEN, ...).
Introspection needs no token (fact sheet §1).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLNonNull,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute,
    get_named_type,
    is_enum_type,
    is_list_type,
    is_scalar_type,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError

from bridge_sandboxes.ikas import model, resolvers
from bridge_sandboxes.ikas.model import IkasError
from bridge_sandboxes.ikas.state import SandboxState


@cache
def schema() -> GraphQLSchema:
    sdl = resources.files("bridge_sandboxes.ikas").joinpath("schema/admin-v1.graphql").read_text(encoding="utf-8")
    built = build_schema(sdl)
    assert built.query_type is not None
    assert built.mutation_type is not None
    for name, field in built.query_type.fields.items():
        field.resolve = resolvers.QUERIES.get(name, _not_served)
    for name, field in built.mutation_type.fields.items():
        field.resolve = resolvers.MUTATIONS.get(name, _not_served)
    return built


def _not_served(_: Any, info: GraphQLResolveInfo, **__: Any) -> Any:
    raise IkasError(f"The ikas sandbox does not serve {info.field_name}", code="INTERNAL_SERVER_ERROR")


_EMPTY_SCALARS: dict[str, Any] = {
    "String": "",
    "ID": "",
    "Boolean": False,
    "Int": 0,
    "Float": Decimal(0),
    "Timestamp": 0,
}


def field_resolver(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    """Dict records by key. A non-null field the sandbox's record lacks gets an empty value of its type, so
    queries for fields the sandbox does not model still answer (lists [], strings "", numbers 0) [?]."""
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    if value is None and isinstance(info.return_type, GraphQLNonNull):
        inner = info.return_type.of_type
        if is_list_type(inner):
            return []
        named = get_named_type(inner)
        if is_enum_type(named):
            return next(iter(named.values))
        if is_scalar_type(named):
            return _EMPTY_SCALARS.get(named.name, "")
        return {}
    return value


def _error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, **extra, "extensions": {"code": code}}


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=json_default), status_code=status, media_type="application/json")


def unauthenticated() -> Response:
    return _json({"data": None, "errors": [_error("Unauthorized", "UNAUTHENTICATED")]}, 401)


def too_many_requests_body() -> bytes:
    body = {"data": None, "errors": [_error("Too many requests, please try again later.", "TOO_MANY_REQUESTS")]}
    return json.dumps(body).encode()  # [?] real body and headers unknown (fact sheet §7)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    kind, _, token = authorization.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None


def _has_scope(granted: str, needed: str) -> bool:
    scopes = {s.strip() for s in granted.split(",")}
    return needed in scopes or needed.replace("read_", "write_") in scopes  # [?] write implies read


async def handle(request: Request, state: SandboxState, emit: model.Emit) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return _json({"errors": [_error("Body must be JSON", "BAD_REQUEST")]}, 400)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _json({"errors": [_error("Must provide query string.", "BAD_REQUEST")]}, 400)
    try:
        document = parse(body["query"])
    except GraphQLSyntaxError as error:
        return _json({"errors": [_error(error.message, "GRAPHQL_PARSE_FAILED", locations=_locations(error))]}, 400)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    introspection_only = all(
        all(getattr(s, "name", None) and s.name.value.startswith("__") for s in op.selection_set.selections)  # type: ignore[attr-defined]
        for op in operations
    )
    with state.lock:
        grant = state.grant_for(bearer_token(request.headers.get("authorization")) or "")
        if grant is None and not introspection_only:
            return unauthenticated()
    errors = validate(schema(), document)
    if errors:
        return _json(
            {"errors": [_error(e.message, "GRAPHQL_VALIDATION_FAILED", locations=_locations(e)) for e in errors]}, 400
        )
    context = None
    if grant is not None:
        store = state.store(grant.store)
        installation = state.installation(grant.client_id, grant.store)
        if store is None or installation is None:
            return unauthenticated()
        base_url = str(request.base_url).rstrip("/")
        context = resolvers.Context(state, store, installation, grant.scope, emit, base_url)
        for op in operations:
            for selection in op.selection_set.selections:
                name = getattr(selection, "name", None)
                needed = resolvers.REQUIRED_SCOPE.get(name.value) if name else None
                if needed and not _has_scope(grant.scope, needed):
                    message = f"Access denied: {name.value} needs the scope {needed}"  # type: ignore[union-attr]
                    return _json({"data": None, "errors": [_error(message, "FORBIDDEN")]})  # [?]
    with state.lock:  # resolvers change shared records: one request at a time
        result: ExecutionResult = execute(  # type: ignore[assignment]
            schema(),
            document,
            context_value=context,
            variable_values=body.get("variables") or None,
            operation_name=body.get("operationName"),
            field_resolver=field_resolver,
        )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_format(e) for e in result.errors]
        if result.data is None and all(not e.path for e in result.errors):  # bad variables: nothing ran
            return _json({"errors": payload["errors"]}, 400)
    return _json(payload)


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []]


def _format(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, IkasError):
        code = original.code
    elif original is None:  # variable coercion and similar request errors
        code = "BAD_USER_INPUT"
    else:
        code = "INTERNAL_SERVER_ERROR"
    formatted = _error(error.message, code, locations=_locations(error))
    if error.path:
        formatted["path"] = list(error.path)
    return formatted
