"""The token vault's use cases (product.md §1.4): access tokens for the other services, refreshed ahead of
expiry, once.

A Fortnox refresh token is single use (fortnox-api.md §1.5): two processes refreshing at once would kill the
connection. Every refresh therefore happens while the connection's row is locked, and re-reads the row after
the lock is taken: whoever waited gets the token the first refresher stored, and never sends the used
refresh token again. The lock is held across the HTTP call on purpose; the call is one short request.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bridge_auth.app.ports import Alerts, Clock, TokenEndpoint, UnitOfWorkFactory, Vault
from bridge_auth.domain.connections import (
    FORTNOX_REFRESH_TOKEN_LIFETIME,
    Connection,
    ConnectionStatus,
    GrantRejected,
    IssuedTokens,
    Upstream,
    disconnected,
    needs_reauth,
)
from bridge_auth.domain.tenants import Tenant
from bridge_platform.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)


def token_context(tenant_id: str, upstream: Upstream | str, field: str) -> str:
    """What a sealed token is bound to: the tenant, the upstream and which token it is."""
    return f"{tenant_id}/{upstream}/{field}"


def require_ids(tenant_id: str, upstream: Upstream | None) -> Upstream:
    if not tenant_id.strip():
        raise InvalidInput("tenant_id is required")
    if upstream is None:
        raise InvalidInput("upstream is required")
    return upstream


def refresh_token_expiry(upstream: Upstream, tokens: IssuedTokens, now: datetime) -> datetime | None:
    """When a new refresh token dies: 45 days for Fortnox (§1.5); ikas does not say (ikas-api.md §2.2)."""
    if tokens.refresh_token is None or upstream is not Upstream.FORTNOX:
        return None
    return now + FORTNOX_REFRESH_TOKEN_LIFETIME


def seal_tokens(vault: Vault, tenant_id: str, upstream: Upstream, tokens: IssuedTokens) -> tuple[str, str | None]:
    access = vault.seal(tokens.access_token, context=token_context(tenant_id, upstream, "access"))
    refresh = (
        vault.seal(tokens.refresh_token, context=token_context(tenant_id, upstream, "refresh"))
        if tokens.refresh_token is not None
        else None
    )
    return access, refresh


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at.isoformat()})"


class TokenKeeper:
    """Reads, refreshes and stores one tenant's tokens; the single-flight refresh of the module docstring."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        vault: Vault,
        endpoints: Mapping[Upstream, TokenEndpoint],
        alerts: Alerts,
        clock: Clock,
    ) -> None:
        self._uow_for, self._vault, self._endpoints = uow_for, vault, endpoints
        self._alerts, self._clock = alerts, clock

    def current(self, connection: Connection) -> AccessToken:
        connection.require_usable()
        assert connection.access_token is not None
        assert connection.access_expires_at is not None
        context = token_context(connection.tenant_id, connection.upstream, "access")
        return AccessToken(self._vault.open(connection.access_token, context=context), connection.access_expires_at)

    def read(self, tenant_id: str, upstream: Upstream) -> Connection:
        with self._uow_for() as uow:
            connection = uow.connections.get(tenant_id, upstream)
        if connection is None:
            raise disconnected(upstream)
        return connection

    def refresh(
        self, tenant_id: str, upstream: Upstream, still_needed: Callable[[Connection], bool]
    ) -> tuple[Connection, bool]:
        """Refreshes under the row lock if `still_needed` holds for the row as it is once locked.

        Returns the connection and whether this call refreshed it. A dead refresh token marks the connection
        needs_reauth (tokens deleted, alert raised) and raises the needs_reauth Conflict.
        """
        rejected_tenant: Tenant | None = None
        with self._uow_for() as uow:
            connection = uow.connections.get(tenant_id, upstream, for_update=True)
            if connection is None:
                raise disconnected(upstream)
            if not still_needed(connection):
                return connection, False  # another caller refreshed while we waited for the lock
            connection.require_usable()
            now = self._clock.now()
            if connection.refresh_token is None:
                connection.drop_tokens(ConnectionStatus.NEEDS_REAUTH, now)
                rejected_tenant = uow.tenants.get(tenant_id)
                uow.commit()
            else:
                context = token_context(tenant_id, upstream, "refresh")
                refresh_token = self._vault.open(connection.refresh_token, context=context)
                try:
                    tokens = self._endpoints[upstream].refresh(refresh_token)
                except GrantRejected:
                    connection.drop_tokens(ConnectionStatus.NEEDS_REAUTH, now)
                    rejected_tenant = uow.tenants.get(tenant_id)
                    uow.commit()
                else:
                    access, refresh = seal_tokens(self._vault, tenant_id, upstream, tokens)
                    connection.store_tokens(access, refresh, tokens, refresh_token_expiry(upstream, tokens, now))
                    connection.updated_at = now
                    uow.commit()
                    log.info("refreshed a connection's tokens", extra={"tenant_id": tenant_id, "upstream": upstream})
                    return connection, True
        if rejected_tenant is not None:
            self._alerts.needs_reauth(rejected_tenant, upstream)
        raise needs_reauth(upstream)


