"""The ikas sandbox's in-memory state: stores, installed apps, OAuth codes and tokens, webhook deliveries.

Records are kept in the shape of the v1 GraphQL output types (plain dicts, camelCase keys) so resolvers can
hand them to graphql-core; money and quantities are `Decimal` (serialised as GraphQL Float), timestamps are
integers of milliseconds since the epoch from the sandbox clock.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge_sandboxes.common import SandboxClock

Record = dict[str, Any]

ACCESS_TOKEN_TTL_S = 14_400  # fact sheet §2.2
AUTH_CODE_TTL_S = 600  # [?] not documented; 10 minutes
DEFAULT_SCOPE = "read_products,write_products,read_inventories,write_inventories,read_orders,write_orders"
ALL_SCOPES = (
    "read_products,write_products,read_orders,write_orders,read_customers,write_customers,"
    "read_campaigns,write_campaigns,read_inventories,write_inventories"
)


def new_id() -> str:
    return str(uuid.uuid4())


def to_decimal(value: Any) -> Decimal | None:
    """A GraphQL Float input (a Python float) as the decimal a person typed, e.g. 0.1 -> Decimal('0.1')."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@dataclass
class Installation:
    """One app (client id) installed in one store; `authorized_app_id` is ikas's AuthorizedApp.id."""

    client_id: str
    client_secret: str
    store: str
    authorized_app_id: str
    store_app_id: str
    partner_id: str
    name: str = "Bridge"
    scope: str = DEFAULT_SCOPE  # the scope granted at the last authorization
    added_date: int = 0


@dataclass
class Grant:
    """What an access or refresh token stands for."""

    store: str
    client_id: str
    scope: str
    expires_at_ms: int | None  # None: no expiry (refresh tokens) [?] lifetime undocumented


@dataclass
class AuthCode:
    store: str
    client_id: str
    redirect_uri: str
    scope: str
    expires_at_ms: int


@dataclass
class Store:
    """One ikas store (merchant) with everything the Admin API shows about it."""

    name: str
    merchant_id: str
    merchant: Record
    sales_channel_id: str
    currency_code: str = "SEK"
    price_lists: dict[str, Record] = field(default_factory=dict)
    sales_channels: dict[str, Record] = field(default_factory=dict)
    stock_locations: dict[str, Record] = field(default_factory=dict)
    tags: dict[str, Record] = field(default_factory=dict)
    variant_types: dict[str, Record] = field(default_factory=dict)
    product_attributes: dict[str, Record] = field(default_factory=dict)  # id -> ProductAttribute
    tax_settings: dict[str, Record] = field(default_factory=dict)
    global_tax_settings: Record = field(default_factory=dict)
    products: dict[str, Record] = field(default_factory=dict)  # without stocks/tags/totalStock (derived)
    stocks: dict[tuple[str, str], Record] = field(default_factory=dict)  # (variantId, stockLocationId) -> row
    orders: dict[str, Record] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], Record] = field(default_factory=dict)  # (authorizedAppId, scope) -> Webhook
    timeline: list[Record] = field(default_factory=list)
    invoice_pdfs: dict[str, str] = field(default_factory=dict)  # invoice id -> base64 as sent
    next_order_number: int = 1001


@dataclass
class Delivery:
    """One webhook event and what happened when it was POSTed."""

    id: str
    store: str
    scope: str
    endpoint: str
    body: Record
    statuses: list[int | str] = field(default_factory=list)  # HTTP status or the transport error, per attempt
    delivered: bool = False


class SandboxState:
    """All stores and credentials; one lock guards every change (the sandbox is small and mostly idle)."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.local_mode = True  # allow http://127.0.0.1 / localhost webhook endpoints
        self.webhook_retry_delay_s = 0.5  # [?] real retry spacing undocumented
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.stores: dict[str, Store] = {}
            self.installations: dict[tuple[str, str], Installation] = {}  # (client_id, store)
            self.codes: dict[str, AuthCode] = {}
            self.access_tokens: dict[str, Grant] = {}
            self.refresh_tokens: dict[str, Grant] = {}
            self.deliveries: list[Delivery] = []

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def store(self, name: str) -> Store | None:
        return self.stores.get(name)

    def installation(self, client_id: str, store: str) -> Installation | None:
        return self.installations.get((client_id, store))

    def installation_by_client(self, client_id: str) -> list[Installation]:
        return [inst for (cid, _), inst in self.installations.items() if cid == client_id]

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        store: str,
        authorized_app_id: str | None = None,
        scope: str | None = None,
    ) -> Installation:
        with self.lock:
            installation = Installation(
                client_id=client_id,
                client_secret=client_secret,
                store=store,
                authorized_app_id=authorized_app_id or new_id(),
                store_app_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ikas-app:{client_id}")),
                partner_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ikas-partner:{client_id}")),
                scope=scope or DEFAULT_SCOPE,
                added_date=self.now_ms(),
            )
            self.installations[(client_id, store)] = installation
            return installation

    def issue_tokens(self, installation: Installation, scope: str, *, with_refresh: bool) -> Record:
        """A token response per fact sheet §2.2 (token_type, expires_in, access_token, scope, refresh_token)."""
        with self.lock:
            access = "ikas_at_" + secrets.token_urlsafe(24)
            self.access_tokens[access] = Grant(
                installation.store, installation.client_id, scope, self.now_ms() + ACCESS_TOKEN_TTL_S * 1000
            )
            body: Record = {
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_S,
                "access_token": access,
                "scope": scope,
            }
            if with_refresh:
                refresh = "ikas_rt_" + secrets.token_urlsafe(24)
                self.refresh_tokens[refresh] = Grant(installation.store, installation.client_id, scope, None)
                body["refresh_token"] = refresh
            return body

    def grant_for(self, access_token: str) -> Grant | None:
        """The live grant of an access token; None when unknown or expired."""
        grant = self.access_tokens.get(access_token)
        if grant is None or (grant.expires_at_ms is not None and grant.expires_at_ms <= self.now_ms()):
            return None
        return grant
