"""Dashboard sessions (product.md §1.2) and the single-use states of the OAuth flows (§1.1, §1.3).

A session token and an OAuth state are random secrets handed to the browser; only their SHA-256 hash is
stored, so a copy of the database opens no session and completes no authorization.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bridge_auth.domain.tenants import Tenant

SESSION_LIFETIME: Final = timedelta(hours=12)
STATE_LIFETIME: Final = timedelta(minutes=10)


def new_secret() -> str:
    """32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The stored form of a session token or OAuth state."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass
class DashboardSession:
    """A signed-in dashboard; `csrf_token` is vault-sealed (the gateway needs it back to compare)."""

    token_hash: str
    tenant_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def is_valid(self, now: datetime) -> bool:
        return now < self.expires_at


class AuthorizationPurpose(StrEnum):
    IKAS_INSTALL = "ikas_install"
    FORTNOX_CONNECT = "fortnox_connect"


@dataclass
class PendingAuthorization:
    """A single-use OAuth state: bound to the tenant (Fortnox) or the store (ikas), 10 minutes."""

    state_hash: str
    purpose: str
    redirect_uri: str
    created_at: datetime
    expires_at: datetime
    tenant_id: str | None = None
    store_name: str | None = None

    def is_valid(self, purpose: AuthorizationPurpose, now: datetime) -> bool:
        return self.purpose == purpose.value and now < self.expires_at


@dataclass(frozen=True)
class OpenedSession:
    """What a sign-in hands the gateway: the only time the session token is seen in plain text."""

    session_token: str
    csrf_token: str
    expires_at: datetime
    tenant: Tenant
