"""Dashboard sign-in (product.md §1.2): signed query parameters, the ikas dashboard JWT, local mode's
development sign-in, and the sessions the gateway keeps in a cookie.

Every failure is Unauthenticated with a plain reason, and never says whether a tenant exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge_auth.app.ports import Clock, IkasAuthorization, UnitOfWorkFactory, Vault
from bridge_auth.app.tenants import EnsureDevelopmentTenant
from bridge_auth.domain.sessions import SESSION_LIFETIME, DashboardSession, OpenedSession, digest, new_secret
from bridge_auth.domain.tenants import Tenant
from bridge_platform.errors import PermissionDenied, Unauthenticated

NOT_SIGNED_IN = "the session is unknown or has expired; open Bridge from the ikas admin again"
BAD_PARAMETERS = "the sign-in link is not valid or has expired; open Bridge from the ikas admin again"


def csrf_context(token_hash: str) -> str:
    return f"session/{token_hash}/csrf"


class SessionOpener:
    """Opens a session for a tenant: a random token (only its hash stored), a CSRF token, 12 hours."""

    def __init__(self, uow_for: UnitOfWorkFactory, vault: Vault, clock: Clock) -> None:
        self._uow_for, self._vault, self._clock = uow_for, vault, clock

    def __call__(self, tenant: Tenant) -> OpenedSession:
        token, csrf = new_secret(), new_secret()
        token_hash = digest(token)
        now = self._clock.now()
        session = DashboardSession(
            token_hash,
            tenant.id,
            self._vault.seal(csrf, context=csrf_context(token_hash)),
            now,
            now + SESSION_LIFETIME,
        )
        with self._uow_for() as uow:
            uow.sessions.add(session)
            uow.commit()
        return OpenedSession(token, csrf, session.expires_at, tenant)


@dataclass(frozen=True)
class SignedParameters:
    store_name: str
    merchant_id: str
    authorized_app_id: str
    timestamp: str
    signature: str


class OpenSessionFromSignedParameters:
    """ikas opened the app with signed query parameters (ikas-api.md §3.2, valid 120 s). authorizedAppId is not
    signed, so it must name the installation stored for this merchant and store."""

    def __init__(
        self, uow_for: UnitOfWorkFactory, ikas: IkasAuthorization, opener: SessionOpener, clock: Clock
    ) -> None:
        self._uow_for, self._ikas, self._opener, self._clock = uow_for, ikas, opener, clock

    def __call__(self, parameters: SignedParameters) -> OpenedSession:
        if not self._ikas.are_dashboard_parameters_signed(
            parameters.store_name,
            parameters.merchant_id,
            parameters.timestamp,
            parameters.signature,
            self._clock.now(),
        ):
            raise Unauthenticated(BAD_PARAMETERS)
        with self._uow_for() as uow:
            tenant = (
                uow.tenants.by_authorized_app_id(parameters.authorized_app_id) if parameters.authorized_app_id else None
            )
        if (
            tenant is None
            or not tenant.is_installed
            or tenant.merchant_id != parameters.merchant_id
            or tenant.store_name != parameters.store_name
        ):
            raise Unauthenticated(BAD_PARAMETERS)
        return self._opener(tenant)


class ResolveDashboardToken:
    """The tenant of an ikas dashboard JWT (ikas-api.md §3.1): HS256 with the client secret, `aud` the tenant's
    authorizedAppId, `sub` its merchant id, not expired."""

    def __init__(self, uow_for: UnitOfWorkFactory, ikas: IkasAuthorization) -> None:
        self._uow_for, self._ikas = uow_for, ikas

    def __call__(self, token: str) -> Tenant:
        if not token:
            raise Unauthenticated("the ikas dashboard token is missing")
        audience = self._ikas.dashboard_claims(token, None).get("aud")  # signature, algorithm and expiry checked
        if not isinstance(audience, str) or not audience:
            raise Unauthenticated("the ikas dashboard token was issued for another installation")
        with self._uow_for() as uow:
            tenant = uow.tenants.by_authorized_app_id(audience)
        if tenant is None or not tenant.is_installed or tenant.authorized_app_id is None:
            raise Unauthenticated("the ikas dashboard token was issued for another installation")
        claims = self._ikas.dashboard_claims(token, tenant.authorized_app_id)  # and now the audience, explicitly
        if claims.get("sub") != tenant.merchant_id:
            raise Unauthenticated("the ikas dashboard token was issued for another merchant")
        return tenant


class OpenDevelopmentSession:
    """Local mode only: signs in to a sandbox store (its development tenant, created on first use)."""

    def __init__(self, ensure_tenant: EnsureDevelopmentTenant, opener: SessionOpener, *, local: bool) -> None:
        self._ensure_tenant, self._opener, self._local = ensure_tenant, opener, local

    def __call__(self, store_name: str) -> OpenedSession:
        if not self._local:
            raise PermissionDenied("development sign-in is only available in local mode")
        return self._opener(self._ensure_tenant(store_name))


@dataclass(frozen=True)
class ResolvedSession:
    tenant: Tenant
    csrf_token: str


class ResolveSession:
    """The tenant and CSRF token of a session cookie; Unauthenticated for an unknown or expired session."""

    def __init__(self, uow_for: UnitOfWorkFactory, vault: Vault, clock: Clock) -> None:
        self._uow_for, self._vault, self._clock = uow_for, vault, clock

    def __call__(self, session_token: str) -> ResolvedSession:
        if not session_token:
            raise Unauthenticated(NOT_SIGNED_IN)
        token_hash = digest(session_token)
        with self._uow_for() as uow:
            session = uow.sessions.get(token_hash)
            tenant = uow.tenants.get(session.tenant_id) if session is not None else None
        if session is None or tenant is None or not session.is_valid(self._clock.now()) or not tenant.is_installed:
            raise Unauthenticated(NOT_SIGNED_IN)
        return ResolvedSession(tenant, self._vault.open(session.csrf_token, context=csrf_context(token_hash)))


class CloseSession:
    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, session_token: str) -> None:
        if not session_token:
            return
        with self._uow_for() as uow:
            uow.sessions.delete(digest(session_token))
            uow.commit()
