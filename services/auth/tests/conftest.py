"""Fakes and settings for the auth service's tests: small classes with behaviour, not mocks.

The fake database keeps committed state; a unit of work hands out copies and writes back what it read or
added only on `commit()`, so "nothing changed" can be asserted as with a real database.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from bridge_auth.adapters.vault import AesGcmVault
from bridge_auth.app.ports import IkasInstallation
from bridge_auth.bootstrap import Services, build
from bridge_auth.domain.connections import CompanyInformation, Connection, GrantRejected, IssuedTokens, Upstream
from bridge_auth.domain.sessions import DashboardSession, PendingAuthorization
from bridge_auth.domain.tenants import DuplicateTenant, Tenant
from bridge_platform.errors import UpstreamRejected
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_upstreams.ikas.oauth import decode_dashboard_jwt, verify_dashboard_parameters

IKAS_SECRET = "ikas-secret-for-tests"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeTenantRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow
        self.pending: list[Tenant] = []

    def _all(self) -> list[Tenant]:
        return [*(self._uow.seen_tenant(t) for t in self._uow.database.tenants.values()), *self.pending]

    def get(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self._all() if t.id == tenant_id), None)

    def by_store_name(self, store_name: str) -> Tenant | None:
        return next((t for t in self._all() if t.store_name == store_name), None)

    def by_authorized_app_id(self, authorized_app_id: str) -> Tenant | None:
        return next((t for t in self._all() if t.authorized_app_id == authorized_app_id), None)

    def add(self, tenant: Tenant) -> None:
        self.pending.append(tenant)

    def installed_page(self, after_id: str, limit: int) -> list[Tenant]:
        found = sorted((t for t in self._all() if t.is_installed and t.id > after_id), key=lambda t: t.id)
        return found[:limit]

    def purges_due(self, now: datetime) -> list[Tenant]:
        return [t for t in self._all() if t.is_purge_due(now) or t.is_personal_data_purge_due(now)]

    def delete(self, tenant_id: str) -> None:
        self._uow.deleted_tenants.add(tenant_id)


class FakeConnectionRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def get(self, tenant_id: str, upstream: Upstream, *, for_update: bool = False) -> Connection | None:
        key = (tenant_id, upstream.value)
        if key in self._uow.connection_rows:
            return self._uow.connection_rows[key]
        stored = self._uow.database.connections.get(key)
        if stored is None:
            return None
        self._uow.connection_rows[key] = copy.deepcopy(stored)
        return self._uow.connection_rows[key]

    def add(self, connection: Connection) -> None:
        self._uow.connection_rows[(connection.tenant_id, connection.upstream)] = connection

    def of_tenant(self, tenant_id: str) -> list[Connection]:
        found = [self.get(tenant_id, upstream) for upstream in Upstream]
        return [c for c in found if c is not None]

    def refresh_candidates(self) -> list[tuple[str, str]]:
        return sorted(
            key for key, c in self._uow.database.connections.items() if c.status == "connected" and c.refresh_token
        )


class FakeAuthorizations:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, pending: PendingAuthorization) -> None:
        self._uow.added_authorizations.append(pending)

    def take(self, state_hash: str) -> PendingAuthorization | None:
        pending = self._uow.database.authorizations.get(state_hash)
        if pending is not None:
            self._uow.taken_authorizations.add(state_hash)
        return pending


class FakeSessions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, session: DashboardSession) -> None:
        self._uow.added_sessions.append(session)

    def get(self, token_hash: str) -> DashboardSession | None:
        return self._uow.database.sessions.get(token_hash)

    def delete(self, token_hash: str) -> None:
        self._uow.deleted_sessions.add(token_hash)

    def delete_of_tenant(self, tenant_id: str) -> None:
        self._uow.deleted_sessions.update(h for h, s in self._uow.database.sessions.items() if s.tenant_id == tenant_id)


class FakeWebhookLog:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def record(self, webhook_id: str, tenant_id: str, scope: str, at: datetime) -> bool:
        if webhook_id in self._uow.database.webhooks or webhook_id in self._uow.webhook_ids:
            return False
        self._uow.webhook_ids.add(webhook_id)
        return True


class FakeUnitOfWork:
    """Writes back on commit what it read or added, holding the unique keys of the real tenants table."""

    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self._seen: dict[str, Tenant] = {}
        self.connection_rows: dict[tuple[str, str], Connection] = {}
        self.added_authorizations: list[PendingAuthorization] = []
        self.taken_authorizations: set[str] = set()
        self.added_sessions: list[DashboardSession] = []
        self.deleted_sessions: set[str] = set()
        self.deleted_tenants: set[str] = set()
        self.webhook_ids: set[str] = set()
        self.tenants = FakeTenantRepository(self)
        self.authorizations = FakeAuthorizations(self)
        self.sessions = FakeSessions(self)
        self.webhooks = FakeWebhookLog(self)
        self.connections = FakeConnectionRepository(self)

    def seen_tenant(self, stored: Tenant) -> Tenant:
        if stored.id not in self._seen:
            self._seen[stored.id] = copy.deepcopy(stored)
        return self._seen[stored.id]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, _t: type[BaseException] | None, _v: BaseException | None, _tb: TracebackType | None) -> None:
        self.tenants.pending.clear()  # what was not committed is rolled back

    def commit(self) -> None:
        db = self.database
        if db.before_commit is not None:
            db.before_commit()
        stored = db.tenants.values()
        for tenant in self.tenants.pending:
            if any(
                t.id == tenant.id
                or t.store_name == tenant.store_name
                or (tenant.authorized_app_id and t.authorized_app_id == tenant.authorized_app_id)
                for t in stored
            ):
                raise DuplicateTenant("a tenant with this id, store name or installation exists already")
        for tenant in [*self._seen.values(), *self.tenants.pending]:
            db.tenants[tenant.id] = tenant
        for key, connection in self.connection_rows.items():
            db.connections[key] = copy.deepcopy(connection)
        for pending in self.added_authorizations:
            db.authorizations[pending.state_hash] = pending
        for state_hash in self.taken_authorizations:
            db.authorizations.pop(state_hash, None)
        for session in self.added_sessions:
            db.sessions[session.token_hash] = session
        for token_hash in self.deleted_sessions:
            db.sessions.pop(token_hash, None)
        db.webhooks.update(self.webhook_ids)
        for tenant_id in self.deleted_tenants:
            db.tenants.pop(tenant_id, None)
            for key in [k for k in db.connections if k[0] == tenant_id]:
                del db.connections[key]
        self.tenants.pending.clear()
        db.commits += 1


class FakeDatabase:
    """The committed state; `before_commit` lets a test play a concurrent writer."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.connections: dict[tuple[str, str], Connection] = {}
        self.authorizations: dict[str, PendingAuthorization] = {}
        self.sessions: dict[str, DashboardSession] = {}
        self.webhooks: set[str] = set()
        self.commits = 0
        self.before_commit: Callable[[], None] | None = None

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class FakeFortnox:
    """Fortnox OAuth: codes become tokens; refresh tokens are single use like the real ones."""

    clock: FixedClock
    issued: int = 0
    refreshes: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    live_refresh_tokens: set[str] = field(default_factory=set)
    authorize_calls: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def _issue(self) -> IssuedTokens:
        self.issued += 1
        refresh = f"fortnox-refresh-{self.issued}"
        self.live_refresh_tokens.add(refresh)
        return IssuedTokens(
            f"fortnox-access-{self.issued}", refresh, self.clock.now() + timedelta(hours=1), ("article",)
        )

    def authorize_url(self, state: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        self.authorize_calls.append((state, redirect_uri, tuple(scopes)))
        return f"https://fortnox.example/oauth-v1/auth?state={state}"

    def exchange_code(self, code: str, redirect_uri: str) -> IssuedTokens:
        if code == "bad":
            raise UpstreamRejected("fortnox", "invalid code")
        return self._issue()

    def refresh(self, refresh_token: str) -> IssuedTokens:
        self.refreshes.append(refresh_token)
        if refresh_token not in self.live_refresh_tokens:
            raise GrantRejected("fortnox", "Invalid refresh token", status=400, upstream_code="invalid_grant")
        self.live_refresh_tokens.discard(refresh_token)
        return self._issue()

    def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)
        self.live_refresh_tokens.discard(refresh_token)


