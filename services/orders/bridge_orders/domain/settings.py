"""Order settings of one tenant (product.md §2, keys `orders.*`) and the rules a saved document obeys."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from bridge_platform.errors import FieldViolation, InvalidInput

BASE_UNIT: Final = "base_unit"
ATTRIBUTE: Final = "attribute"
UNIT_SOURCES: Final = (BASE_UNIT, ATTRIBUTE)

ALWAYS_EN: Final = "always_en"
ALWAYS_SV: Final = "always_sv"
CUSTOMER_ELSE_EN: Final = "customer_else_en"
CUSTOMER_ELSE_SV: Final = "customer_else_sv"
LANGUAGES: Final = (ALWAYS_EN, ALWAYS_SV, CUSTOMER_ELSE_EN, CUSTOMER_ELSE_SV)

FREIGHT: Final = "freight"
ORDER_ROW: Final = "order_row"
SHIPPING_MODES: Final = (FREIGHT, ORDER_ROW)

PLACED: Final = "placed"
PAID: Final = "paid"
SEND_WHEN_CHOICES: Final = (PLACED, PAID)

MAX_UNIT_ATTRIBUTE_LENGTH: Final = 200
MAX_ARTICLE_NUMBER_LENGTH: Final = 50  # Fortnox's limit for ArticleNumber (fortnox-api.md §5.1)
MAX_MODE_OF_PAYMENT_LENGTH: Final = 10  # fortnox-api.md §5.6b names no limit; Fortnox register codes are short
MIN_ACCOUNT: Final = 1000  # Swedish (BAS) account numbers have four digits
MAX_ACCOUNT: Final = 9999

_VAT_RATE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# ikas PaymentMethodTypeEnum values are upper-case identifiers (CREDIT_CARD, BANK_REDIRECT, ...).
_PAYMENT_METHOD: Final = re.compile(r"[A-Z][A-Z0-9_]{0,49}")
# RFC 3339 §5.6 date-time; the offset is not optional, so a date alone or a local time is refused.
_RFC3339_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class OrderSettings:
    """The `orders` part of the settings document, with the defaults of product.md §2.

    The two maps are plain dicts (they travel to JSON columns and proto maps as they are) that are
    never mutated: a change is a new OrderSettings.
    """

    sync_automatically: bool = False
    sync_from: datetime | None = None
    create_orders: bool = True
    create_invoice: bool = False
    sync_items_without_relation: bool = False
    send_invoice_email: bool = False
    unit_source: str = BASE_UNIT
    unit_attribute: str | None = None
    language: str = CUSTOMER_ELSE_EN
    shipping: str = FREIGHT
    shipping_article_number: str | None = None
    sales_accounts: Mapping[str, int] = field(default_factory=dict)
    send_when: str = PLACED
    register_payments: bool = False
    modes_of_payment: Mapping[str, str] = field(default_factory=dict)
    follow_cancellations: bool = True
    follow_refunds: bool = True

    def violations(self) -> list[FieldViolation]:
        """Every broken rule of this document, one entry per bad field, in document order."""
        found: list[FieldViolation] = []
        if self.sync_from is not None and self.sync_from.tzinfo is None:
            found.append(FieldViolation("orders.sync_from", "invalid_datetime", "must carry a UTC offset"))
        found.extend(_choice_violation("unit_source", self.unit_source, UNIT_SOURCES))
        found.extend(self._unit_attribute_violations())
        found.extend(_choice_violation("language", self.language, LANGUAGES))
        found.extend(_choice_violation("shipping", self.shipping, SHIPPING_MODES))
        found.extend(_article_number_violations(self.shipping_article_number))
        found.extend(_sales_account_violations(self.sales_accounts))
        found.extend(_choice_violation("send_when", self.send_when, SEND_WHEN_CHOICES))
        found.extend(_mode_of_payment_violations(self.modes_of_payment))
        return found

    def _unit_attribute_violations(self) -> list[FieldViolation]:
        name, value = "orders.unit_attribute", self.unit_attribute
        if self.unit_source == ATTRIBUTE and (value is None or not value.strip()):
            return [FieldViolation(name, "required", "is required when orders.unit_source is attribute")]
        if value is None:
            return []
        if not value.strip():
            return [FieldViolation(name, "invalid_value", "must be null or a non-empty attribute name")]
        if value != value.strip():
            return [FieldViolation(name, "invalid_value", "must not start or end with whitespace")]
        if len(value) > MAX_UNIT_ATTRIBUTE_LENGTH:
            return [FieldViolation(name, "invalid_value", f"must be at most {MAX_UNIT_ATTRIBUTE_LENGTH} characters")]
        return []

    def saved_over(self, previous: OrderSettings | None, now: datetime) -> OrderSettings:
        """The document as stored when it replaces `previous` (None before the first save) at `now`.

        VAT rates take their canonical spelling and sync_from is kept in UTC, so what a save returns
        equals what a later read returns. product.md §2: while sync_from is null, it becomes the moment
        sync_automatically is first saved as true, so orders placed before automation was switched on
        are never sent by it; a save while automation already was on leaves a null as sent.
        """
        sync_from = self.sync_from
        if sync_from is None and self.sync_automatically and not (previous and previous.sync_automatically):
            sync_from = now
        return dataclasses.replace(
            self,
            sync_from=sync_from.astimezone(UTC) if sync_from is not None else None,
            sales_accounts={canonical_vat_rate(rate): account for rate, account in self.sales_accounts.items()},
        )


def parse_sync_from(text: str) -> datetime:
    """An RFC 3339 date-time with offset ("2026-01-01T00:00:00+01:00", "...Z") as an aware datetime."""
    if _RFC3339_DATE_TIME.fullmatch(text):
        try:
            # fromisoformat keeps at most microseconds, which is all the databases store anyway.
            return datetime.fromisoformat(text.upper())
        except ValueError:
            pass  # well-formed but impossible, such as February 30th
    raise InvalidInput(
        "the order settings are invalid",
        [
            FieldViolation(
                "orders.sync_from",
                "invalid_datetime",
                "must be an RFC 3339 date-time with offset, such as 2026-01-01T00:00:00+01:00",
            )
        ],
    )


def is_vat_rate(text: str) -> bool:
    """A decimal percentage 0 <= rate < 100 with at most two decimals, such as "25", "12.5" or "0"."""
    if not _VAT_RATE.fullmatch(text):
        return False
    rate = Decimal(text)
    exponent = rate.normalize().as_tuple().exponent
    return rate < 100 and isinstance(exponent, int) and exponent >= -2


def canonical_vat_rate(text: str) -> str:
    """The one spelling of a valid VAT rate: "25.0" -> "25", "12.50" -> "12.5"."""
    return format(Decimal(text).normalize(), "f")


def _choice_violation(name: str, value: str, choices: tuple[str, ...]) -> list[FieldViolation]:
    if value in choices:
        return []
    return [FieldViolation(f"orders.{name}", "invalid_choice", f"must be one of {', '.join(choices)}")]


def _article_number_violations(value: str | None) -> list[FieldViolation]:
    if value is None or (0 < len(value) <= MAX_ARTICLE_NUMBER_LENGTH and value == value.strip()):
        return []
    message = f"must be null or 1 to {MAX_ARTICLE_NUMBER_LENGTH} characters without surrounding whitespace"
    return [FieldViolation("orders.shipping_article_number", "invalid_article_number", message)]


def _sales_account_violations(accounts: Mapping[str, int]) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    seen_rates: set[str] = set()
    for rate in sorted(accounts):  # maps arrive in no particular order; sorting keeps errors stable
        name = f"orders.sales_accounts.{rate}"
        account = accounts[rate]
        if not is_vat_rate(rate):
            found.append(FieldViolation(name, "invalid_vat_rate", "must be a VAT rate from 0 to 99.99, such as 25"))
        elif canonical_vat_rate(rate) in seen_rates:
            found.append(FieldViolation(name, "duplicate_vat_rate", "names a VAT rate that is already mapped"))
        elif isinstance(account, bool) or not MIN_ACCOUNT <= account <= MAX_ACCOUNT:
            message = f"must be an account number from {MIN_ACCOUNT} to {MAX_ACCOUNT}"
            found.append(FieldViolation(name, "invalid_account", message))
        if is_vat_rate(rate):
            seen_rates.add(canonical_vat_rate(rate))
    return found


def _mode_of_payment_violations(modes: Mapping[str, str]) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    for method in sorted(modes):
        name = f"orders.modes_of_payment.{method}"
        code = modes[method]
        if not _PAYMENT_METHOD.fullmatch(method):
            message = "must be an ikas payment method type, such as CREDIT_CARD"
            found.append(FieldViolation(name, "invalid_payment_method", message))
        elif not code or len(code) > MAX_MODE_OF_PAYMENT_LENGTH or any(c.isspace() for c in code):
            message = f"must be a Fortnox mode of payment code of 1 to {MAX_MODE_OF_PAYMENT_LENGTH} characters"
            found.append(FieldViolation(name, "invalid_mode_of_payment", message))
    return found


@dataclass
class TenantOrderSettings:
    """The stored order settings of one tenant; absent until the first save (defaults apply)."""

    tenant_id: str
    settings: OrderSettings
    updated_at: datetime

    def replace(self, settings: OrderSettings, at: datetime) -> None:
        self.settings, self.updated_at = settings, at
