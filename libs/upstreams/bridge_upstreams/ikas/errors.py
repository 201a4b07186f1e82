"""ikas GraphQL and HTTP failures -> bridge_platform errors with a plain-English message and a hint.

ikas answers most failures with HTTP 200 and an `errors` array (message + `extensions.code`; fact
sheet §7); validation failures of the document itself may also come with 400. A 401 is handled by the
transport (one refresh, then UpstreamRejected), 429 and 502/503/504 by its retries. What reaches this
module is decided here: the kind of failure, and whether a write may have happened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bridge_platform.errors import NotFound, OutcomeUnknown, UpstreamError, UpstreamRejected, UpstreamUnavailable

UPSTREAM: Final = "ikas"
RECONNECT_HINT: Final = (
    "Reconnect the ikas store: open Bridge from the ikas admin (Apps) so that ikas authorizes it again."
)

REQUIRED_SCOPE: Final[Mapping[str, str | None]] = {
    # fact sheet §2.4: merchant/app reads need no scope; products/tags/prices are the products family;
    # stock locations and stock are inventories; orders and invoices are orders. Webhooks follow the data
    # they deliver, so registering them is not tied to one scope here.
    "me": None,
    "getMerchant": None,
    "getAuthorizedApp": None,
    "listStockLocation": "read_inventories",
    "listProductTag": "read_products",
    "listVariantType": "read_products",
    "listTaxSettings": None,
    "getGlobalTaxSettings": None,
    "listProduct": "read_products",
    "listProductAttribute": "read_products",
    "listProductAttributeValues": "read_products",
    "getProductForSave": "read_products",
    "saveProduct": "write_products",
    "saveVariantPrices": "write_products",
    "listProductStockLocation": "read_inventories",
    "saveProductStockLocations": "write_inventories",
    "listOrder": "read_orders",
    "addOrderInvoice": "write_orders",
    "saveWebhook": None,
    "listWebhook": None,
    "deleteWebhook": None,
}

_AUTH_CODES: Final = frozenset({"UNAUTHENTICATED", "UNAUTHORIZED", "INVALID_TOKEN", "TOKEN_EXPIRED"})
_PERMISSION_CODES: Final = frozenset({"FORBIDDEN", "PERMISSION_DENIED", "INSUFFICIENT_SCOPE", "MISSING_SCOPE"})
_PERMISSION_WORDS: Final = re.compile(r"permission|not allowed|not authorized|forbidden|missing scope|scope required")
_DOCUMENT_CODES: Final = frozenset({"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"})
_NOT_FOUND_CODES: Final = frozenset({"NOT_FOUND"})
_RATE_CODES: Final = frozenset({"TOO_MANY_REQUESTS", "RATE_LIMITED", "THROTTLED"})
_SERVER_CODES: Final = frozenset({"INTERNAL_SERVER_ERROR", "NETWORK_ERROR", "UNKNOWN", "SERVICE_UNAVAILABLE"})


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return str(code).upper() if code else ""


def _message(error: Mapping[str, Any]) -> str:
    message = error.get("message")
    return str(message) if message else "no message"


def graphql_error(operation: str, errors: Sequence[Any], *, is_write: bool, status: int) -> Exception:
    """The error for a GraphQL `errors` array: the first error decides, all messages are kept."""
    entries = [e for e in errors if isinstance(e, Mapping)] or [{"message": "an error without details"}]
    first = entries[0]
    code = _code(first)
    messages = "; ".join(_message(e) for e in entries[:5])
    lowered = messages.lower()
    extra = {"operation": operation}
    scope = REQUIRED_SCOPE.get(operation)

    if code in _AUTH_CODES or (not code and ("unauthenticated" in lowered or "invalid token" in lowered)):
        return UpstreamRejected(
            UPSTREAM,
            f"ikas did not accept the store's access token for {operation}: {messages}",
            status=status,
            upstream_code=code or "UNAUTHENTICATED",
            extra={**extra, "hint": RECONNECT_HINT},
        )
    if code in _PERMISSION_CODES or (not code and _PERMISSION_WORDS.search(lowered)):
        needed = f"the '{scope}' permission" if scope else "a permission it lacks"
        return UpstreamRejected(
            UPSTREAM,
            f"ikas refused {operation} because Bridge was not granted {needed}: {messages}",
            status=status,
            upstream_code=code or "FORBIDDEN",
            extra={
                **extra,
                **({"missing_scope": scope} if scope else {}),
                "hint": f"Authorize Bridge again in the ikas admin and accept {needed} "
                "(the app's permissions changed since it was installed).",
            },
        )
    if code in _NOT_FOUND_CODES:
        return NotFound(f"ikas: {operation} found nothing: {messages}")
    if code in _RATE_CODES:
        # a throttled call was not processed, so even a write is safe to send again later
        return UpstreamUnavailable(
            UPSTREAM,
            f"ikas throttled {operation}: {messages}",
            status=status,
            upstream_code=code,
            extra={**extra, "hint": "Bridge will try again when the store's request budget allows."},
        )
    if code in _SERVER_CODES or status >= 500:
        cls = OutcomeUnknown if is_write else UpstreamUnavailable
        what = "the write may or may not have happened" if is_write else "try again later"
        return cls(
            UPSTREAM,
            f"ikas failed while running {operation} ({messages}); {what}",
            status=status,
            upstream_code=code or None,
            extra={**extra, "hint": "A temporary ikas problem; Bridge retries on its next run."},
        )
    if code in _DOCUMENT_CODES:
        hint = "Bridge's request does not match the ikas API; this is a Bridge bug: report it to support."
    else:
        hint = "ikas refused the values Bridge sent; check the product or order named in the message."
    return UpstreamRejected(
        UPSTREAM,
        f"ikas rejected {operation}: {messages}",
        status=status,
        upstream_code=code or "GRAPHQL_ERROR",
        extra={**extra, "hint": hint},
    )


def http_error(operation: str, status: int, body: str, *, is_write: bool) -> UpstreamError:
    """The error for a non-200 answer without a GraphQL `errors` array."""
    snippet = " ".join(body.split())[:200]
    extra = {"operation": operation}
    if status >= 500:
        if is_write:
            return OutcomeUnknown(
                UPSTREAM,
                f"ikas answered {status} to {operation}; the write may or may not have happened",
                status=status,
                extra={**extra, "hint": "Bridge looks the result up before writing again."},
            )
        return UpstreamUnavailable(
            UPSTREAM,
            f"ikas answered {status} to {operation}",
            status=status,
            extra={**extra, "hint": "A temporary ikas problem; Bridge retries on its next run."},
        )
    if status == 403:
        return UpstreamRejected(
            UPSTREAM,
            f"ikas refused {operation} (HTTP 403): {snippet}",
            status=status,
            upstream_code="FORBIDDEN",
            extra={**extra, "hint": "Authorize Bridge again in the ikas admin with the permissions it asks for."},
        )
    return UpstreamRejected(
        UPSTREAM,
        f"ikas answered HTTP {status} to {operation}: {snippet or 'no body'}",
        status=status,
        extra={**extra, "hint": "Check the ikas API address in Bridge's configuration; if it is right, report it."},
    )


def unreadable_answer(operation: str, problem: str, *, is_write: bool, status: int) -> UpstreamError:
    """A 200 whose body is not the answer Bridge asked for (not JSON, wrong shape): clear, never a crash."""
    if is_write:
        return OutcomeUnknown(
            UPSTREAM,
            f"ikas's answer to {operation} could not be read ({problem}); the write may or may not have happened",
            status=status,
            extra={"operation": operation, "hint": "Bridge looks the result up before writing again."},
        )
    return UpstreamUnavailable(
        UPSTREAM,
        f"ikas's answer to {operation} could not be read ({problem})",
        status=status,
        extra={"operation": operation, "hint": "Usually temporary; if it persists, report it to support."},
    )
