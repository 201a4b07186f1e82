"""Fortnox's error answers -> Bridge's neutral errors, in plain English with a hint (fortnox-api.md §3).

Fortnox answers errors in three shapes, all parsed here:
- /3/: `{"ErrorInformation": {"error": 1, "message": "<Swedish>", "code": 2000428}}`, with the inner keys
  in lower case (recorded 400s) or capitalised (`Error`/`Message`/`Code`, recorded 404s);
- /api/ (warehouse): `{"error": "<key>", "message": "...", "id": "..."}`;
- an expired or unknown token: `401 {"message": "unauthorized"}`.
The Swedish text is kept in `extra["fortnox_message"]` for support; `extra["hint"]` says what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import httpx

from bridge_platform.errors import OutcomeUnknown, UpstreamError, UpstreamRejected, UpstreamUnavailable

UPSTREAM: Final = "fortnox"

_DEFAULT_ACCOUNTS = (
    "Set up the default accounts in Fortnox (Settings > Bookkeeping > Predefined accounts) and try again"
)
_BRIDGE_BUG = "Bridge sent a request Fortnox cannot read; contact Bridge support with this error"
_RECONNECT = "Reconnect Fortnox in Bridge's settings"
_FIX_VALUE = "Correct the value named in the Fortnox message and try again"

# code -> (plain-English meaning, hint). Sources: fact sheet §3 (official table, RS additions, RB recordings).
ERROR_CODES: Final[dict[int, tuple[str, str]]] = {
    1000003: ("Fortnox had an internal error", "Try again later; if it persists, contact Fortnox support"),
    1000030: ("Fortnox rejected the Accept header", _BRIDGE_BUG),
    1000031: ("Fortnox rejected the Content-Type header", _BRIDGE_BUG),
    2000106: ("A value must be alphanumeric", _FIX_VALUE),
    2000108: ("A value must be numeric", _FIX_VALUE),
    2000134: ("A value must be true or false", _FIX_VALUE),
    2000310: ("Fortnox did not accept the login", _RECONNECT),
    2000311: ("The access token or client secret is missing", _RECONNECT),
    2000359: (
        "A value contains characters Fortnox does not allow",
        "Remove special characters from the value (for example from the SKU or product name) and try again",
    ),
    2000587: ("Fortnox does not accept this search filter", _BRIDGE_BUG),
    2000588: ("Fortnox does not accept a parameter of this request", _BRIDGE_BUG),
    2000637: (
        "This customer number is already used in Fortnox (numbers stay reserved even after deletion)",
        "Let Fortnox assign customer numbers, or choose a number that was never used",
    ),
    2000663: (
        "The Fortnox connection has no permission for this part of Fortnox",
        "Reconnect Fortnox in Bridge's settings and approve every requested permission; the Fortnox user "
        "must have access to this module",
    ),
    2000729: ("The request named no valid identifier", _BRIDGE_BUG),
    2001101: (
        "The Fortnox company has no active licence for this module",
        "Add the licence for this module (for example Order or Invoicing) to the Fortnox subscription",
    ),
    2001103: (
        "The Fortnox company has no API licence",
        "Add the Fortnox integration licence to the Fortnox subscription",
    ),
    2001392: ("The request body was empty or of the wrong type", _BRIDGE_BUG),
    2001399: ("Fortnox does not know a field of the request (or the field is read-only)", _BRIDGE_BUG),
    2001740: ("Fortnox could not parse the XML body", _BRIDGE_BUG),
    2002115: ("Fortnox could not parse the JSON body", _BRIDGE_BUG),
    2001304: ("An account was not found in Fortnox", _DEFAULT_ACCOUNTS),
    2000423: ("An account was not found in Fortnox", _DEFAULT_ACCOUNTS),
    2000204: ("The customer was not found in Fortnox", "Check that the customer still exists in Fortnox"),
    2000433: ("The customer was not found in Fortnox", "Check that the customer still exists in Fortnox"),
    2000428: (
        "The article was not found in Fortnox",
        "Create the article in Fortnox (or let Bridge sync the product) and check its article number",
    ),
    2001302: (
        "An article used in the document was not found in Fortnox",
        "Create the article in Fortnox (or let Bridge sync the product) and check the product relation",
    ),
    2000432: (
        "The unit was not found in Fortnox",
        "Create the unit in Fortnox (Settings > Units) or change the product's unit",
    ),
    2000429: (
        "The terms of payment were not found in Fortnox",
        "Create the terms of payment in Fortnox or change them in Bridge's settings",
    ),
    2000434: ("The invoice was not found in Fortnox", "Check that the invoice still exists in Fortnox"),
    2000439: ("The order was not found in Fortnox", "Check that the order still exists in Fortnox"),
    2001161: ("The project was not found in Fortnox", "Create the project in Fortnox or remove it from the settings"),
    2003124: ("Only delivered orders can be marked as completed", "Deliver the order in Fortnox first"),
    2003125: ("A completed document cannot be changed", "Change the document in Fortnox or credit it"),
    2003126: ("The outbound date is after today", "Use today's date or an earlier one"),
    2003127: ("The Fortnox warehouse module rejected the change", "Check the stock settings in Fortnox"),
    2003277: (
        "The item was not found in the Fortnox warehouse module",
        "Check that the article is a stock article in Fortnox",
    ),
    2003399: ("The document is voided in the Fortnox warehouse module", "Create a new document instead"),
    2003275: ("Fortnox did not authenticate the request", _RECONNECT),
    2003095: ("Fortnox could not bookkeep the VAT of this document", _DEFAULT_ACCOUNTS),
    2003115: ("Fortnox could not bookkeep this document", _DEFAULT_ACCOUNTS),
    2000755: ("Fortnox could not bookkeep this document", _DEFAULT_ACCOUNTS),
    2004167: (
        "Fortnox needs a sales account on the row for this VAT rate",
        "Add a sales account for this VAT rate in Bridge's settings",
    ),
    2003157: ("Fortnox rejected the housework (ROT/RUT) details", "Check the housework details of the document"),
    2004021: ("Fortnox rejected the housework (ROT/RUT) details", "Check the housework details of the document"),
    2002980: ("Fortnox rejected the housework (ROT/RUT) details", "Check the housework details of the document"),
}

# /api/ (warehouse) error keys (fact sheet §3: OAS docstrings, CS tests).
API_ERROR_KEYS: Final[dict[str, tuple[str, str]]] = {
    "cannot_release_later_than_current_date": (
        "A warehouse document cannot be released with a date after today",
        "Use today's date or an earlier one",
    ),
    "document_is_voided": ("The warehouse document is voided", "Create a new document instead"),
    "period_locked": (
        "The accounting period is locked in Fortnox",
        "Unlock the period in Fortnox or use a date in an open period",
    ),
    "void_linked_outbound": ("The warehouse document is linked to an outbound delivery", "Change it in Fortnox"),
    "cannot_modify_released_document": ("A released warehouse document cannot be changed", "Create a new one"),
    "alreadyexists": ("The warehouse record already exists", "Use the existing record"),
    "duplicatestocklocations": ("Two stock locations have the same code", "Give each stock location its own code"),
    "missing.rights": (
        "The Fortnox user has no rights to the warehouse",
        "Give the connecting Fortnox user warehouse rights, then reconnect Fortnox in Bridge's settings",
    ),
}


@dataclass(frozen=True)
class FortnoxErrorBody:
    """What an error answer said: `code` (a /3/ number or an /api/ key) and Fortnox's own message."""

    code: str | None
    message: str


