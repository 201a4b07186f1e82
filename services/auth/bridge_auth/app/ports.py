"""What the auth use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bridge_auth.domain.connections import CompanyInformation, Connection, IssuedTokens, Upstream
from bridge_auth.domain.sessions import DashboardSession, PendingAuthorization
from bridge_auth.domain.tenants import Tenant


class TenantRepository(Protocol):
    """The registry of every tenant (not scoped by tenant: it is where tenants come from)."""

    def get(self, tenant_id: str) -> Tenant | None: ...
    def by_store_name(self, store_name: str) -> Tenant | None: ...
    def by_authorized_app_id(self, authorized_app_id: str) -> Tenant | None: ...
    def add(self, tenant: Tenant) -> None: ...
    def installed_page(self, after_id: str, limit: int) -> list[Tenant]:
        """Installed tenants ordered by id, those after `after_id` ("" for the first page)."""
        ...

    def purges_due(self, now: datetime) -> list[Tenant]:
        """Uninstalled tenants with a personal-data or full purge due at `now`."""
        ...

    def delete(self, tenant_id: str) -> None:
        """Deletes the tenant and everything this service holds for it."""
        ...


class ConnectionRepository(Protocol):
    """Connections by tenant and upstream.

    `get(..., for_update=True)` locks the row until the unit of work ends, so one refresh per connection is in
    flight across every process and replica (PostgreSQL: SELECT ... FOR UPDATE; SQLite: its write lock, taken
    by every transaction).
    """

    def get(self, tenant_id: str, upstream: Upstream, *, for_update: bool = False) -> Connection | None: ...
    def add(self, connection: Connection) -> None: ...
    def of_tenant(self, tenant_id: str) -> list[Connection]: ...
    def refresh_candidates(self) -> list[tuple[str, str]]:
        """(tenant id, upstream) of every connected connection holding a refresh token."""
        ...


class PendingAuthorizationRepository(Protocol):
    """Single-use OAuth states by the hash of the state."""

    def add(self, pending: PendingAuthorization) -> None: ...
    def take(self, state_hash: str) -> PendingAuthorization | None:
        """Removes and returns the state (locked, so two callbacks never both take it)."""
        ...


class SessionRepository(Protocol):
    def add(self, session: DashboardSession) -> None: ...
    def get(self, token_hash: str) -> DashboardSession | None: ...
    def delete(self, token_hash: str) -> None: ...
    def delete_of_tenant(self, tenant_id: str) -> None: ...


class WebhookLog(Protocol):
    def record(self, webhook_id: str, tenant_id: str, scope: str, at: datetime) -> bool:
        """Records a delivery by its ikas id; False when it was recorded before (a repeat)."""
        ...


class AuthUnitOfWork(Protocol):
    """One transaction over the auth database; nothing is written unless `commit()` is called.

    `commit()` raises DuplicateTenant when a tenant with the same id, store name or authorizedAppId was
    stored first.
    """

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def connections(self) -> ConnectionRepository: ...
    @property
    def authorizations(self) -> PendingAuthorizationRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def webhooks(self) -> WebhookLog: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


# Unlike the catalog's and orders' factories, this one takes no tenant id: the tenant registry is where
# tenant ids come from, so it is the one store not scoped by tenant (style.md rule 7); connection and
# session lookups name the tenant explicitly.
UnitOfWorkFactory = Callable[[], AuthUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class Vault(Protocol):
    """Encrypts secrets at rest. `context` (tenant, upstream, field) is bound to the ciphertext, so a sealed
    value copied into another row does not open. `open` raises ValueError for a value no key opens."""

    def seal(self, plaintext: str, *, context: str) -> str: ...
    def open(self, sealed: str, *, context: str) -> str: ...


class TokenEndpoint(Protocol):
    """One upstream's OAuth token endpoint. `refresh` raises GrantRejected when the refresh token is dead,
    OutcomeUnknown when the answer was lost (the old token may be used up), UpstreamUnavailable otherwise."""

    def refresh(self, refresh_token: str) -> IssuedTokens: ...


class FortnoxAuthorization(TokenEndpoint, Protocol):
    """Fortnox OAuth (fortnox-api.md §1)."""

    def authorize_url(self, state: str, redirect_uri: str, scopes: Sequence[str]) -> str: ...
    def exchange_code(self, code: str, redirect_uri: str) -> IssuedTokens: ...
    def revoke(self, refresh_token: str) -> None:
        """Best effort by the caller: raises UpstreamUnavailable or UpstreamRejected when it did not happen."""
        ...


class FortnoxCompany(Protocol):
    """Reads the company behind a fresh access token (companyinformation, warehouse module)."""

    def read(self, budget_key: str, access_token: str) -> CompanyInformation: ...


@dataclass(frozen=True)
class IkasInstallation:
    """What ikas says about the store and installation behind a fresh token (getMerchant, getAuthorizedApp)."""

    merchant_id: str
    store_name: str | None
    email: str | None
    authorized_app_id: str
    scope: str


class IkasAuthorization(TokenEndpoint, Protocol):
    """ikas OAuth and the signatures ikas puts on what it sends (ikas-api.md §2.3, §3, §8); every comparison
    of secrets is constant-time."""

    def authorize_url(self, store_name: str, redirect_uri: str, scopes: Sequence[str], state: str | None) -> str: ...
    def exchange_code(self, store_name: str, code: str, redirect_uri: str) -> IssuedTokens: ...
    def is_callback_signed(self, code: str, signature: str) -> bool: ...
    def are_dashboard_parameters_signed(
        self, store_name: str, merchant_id: str, timestamp_ms: str, signature: str, now: datetime
    ) -> bool: ...
    def dashboard_claims(self, token: str, audience: str | None) -> dict[str, Any]:
        """The verified claims of an App Bridge JWT; raises Unauthenticated."""
        ...

    def is_webhook_signed(self, data: str, signature: str) -> bool: ...


class IkasStore(Protocol):
    """The store behind a fresh ikas token."""

    def installation(self, budget_key: str, access_token: str) -> IkasInstallation: ...
    def register_webhooks(self, budget_key: str, access_token: str, endpoint: str, scopes: Sequence[str]) -> None:
        """Raises UpstreamRejected or UpstreamUnavailable when ikas refuses (e.g. an http endpoint)."""
        ...


class Alerts(Protocol):
    """Tells people that a connection needs the merchant: a log line, a metric and an e-mail."""

    def needs_reauth(self, tenant: Tenant, upstream: Upstream) -> None: ...


class TenantDataPurger(Protocol):
    """Another service's data of one tenant. `scope` is "personal_data" or "all"; returns records deleted."""

    name: str

    def purge(self, tenant_id: str, scope: str) -> int: ...