@dataclass
class FakeFortnoxCompany:
    company: CompanyInformation = field(default_factory=lambda: CompanyInformation("Demo AB", "556677-8899", False))

    def read(self, budget_key: str, access_token: str) -> CompanyInformation:
        return self.company


def sign(message: str, secret: str = IKAS_SECRET) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeIkas:
    """ikas OAuth with the real signature checks of bridge_upstreams (pure functions) and the test secret."""

    clock: FixedClock
    issued: int = 0

    def authorize_url(self, store_name: str, redirect_uri: str, scopes: Sequence[str], state: str | None) -> str:
        return f"https://{store_name}.ikas.example/authorize?state={state}&scope={','.join(scopes)}"

    def exchange_code(self, store_name: str, code: str, redirect_uri: str) -> IssuedTokens:
        self.issued += 1
        return IssuedTokens(
            f"ikas-access-{self.issued}", f"ikas-refresh-{self.issued}", self.clock.now() + timedelta(hours=4), ()
        )

    def refresh(self, refresh_token: str) -> IssuedTokens:
        return self.exchange_code("", "", "")

    def is_callback_signed(self, code: str, signature: str) -> bool:
        return hmac.compare_digest(sign(code).encode(), signature.encode())

    def are_dashboard_parameters_signed(
        self, store_name: str, merchant_id: str, timestamp_ms: str, signature: str, now: datetime
    ) -> bool:
        return verify_dashboard_parameters(store_name, merchant_id, timestamp_ms, signature, IKAS_SECRET, now)

    def dashboard_claims(self, token: str, audience: str | None) -> dict[str, Any]:
        return decode_dashboard_jwt(token, IKAS_SECRET, audience)

    def is_webhook_signed(self, data: str, signature: str) -> bool:
        return hmac.compare_digest(sign(data).encode(), signature.encode())


