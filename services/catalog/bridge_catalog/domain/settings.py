"""Product and stock settings of one tenant (product.md §2) and the rules a saved document obeys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from bridge_platform.errors import FieldViolation

FORTNOX_TO_IKAS: Final = "fortnox_to_ikas"
IKAS_TO_FORTNOX: Final = "ikas_to_fortnox"
SYNC_MODES: Final = (FORTNOX_TO_IKAS, IKAS_TO_FORTNOX)
_MAX_ID_LENGTH: Final = 200


@dataclass(frozen=True)
class ProductSettings:
    sync_mode: str = FORTNOX_TO_IKAS
    sync_automatically: bool = False
    create_new: bool = False
    update_existing: bool = False


@dataclass(frozen=True)
class StockSettings:
    sync_automatically: bool = False
    ikas_stock_location_id: str | None = None
    fortnox_stock_point: str | None = None


@dataclass(frozen=True)
class CatalogSettings:
    """The `products` and `stock` parts of the settings document."""

    products: ProductSettings = field(default_factory=ProductSettings)
    stock: StockSettings = field(default_factory=StockSettings)

    def violations(self) -> list[FieldViolation]:
        """Every broken rule of this document, one entry per bad field, in document order."""
        found: list[FieldViolation] = []
        if self.products.sync_mode not in SYNC_MODES:
            found.append(
                FieldViolation("products.sync_mode", "invalid_choice", f"must be one of {', '.join(SYNC_MODES)}")
            )
        for name in ("ikas_stock_location_id", "fortnox_stock_point"):
            problem = _id_problem(getattr(self.stock, name))
            if problem:
                found.append(FieldViolation(f"stock.{name}", "invalid_value", problem))
        return found

    def changes_sync_mode(self, other: CatalogSettings) -> bool:
        return self.products.sync_mode != other.products.sync_mode

    def syncs_automatically(self, scope: str) -> bool:
        """Whether scheduled runs and webhooks include `scope` (products or stock)."""
        if scope == "products":
            return self.products.sync_automatically
        return scope == "stock" and self.stock.sync_automatically


def _id_problem(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        return "must be null or a non-empty id"
    if value != value.strip():
        return "must not start or end with whitespace"
    if len(value) > _MAX_ID_LENGTH:
        return f"must be at most {_MAX_ID_LENGTH} characters"
    return None


@dataclass
class TenantCatalogSettings:
    """The stored settings of one tenant; absent until the first save (defaults apply)."""

    tenant_id: str
    products: ProductSettings
    stock: StockSettings
    updated_at: datetime

    @property
    def settings(self) -> CatalogSettings:
        return CatalogSettings(self.products, self.stock)

    def replace(self, settings: CatalogSettings, at: datetime) -> None:
        self.products, self.stock, self.updated_at = settings.products, settings.stock, at
