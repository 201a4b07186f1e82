"""Installing Bridge in an ikas store, and the ikas webhooks auth handles (product.md §1.1, §1.6)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bridge_auth.app.connections import require_redirect_uri, revoke_fortnox_quietly
from bridge_auth.app.ports import (
    Clock,
    FortnoxAuthorization,
    IkasAuthorization,
    IkasStore,
    UnitOfWorkFactory,
    Vault,
)
from bridge_auth.app.sessions import SessionOpener
from bridge_auth.app.tokens import seal_tokens, token_context
from bridge_auth.domain.connections import IKAS_SCOPES, IKAS_WEBHOOK_SCOPES, Connection, ConnectionStatus, Upstream
from bridge_auth.domain.sessions import (
    STATE_LIFETIME,
    AuthorizationPurpose,
    OpenedSession,
    PendingAuthorization,
    digest,
    new_secret,
)
from bridge_auth.domain.tenants import Tenant, check_store_name
from bridge_platform.errors import FieldViolation, InvalidInput, Unauthenticated, UpstreamError

log = logging.getLogger(__name__)

UNINSTALL_SCOPE = "store/app/deleted"
UNKNOWN_STATE = "this install link is unknown, used or expired; install Bridge again from the ikas admin"


class BeginIkasInstall:
    """The store's ikas authorize URL with Bridge's scopes and a single-use stored state (10 minutes)."""

    def __init__(self, uow_for: UnitOfWorkFactory, ikas: IkasAuthorization, clock: Clock) -> None:
        self._uow_for, self._ikas, self._clock = uow_for, ikas, clock

    def __call__(self, store_name: str, redirect_uri: str) -> str:
        check_store_name(store_name)
        require_redirect_uri(redirect_uri)
        state = new_secret()
        now = self._clock.now()
        with self._uow_for() as uow:
            uow.authorizations.add(
                PendingAuthorization(
                    digest(state),
                    AuthorizationPurpose.IKAS_INSTALL.value,
                    redirect_uri,
                    now,
                    now + STATE_LIFETIME,
                    store_name=store_name,
                )
            )
            uow.commit()
        return self._ikas.authorize_url(store_name, redirect_uri, IKAS_SCOPES, state)


@dataclass(frozen=True)
class CompleteIkasInstallRequest:
    code: str
    store_name: str
    signature: str
    state: str | None
    redirect_uri: str


@dataclass(frozen=True)
class CompletedIkasInstall:
    session: OpenedSession
    webhook_warning: str


class CompleteIkasInstall:
    """The ikas callback: signature (constant-time), state when present, code exchange, getMerchant and
    getAuthorizedApp, the tenant keyed by authorizedAppId (a reinstall updates it), sealed tokens, webhooks,
    and a session."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        vault: Vault,
        ikas: IkasAuthorization,
        store: IkasStore,
        opener: SessionOpener,
        clock: Clock,
        *,
        webhook_endpoint: str,
    ) -> None:
        self._uow_for, self._vault, self._ikas, self._store = uow_for, vault, ikas, store
        self._opener, self._clock, self._webhook_endpoint = opener, clock, webhook_endpoint

    def __call__(self, request: CompleteIkasInstallRequest) -> CompletedIkasInstall:
        if not self._ikas.is_callback_signed(request.code, request.signature):
            raise Unauthenticated("the ikas callback's signature is not valid")
        check_store_name(request.store_name)
        redirect_uri = self._redirect_uri(request)
        tokens = self._ikas.exchange_code(request.store_name, request.code, redirect_uri)
        installation = self._store.installation(request.store_name, tokens.access_token)
        now = self._clock.now()
        with self._uow_for() as uow:
            tenant = uow.tenants.by_authorized_app_id(installation.authorized_app_id) or uow.tenants.by_store_name(
                request.store_name
            )
            if tenant is None:
                tenant = Tenant.installed(
                    request.store_name,
                    installation.merchant_id,
                    installation.authorized_app_id,
                    installation.email,
                    now,
                )
                uow.tenants.add(tenant)
            else:
                tenant.install(
                    request.store_name,
                    installation.merchant_id,
                    installation.authorized_app_id,
                    installation.email,
                    now,
                )
            connection = uow.connections.get(tenant.id, Upstream.IKAS, for_update=True)
            if connection is None:
                connection = Connection.new(tenant.id, Upstream.IKAS, now)
                uow.connections.add(connection)
            access, refresh = seal_tokens(self._vault, tenant.id, Upstream.IKAS, tokens)
            connection.connect(access, refresh, tokens, None, now)
            uow.commit()
        log.info("installed in an ikas store", extra={"tenant_id": tenant.id})
        warning = self._register_webhooks(tenant, tokens.access_token)
        with self._uow_for() as uow:
            stored = uow.connections.get(tenant.id, Upstream.IKAS, for_update=True)
            if stored is not None:
                stored.webhook_warning = warning
                uow.commit()
        return CompletedIkasInstall(self._opener(tenant), warning)

    def _redirect_uri(self, request: CompleteIkasInstallRequest) -> str:
        if request.state is None:  # an install started in the ikas admin carries no state (ikas-api.md §2.3)
            return require_redirect_uri(request.redirect_uri)
        with self._uow_for() as uow:
            pending = uow.authorizations.take(digest(request.state))
            uow.commit()
        if (
            pending is None
            or not pending.is_valid(AuthorizationPurpose.IKAS_INSTALL, self._clock.now())
            or pending.store_name != request.store_name
        ):
            raise InvalidInput(UNKNOWN_STATE, [FieldViolation("state", "unknown_state", UNKNOWN_STATE)])
        return pending.redirect_uri

    def _register_webhooks(self, tenant: Tenant, access_token: str) -> str:
        """The real ikas accepts https endpoints only: a refusal is logged and shown, polling covers the gap."""
        try:
            self._store.register_webhooks(tenant.id, access_token, self._webhook_endpoint, IKAS_WEBHOOK_SCOPES)
        except UpstreamError as error:
            log.warning(
                "ikas refused the webhook registration",
                extra={"tenant_id": tenant.id, "error": type(error).__name__, "detail": error.detail},
            )
            return (
                f"ikas did not accept the webhook address {self._webhook_endpoint} ({error.detail or 'refused'}); "
                "orders and stock are picked up by the scheduled sync instead"
            )
        return ""


class WebhookOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class HandledWebhook:
    outcome: WebhookOutcome
    tenant_id: str = ""
    scope: str = ""
    entity_id: str = ""  # the `id` of the object in `data`, for the owning service to re-read


def _entity_id(data: str) -> str:
    """The id of the entity a delivery is about; "" when `data` holds no object with a string id."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return ""
    entity_id = parsed.get("id") if isinstance(parsed, dict) else None
    return entity_id if isinstance(entity_id, str) else ""


def _field(payload: dict[str, object], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("the webhook is malformed", [FieldViolation(name, "required", "must be a non-empty string")])
    return value


class HandleIkasWebhook:
    """An ikas webhook (ikas-api.md §8): the signature is the hex HMAC-SHA256 of the raw `data` string with the
    client secret; deliveries are deduplicated by id. store/app/deleted uninstalls here: tokens deleted at
    once, personal data purged within 24 h, the rest after the retention period. Other scopes are ACCEPTED for
    the owning service."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        vault: Vault,
        ikas: IkasAuthorization,
        fortnox: FortnoxAuthorization,
        clock: Clock,
        *,
        retention: timedelta,
    ) -> None:
        self._uow_for, self._vault, self._ikas, self._fortnox = uow_for, vault, ikas, fortnox
        self._clock, self._retention = clock, retention

    def __call__(self, body: bytes) -> HandledWebhook:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("the webhook body is not JSON") from None
        if not isinstance(payload, dict):
            raise InvalidInput("the webhook body is not a JSON object")
        data, signature = payload.get("data"), payload.get("signature")
        if (
            not isinstance(data, str)
            or not isinstance(signature, str)
            or not self._ikas.is_webhook_signed(data, signature)
        ):
            raise Unauthenticated("the webhook's signature is not valid")
        webhook_id, scope = _field(payload, "id"), _field(payload, "scope")
        authorized_app_id, merchant_id = _field(payload, "authorizedAppId"), _field(payload, "merchantId")
        now = self._clock.now()
        fortnox_refresh: str | None = None
        with self._uow_for() as uow:
            tenant = uow.tenants.by_authorized_app_id(authorized_app_id)
            if tenant is None or tenant.merchant_id != merchant_id:
                return HandledWebhook(WebhookOutcome.IGNORED, scope=scope)
            if not uow.webhooks.record(webhook_id, tenant.id, scope, now):
                uow.commit()
                return HandledWebhook(WebhookOutcome.DUPLICATE, tenant.id, scope)
            if scope != UNINSTALL_SCOPE:
                uow.commit()
                outcome = WebhookOutcome.ACCEPTED if tenant.is_installed else WebhookOutcome.IGNORED
                return HandledWebhook(outcome, tenant.id, scope, _entity_id(data))
            for connection in uow.connections.of_tenant(tenant.id):
                if connection.upstream == Upstream.FORTNOX and connection.refresh_token is not None:
                    context = token_context(tenant.id, Upstream.FORTNOX, "refresh")
                    fortnox_refresh = self._vault.open(connection.refresh_token, context=context)
                connection.drop_tokens(ConnectionStatus.DISCONNECTED, now)
            tenant.uninstall(now, self._retention)
            uow.sessions.delete_of_tenant(tenant.id)
            uow.commit()
        log.info("uninstalled from an ikas store; purges scheduled", extra={"tenant_id": tenant.id})
        if fortnox_refresh is not None:  # nothing may use Bridge's Fortnox consent any more
            revoke_fortnox_quietly(self._fortnox, fortnox_refresh, tenant.id)
        return HandledWebhook(WebhookOutcome.ACCEPTED, tenant.id, scope)
