"""Neutral error classes shared by every service's domain and adapters.

Standard library only, so a domain may raise them (style.md rule 1). `bridge_platform.grpc_errors`
maps them to gRPC status codes in one table, and the gateway maps those to HTTP problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of an input document: `field` is the dotted path (`orders.language`)."""

    field: str
    code: str
    message: str


class DomainError(Exception):
    """Base of every error that has a defined meaning for callers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule; `violations` names each bad field."""

    def __init__(self, message: str, violations: list[FieldViolation] | None = None) -> None:
        super().__init__(message)
        self.violations = list(violations or [])


class NotFound(DomainError):
    """The entity does not exist for this tenant (never reveals whether another tenant has it)."""


class Conflict(DomainError):
    """The request clashes with the current state; `details` carries ids the caller may need (run_id)."""

    def __init__(self, message: str, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.details = dict(details or {})


class Unauthenticated(DomainError):
    """The caller's credential is missing or not valid."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


@dataclass
class UpstreamError(DomainError):
    """An ikas or Fortnox call did not succeed; `upstream` names which."""

    upstream: str
    detail: str = ""
    status: int | None = None
    upstream_code: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        DomainError.__init__(self, f"{self.upstream}: {self.detail}" if self.detail else self.upstream)


class UpstreamRejected(UpstreamError):
    """The upstream refused the request; retrying the same request will not help."""


class UpstreamUnavailable(UpstreamError):
    """The upstream could not answer now (timeout, 429, 5xx); retrying later may help."""


class OutcomeUnknown(UpstreamUnavailable):
    """A write was sent but its answer was lost (timeout, dropped connection, 5xx): it may or may not
    have happened. Callers look up by their idempotency key before writing again, never blindly retry."""