@dataclass
class FakeIkasStore:
    installation_by_store: dict[str, IkasInstallation] = field(default_factory=dict)
    refuse_webhooks: bool = False
    registered: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def installation(self, budget_key: str, access_token: str) -> IkasInstallation:
        return self.installation_by_store.get(
            budget_key,
            IkasInstallation(
                f"merchant-{budget_key}", budget_key, f"owner@{budget_key}.example", f"app-{budget_key}", ""
            ),
        )

    def register_webhooks(self, budget_key: str, access_token: str, endpoint: str, scopes: Sequence[str]) -> None:
        if self.refuse_webhooks:
            raise UpstreamRejected("ikas", "the endpoint must be https")
        self.registered.append((budget_key, endpoint, tuple(scopes)))


@dataclass
class FakeAlerts:
    raised: list[tuple[str, str]] = field(default_factory=list)

    def needs_reauth(self, tenant: Tenant, upstream: Upstream) -> None:
        self.raised.append((tenant.id, upstream.value))


@dataclass
class FakePurger:
    name: str
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    def purge(self, tenant_id: str, scope: str) -> int:
        from bridge_platform.errors import UpstreamUnavailable

        if tenant_id in self.fail_for:
            raise UpstreamUnavailable("service", "down")
        self.calls.append((tenant_id, scope))
        return 1


@dataclass
class Fakes:
    database: FakeDatabase
    clock: FixedClock
    vault: AesGcmVault
    fortnox: FakeFortnox
    company: FakeFortnoxCompany
    ikas: FakeIkas
    ikas_store: FakeIkasStore
    alerts: FakeAlerts
    purgers: list[FakePurger]


def build_with(settings: BridgeSettings, fakes: Fakes) -> Services:
    return build(
        settings,
        uow_for=fakes.database.unit_of_work,
        clock=fakes.clock,
        vault=fakes.vault,
        fortnox=fakes.fortnox,
        fortnox_company=fakes.company,
        ikas=fakes.ikas,
        ikas_store=fakes.ikas_store,
        alerts=fakes.alerts,
        purgers=fakes.purgers,
    )


@pytest.fixture
def local_settings(tmp_path: Path) -> BridgeSettings:
    """Local mode, everything under tmp_path (the auth database is a SQLite file there)."""
    return load_settings(mode=Mode.LOCAL, data_dir=tmp_path, auth_database_url=f"sqlite:///{tmp_path / 'auth.db'}")


@pytest.fixture
def production_settings(tmp_path: Path) -> BridgeSettings:
    """Production mode with every required variable set; the auth database is a SQLite file in tmp_path."""
    return load_settings(
        mode=Mode.PRODUCTION,
        data_dir=tmp_path,
        auth_database_url=f"sqlite:///{tmp_path / 'auth.db'}",
        catalog_database_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        orders_database_url=f"sqlite:///{tmp_path / 'orders.db'}",
        public_url="https://bridge.example",
        service_token="service-token-for-tests",
        vault_key=base64.b64encode(bytes(32)).decode(),
    )


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def fakes(database: FakeDatabase, clock: FixedClock) -> Fakes:
    return Fakes(
        database,
        clock,
        AesGcmVault([bytes(range(32))]),
        FakeFortnox(clock),
        FakeFortnoxCompany(),
        FakeIkas(clock),
        FakeIkasStore(),
        FakeAlerts(),
        [FakePurger("catalog"), FakePurger("orders")],
    )


@pytest.fixture
def services(local_settings: BridgeSettings, fakes: Fakes) -> Services:
    return build_with(local_settings, fakes)


@pytest.fixture
def production_services(production_settings: BridgeSettings, fakes: Fakes) -> Services:
    return build_with(production_settings, fakes)


@pytest.fixture
def stored_tenants(database: FakeDatabase) -> dict[str, Tenant]:
    """The committed tenants by id."""
    return database.tenants


@pytest.fixture
def commits_first(database: FakeDatabase) -> Callable[[Tenant], None]:
    """Plays a concurrent caller: the tenant handed in is committed just before the next commit."""

    def arrange(tenant: Tenant) -> None:
        def write() -> None:
            database.tenants[tenant.id] = tenant
            database.before_commit = None

        database.before_commit = write

    return arrange