class GetAccessToken:
    """A valid access token for the tenant's connection, refreshed when it expires within the margin.

    Conflict with details {"reason": "needs_reauth" | "disconnected"} when there is none; callers pause the
    tenant's work and keep it.
    """

    def __init__(self, keeper: TokenKeeper, clock: Clock) -> None:
        self._keeper, self._clock = keeper, clock

    def __call__(self, tenant_id: str, upstream: Upstream | None) -> AccessToken:
        upstream = require_ids(tenant_id, upstream)
        connection = self._keeper.read(tenant_id, upstream)
        connection.require_usable()
        if connection.is_fresh(self._clock.now()):
            return self._keeper.current(connection)
        connection, _ = self._keeper.refresh(tenant_id, upstream, lambda row: not row.is_fresh(self._clock.now()))
        return self._keeper.current(connection)


class ReportRejectedToken:
    """The upstream answered 401 to `token`: refresh, but only if it is still the current token (a token that
    was replaced meanwhile is not refreshed again)."""

    def __init__(self, keeper: TokenKeeper, vault: Vault) -> None:
        self._keeper, self._vault = keeper, vault

    def __call__(self, tenant_id: str, upstream: Upstream | None, token: str) -> None:
        upstream = require_ids(tenant_id, upstream)
        if not token:
            raise InvalidInput("access_token is required")

        def is_current(row: Connection) -> bool:
            if row.access_token is None or row.status != ConnectionStatus.CONNECTED:
                return False
            stored = self._vault.open(row.access_token, context=token_context(tenant_id, upstream, "access"))
            return hmac.compare_digest(stored.encode(), token.encode())

        self._keeper.refresh(tenant_id, upstream, is_current)


@dataclass(frozen=True)
class RefreshDueTokensResult:
    refreshed: int
    failed: int


class RefreshDueTokens:
    """The scheduled refresh: connections whose refresh token ends within 7 days (Fortnox: 45-day lifetime) or
    whose access token expired while idle. One tenant's failure never stops the others."""

    def __init__(self, uow_for: UnitOfWorkFactory, keeper: TokenKeeper, clock: Clock) -> None:
        self._uow_for, self._keeper, self._clock = uow_for, keeper, clock

    def __call__(self) -> RefreshDueTokensResult:
        with self._uow_for() as uow:
            candidates = uow.connections.refresh_candidates()
        refreshed = failed = 0
        for tenant_id, upstream_name in candidates:
            upstream = Upstream(upstream_name)
            try:
                _, did = self._keeper.refresh(tenant_id, upstream, lambda row: row.is_refresh_due(self._clock.now()))
            except DomainError as error:
                failed += 1
                log.warning(
                    "scheduled token refresh failed",
                    extra={"tenant_id": tenant_id, "upstream": upstream_name, "error": type(error).__name__},
                )
                continue
            refreshed += int(did)
        return RefreshDueTokensResult(refreshed, failed)
