"""The Fortnox sandbox's state: companies side by side (one per connected tenant), their registers,
OAuth clients, codes and tokens. Every handler takes `state.lock` (one lock: the sandbox is small,
and correctness beats throughput here)."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge_sandboxes.common import Controls


@dataclass
class Company:
    """One Fortnox company (a tenant in Fortnox terms). Registers are JSON-shaped records keyed by number."""

    tenant_id: int  # Fortnox's TenantId / DatabaseNumber
    name: str
    organisation_number: str
    warehouse_enabled: bool = False
    address: str = ""
    zip_code: str = ""
    city: str = ""
    country_code: str = "SE"
    # "articles" -> {"A100": {...}}, "customers" -> {"1": {...}}, "orders" -> {"1": {...}}, ...
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    sequences: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # When each record last changed (sandbox clock, UTC), for `lastmodified` filters.
    modified_at: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        return self.tables[name]

    def next_number(self, name: str) -> str:
        """The next free document or register number (numbers are never reused, even after a delete)."""
        self.sequences[name] += 1
        return str(self.sequences[name])

    def save(self, name: str, key: str, record: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Stores a record and stamps its change time (what `lastmodified` compares against)."""
        self.tables[name][key] = record
        self.modified_at[(name, key)] = at
        return record

    def touch(self, name: str, key: str, at: datetime) -> None:
        self.modified_at[(name, key)] = at

    def remove(self, name: str, key: str) -> dict[str, Any] | None:
        self.modified_at.pop((name, key), None)
        return self.tables[name].pop(key, None)

    def changed_at(self, name: str, key: str) -> datetime | None:
        return self.modified_at.get((name, key))


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)  # empty: any redirect_uri is accepted


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    tenant_id: int
    scopes: list[str]
    redirect_uri: str  # exactly as sent to /oauth-v1/auth ("" when it was left out)
    expires_at: datetime
    offline: bool = True  # access_type=offline: only then does the token answer carry a refresh token


@dataclass
class AccessToken:
    token: str
    client_id: str
    tenant_id: int
    scopes: list[str]
    expires_at: datetime


@dataclass
class RefreshToken:
    token: str
    client_id: str
    tenant_id: int
    scopes: list[str]
    expires_at: datetime
    used: bool = False
    revoked: bool = False


@dataclass
class FortnoxState:
    controls: Controls
    lock: threading.RLock = field(default_factory=threading.RLock)
    companies: dict[int, Company] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    # The company the consent page grants when it is approved: set by seed data or /__admin/.
    consenting_tenant_id: int | None = None
    # Service-account consents (authorize with account_type=service): (client_id, tenant_id) -> scopes;
    # they let the client use grant_type=client_credentials with a TenantId header (fact sheet §1.4).
    service_consents: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    # What PUT /3/orders/{n}/createinvoice answers with (fact sheet §5.5 [?]): "order" (CS, WOO) or "invoice"
    # (OAS); switched by POST /__admin/createinvoice-answers so clients are tested against both.
    createinvoice_shape: str = "order"

    def clear(self) -> None:
        """Empties everything (the /__admin/reset answer); the controls are reset by the admin router."""
        with self.lock:
            self.companies.clear()
            self.clients.clear()
            self.codes.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.service_consents.clear()
            self.consenting_tenant_id = None
            self.createinvoice_shape = "order"

    def now(self) -> datetime:
        return self.controls.clock.now()
