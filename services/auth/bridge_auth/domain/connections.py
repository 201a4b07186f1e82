"""The ikas and Fortnox connections of a tenant and the rules of their tokens (product.md §1.3-§1.5, §1.7).

A connection holds its tokens sealed by the vault (never in plain text); the entity only sees the sealed
strings. Freshness rules live here: an access token is used until `REFRESH_MARGIN` before it expires; a
Fortnox refresh token lives 45 days and is refreshed when fewer than `REFRESH_TOKEN_RENEWAL` days remain,
so an idle tenant never loses its connection (fortnox-api.md §1.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bridge_platform.errors import Conflict, UpstreamRejected

REFRESH_MARGIN: Final = timedelta(minutes=5)
FORTNOX_REFRESH_TOKEN_LIFETIME: Final = timedelta(days=45)
REFRESH_TOKEN_RENEWAL: Final = timedelta(days=7)
FORTNOX_SCOPES: Final = (
    "article",
    "customer",
    "order",
    "invoice",
    "price",
    "companyinformation",
    "settings",
    "currency",
    "payment",
)
IKAS_SCOPES: Final = (
    "read_products",
    "write_products",
    "read_inventories",
    "write_inventories",
    "read_orders",
    "write_orders",
)
IKAS_WEBHOOK_SCOPES: Final = (
    "store/order/created",
    "store/order/updated",
    "store/product/created",
    "store/product/updated",
    "store/stock/created",
    "store/stock/updated",
)
ANOTHER_COMPANY: Final = "connected to another company; reset the product relations first"


class Upstream(StrEnum):
    IKAS = "ikas"
    FORTNOX = "fortnox"


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NEEDS_REAUTH = "needs_reauth"


class GrantRejected(UpstreamRejected):
    """The upstream refused a code or refresh token for good (invalid_grant): the merchant must reconnect."""


def needs_reauth(upstream: Upstream) -> Conflict:
    return Conflict(f"the {upstream} connection must be authorized again", {"reason": "needs_reauth"})


def disconnected(upstream: Upstream) -> Conflict:
    return Conflict(f"{upstream} is not connected", {"reason": "disconnected"})


@dataclass(frozen=True)
class IssuedTokens:
    """What a token endpoint answered, in plain text: lives only in memory, between upstream and vault."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: tuple[str, ...]

    def __repr__(self) -> str:  # never print tokens
        return f"IssuedTokens(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


@dataclass(frozen=True)
class CompanyInformation:
    """The connected Fortnox company (§1.3, §1.7)."""

    name: str | None
    organisation_number: str | None
    warehouse_module: bool


@dataclass
class Connection:
    """One tenant's connection to one upstream; `access_token` and `refresh_token` are vault-sealed strings."""

    tenant_id: str
    upstream: str
    status: str
    updated_at: datetime
    access_token: str | None = None
    refresh_token: str | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: str = ""
    connected_at: datetime | None = None
    company_name: str | None = None
    organisation_number: str | None = None
    # The organisation number the tenant's relations belong to: another company is refused until the
    # relations are reset (§1.5), which clears it.
    relations_organisation_number: str | None = None
    warehouse_module: bool = False
    webhook_warning: str = ""

    @classmethod
    def new(cls, tenant_id: str, upstream: Upstream, at: datetime) -> Connection:
        return cls(tenant_id, upstream.value, ConnectionStatus.DISCONNECTED.value, at)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def require_usable(self) -> None:
        """Raises the Conflict callers turn into "paused, keep the work" when there is no token to use."""
        upstream = Upstream(self.upstream)
        if self.status == ConnectionStatus.NEEDS_REAUTH:
            raise needs_reauth(upstream)
        if self.status != ConnectionStatus.CONNECTED or self.access_token is None:
            raise disconnected(upstream)

    def is_fresh(self, now: datetime) -> bool:
        return (
            self.status == ConnectionStatus.CONNECTED
            and self.access_token is not None
            and self.access_expires_at is not None
            and self.access_expires_at - REFRESH_MARGIN > now
        )

    def is_refresh_due(self, now: datetime) -> bool:
        """For the scheduled refresh: the access token expired while idle, or the refresh token ends soon."""
        if self.status != ConnectionStatus.CONNECTED or self.refresh_token is None:
            return False
        if self.access_expires_at is None or self.access_expires_at - REFRESH_MARGIN <= now:
            return True
        return self.refresh_expires_at is not None and self.refresh_expires_at - REFRESH_TOKEN_RENEWAL <= now

    def store_tokens(
        self, access_token: str, refresh_token: str | None, tokens: IssuedTokens, refresh_expires_at: datetime | None
    ) -> None:
        """Keeps freshly sealed tokens; a refresh answer without a refresh token keeps the current one."""
        self.access_token = access_token
        if refresh_token is not None:
            self.refresh_token = refresh_token
            self.refresh_expires_at = refresh_expires_at
        self.access_expires_at = tokens.expires_at
        if tokens.scopes:
            self.scopes = " ".join(tokens.scopes)
        self.status = ConnectionStatus.CONNECTED.value

    def connect(
        self,
        access_token: str,
        refresh_token: str | None,
        tokens: IssuedTokens,
        refresh_expires_at: datetime | None,
        at: datetime,
    ) -> None:
        self.store_tokens(access_token, refresh_token, tokens, refresh_expires_at)
        if refresh_token is None:
            self.refresh_token = None
            self.refresh_expires_at = None
        self.scopes = " ".join(tokens.scopes)
        self.connected_at = at
        self.updated_at = at

    def check_company(self, company: CompanyInformation) -> None:
        """Refuses another company than the one the tenant's relations belong to (§1.5)."""
        bound = self.relations_organisation_number
        if bound is not None and company.organisation_number != bound:
            raise Conflict(ANOTHER_COMPANY, {"reason": "another_company"})

    def bind_company(self, company: CompanyInformation) -> None:
        self.company_name = company.name
        self.organisation_number = company.organisation_number
        self.relations_organisation_number = company.organisation_number
        self.warehouse_module = company.warehouse_module

    def forget_company(self) -> None:
        self.relations_organisation_number = None

    def drop_tokens(self, status: ConnectionStatus, at: datetime) -> None:
        """Deletes the tokens at once (needs_reauth, disconnect, uninstall); company information stays."""
        self.access_token = None
        self.refresh_token = None
        self.access_expires_at = None
        self.refresh_expires_at = None
        self.status = status.value
        self.updated_at = at
