"""Connecting Fortnox, disconnecting it, and the connection card (product.md §1.3, §1.5, §1.7)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bridge_auth.app.ports import Clock, FortnoxAuthorization, FortnoxCompany, UnitOfWorkFactory, Vault
from bridge_auth.app.tenants import installed_tenant
from bridge_auth.app.tokens import refresh_token_expiry, seal_tokens, token_context
from bridge_auth.domain.connections import FORTNOX_SCOPES, Connection, ConnectionStatus, Upstream
from bridge_auth.domain.sessions import (
    STATE_LIFETIME,
    AuthorizationPurpose,
    PendingAuthorization,
    digest,
    new_secret,
)
from bridge_auth.domain.tenants import Tenant
from bridge_platform.errors import Conflict, DomainError, FieldViolation, InvalidInput

log = logging.getLogger(__name__)

UNKNOWN_STATE = "this Fortnox authorization link is unknown, used or expired; start connecting again"


def require_redirect_uri(redirect_uri: str) -> str:
    if not redirect_uri.startswith(("https://", "http://")):
        raise InvalidInput(
            "redirect_uri is required",
            [FieldViolation("redirect_uri", "invalid_redirect_uri", "must be an http(s) URL")],
        )
    return redirect_uri


@dataclass(frozen=True)
class ConnectionCard:
    """The §1.7 document."""

    tenant: Tenant
    ikas: Connection | None
    fortnox: Connection | None


class GetConnection:
    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str) -> ConnectionCard:
        with self._uow_for() as uow:
            tenant = installed_tenant(uow, tenant_id)
            ikas = uow.connections.get(tenant_id, Upstream.IKAS)
            fortnox = uow.connections.get(tenant_id, Upstream.FORTNOX)
        return ConnectionCard(tenant, ikas, fortnox)


class BeginFortnoxConnect:
    """The Fortnox authorize URL with a single-use state bound to the tenant (10 minutes)."""

    def __init__(self, uow_for: UnitOfWorkFactory, fortnox: FortnoxAuthorization, clock: Clock) -> None:
        self._uow_for, self._fortnox, self._clock = uow_for, fortnox, clock

    def __call__(self, tenant_id: str, redirect_uri: str) -> str:
        require_redirect_uri(redirect_uri)
        state = new_secret()
        now = self._clock.now()
        with self._uow_for() as uow:
            installed_tenant(uow, tenant_id)
            uow.authorizations.add(
                PendingAuthorization(
                    digest(state),
                    AuthorizationPurpose.FORTNOX_CONNECT.value,
                    redirect_uri,
                    now,
                    now + STATE_LIFETIME,
                    tenant_id=tenant_id,
                )
            )
            uow.commit()
        return self._fortnox.authorize_url(state, redirect_uri, FORTNOX_SCOPES)


@dataclass(frozen=True)
class CompleteFortnoxConnectRequest:
    state: str
    code: str
    error: str
    redirect_uri: str = ""


@dataclass(frozen=True)
class CompletedFortnoxConnect:
    tenant_id: str
    fortnox: Connection


class CompleteFortnoxConnect:
    """The Fortnox callback: takes the state (single use), exchanges the code, reads the company, stores the
    sealed tokens. A declined consent, a bad state or another company than the relations' changes nothing."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        vault: Vault,
        fortnox: FortnoxAuthorization,
        company: FortnoxCompany,
        clock: Clock,
    ) -> None:
        self._uow_for, self._vault, self._fortnox = uow_for, vault, fortnox
        self._company, self._clock = company, clock

    def __call__(self, request: CompleteFortnoxConnectRequest) -> CompletedFortnoxConnect:
        if not request.state:
            raise InvalidInput(UNKNOWN_STATE, [FieldViolation("state", "unknown_state", UNKNOWN_STATE)])
        with self._uow_for() as uow:
            pending = uow.authorizations.take(digest(request.state))
            uow.commit()
        now = self._clock.now()
        if pending is None or not pending.is_valid(AuthorizationPurpose.FORTNOX_CONNECT, now):
            raise InvalidInput(UNKNOWN_STATE, [FieldViolation("state", "unknown_state", UNKNOWN_STATE)])
        assert pending.tenant_id is not None
        tenant_id = pending.tenant_id
        if request.error:
            reason = "access_denied" if request.error == "access_denied" else "authorization_failed"
            raise Conflict(
                "Fortnox was not connected: the authorization was declined"
                if reason == "access_denied"
                else f"Fortnox was not connected: Fortnox answered {request.error}",
                {"reason": reason},
            )
        if not request.code:
            raise InvalidInput("code is required", [FieldViolation("code", "required", "Fortnox sent no code")])
        tokens = self._fortnox.exchange_code(request.code, pending.redirect_uri)
        company = self._company.read(tenant_id, tokens.access_token)
        with self._uow_for() as uow:
            installed_tenant(uow, tenant_id)
            connection = uow.connections.get(tenant_id, Upstream.FORTNOX, for_update=True)
            if connection is None:
                connection = Connection.new(tenant_id, Upstream.FORTNOX, now)
                uow.connections.add(connection)
            try:
                connection.check_company(company)
            except Conflict:
                if tokens.refresh_token is not None:  # leave no consent behind at Fortnox
                    revoke_fortnox_quietly(self._fortnox, tokens.refresh_token, tenant_id)
                raise
            access, refresh = seal_tokens(self._vault, tenant_id, Upstream.FORTNOX, tokens)
            connection.connect(access, refresh, tokens, refresh_token_expiry(Upstream.FORTNOX, tokens, now), now)
            connection.bind_company(company)
            uow.commit()
        log.info("connected Fortnox", extra={"tenant_id": tenant_id})
        return CompletedFortnoxConnect(tenant_id, connection)


class DisconnectFortnox:
    """Revokes the refresh token at Fortnox (best effort, logged), deletes the tokens, keeps everything else."""

    def __init__(self, uow_for: UnitOfWorkFactory, vault: Vault, fortnox: FortnoxAuthorization, clock: Clock) -> None:
        self._uow_for, self._vault, self._fortnox, self._clock = uow_for, vault, fortnox, clock

    def __call__(self, tenant_id: str) -> None:
        with self._uow_for() as uow:
            installed_tenant(uow, tenant_id)
            connection = uow.connections.get(tenant_id, Upstream.FORTNOX, for_update=True)
            if connection is None:
                return
            if connection.refresh_token is not None:
                context = token_context(tenant_id, Upstream.FORTNOX, "refresh")
                revoke_fortnox_quietly(
                    self._fortnox, self._vault.open(connection.refresh_token, context=context), tenant_id
                )
            connection.drop_tokens(ConnectionStatus.DISCONNECTED, self._clock.now())
            uow.commit()
        log.info("disconnected Fortnox", extra={"tenant_id": tenant_id})


def revoke_fortnox_quietly(fortnox: FortnoxAuthorization, refresh_token: str, tenant_id: str) -> None:
    try:
        fortnox.revoke(refresh_token)
    except DomainError as error:
        log.warning(
            "could not revoke the Fortnox refresh token; it is deleted here anyway",
            extra={"tenant_id": tenant_id, "error": type(error).__name__},
        )


class ForgetFortnoxCompany:
    """The product relations were reset: a different Fortnox company may be connected from now on."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str) -> None:
        with self._uow_for() as uow:
            installed_tenant(uow, tenant_id)
            connection = uow.connections.get(tenant_id, Upstream.FORTNOX, for_update=True)
            if connection is not None:
                connection.forget_company()
                uow.commit()