def _get_any_case(mapping: dict[str, Any], name: str) -> Any:
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def parse_error_body(response: httpx.Response) -> FortnoxErrorBody:
    """Reads any of the three error shapes; an unreadable body gives code None and a short excerpt."""
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        text = response.content[:200].decode("utf-8", "replace").strip()
        return FortnoxErrorBody(None, text)
    if not isinstance(body, dict):
        return FortnoxErrorBody(None, "" if body is None else str(body)[:200])
    information = _get_any_case(body, "errorinformation")
    if isinstance(information, dict):
        code = _get_any_case(information, "code")
        message = _get_any_case(information, "message")
        return FortnoxErrorBody(
            str(code) if code not in (None, "") else None, str(message) if message is not None else ""
        )
    error_key = body.get("error")
    message = body.get("message")
    if isinstance(error_key, str):
        return FortnoxErrorBody(error_key, str(message) if message is not None else "")
    return FortnoxErrorBody(None, str(message) if message is not None else "")


def meaning_of(code: str | None) -> tuple[str, str] | None:
    """(plain-English meaning, hint) for a /3/ code or an /api/ key, when known."""
    if code is None:
        return None
    if code.isdigit():
        return ERROR_CODES.get(int(code))
    return API_ERROR_KEYS.get(code)


def rejected(response: httpx.Response, action: str) -> UpstreamRejected:
    """The UpstreamRejected for a 4xx answer to `action` (e.g. "create article A100")."""
    parsed = parse_error_body(response)
    status = response.status_code
    meaning = meaning_of(parsed.code)
    if meaning is not None:
        english, hint = meaning
    elif status == 401:
        english, hint = "Fortnox rejected the connection's access token", _RECONNECT
    elif status == 403:
        english, hint = "Fortnox refused access to this part of Fortnox", _RECONNECT
    elif status == 404:
        english, hint = "Not found in Fortnox", "Check that it still exists in Fortnox"
    else:
        english, hint = (
            f"Fortnox rejected the request (HTTP {status})",
            "See the Fortnox message; contact Bridge support if it persists",
        )
    code_text = f" (Fortnox code {parsed.code})" if parsed.code else ""
    extra = {"hint": hint, "fortnox_message": parsed.message, "action": action}
    return UpstreamRejected(
        UPSTREAM,
        f"Could not {action}: {english}{code_text}. {hint}.",
        status=status,
        upstream_code=parsed.code,
        extra=extra,
    )


def unavailable(response: httpx.Response, action: str, *, safe_to_repeat: bool) -> UpstreamUnavailable:
    """A 5xx the transport returned (500, or 501+ not retried): unknown outcome for an unsafe write."""
    parsed = parse_error_body(response)
    kind = UpstreamUnavailable if safe_to_repeat else OutcomeUnknown
    detail = f"Could not {action}: Fortnox answered HTTP {response.status_code}"
    if not safe_to_repeat:
        detail += "; the change may or may not have been made"
    return kind(
        UPSTREAM,
        detail,
        status=response.status_code,
        upstream_code=parsed.code,
        extra={"fortnox_message": parsed.message, "action": action},
    )


def error_for(response: httpx.Response, action: str, *, safe_to_repeat: bool) -> UpstreamError:
    """The neutral error for a non-2xx answer."""
    if response.status_code >= 500:
        return unavailable(response, action, safe_to_repeat=safe_to_repeat)
    return rejected(response, action)


def unreadable(action: str, what: str, *, safe_to_repeat: bool) -> UpstreamUnavailable:
    """A 2xx whose body is not what Fortnox documents (not JSON, wrong root, missing fields)."""
    kind = UpstreamUnavailable if safe_to_repeat else OutcomeUnknown
    detail = f"Could not {action}: Fortnox's answer could not be read ({what})"
    if not safe_to_repeat:
        detail += "; the change may or may not have been made"
    return kind(UPSTREAM, detail, extra={"action": action})
