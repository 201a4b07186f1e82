"""Tenants: one per ikas store that uses Bridge (product.md §1), and the rule a store name obeys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bridge_platform.errors import Conflict, FieldViolation, InvalidInput

TENANT_ID_PREFIX: Final = "t_"
STORE_NAME_MAX_LENGTH: Final = 63
# ikas store names are DNS labels ({store}.myikas.com): lower-case letters, digits and hyphens,
# 1..63 characters, not starting or ending with a hyphen. ASCII only: the classes are spelled out.
_STORE_NAME: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def check_store_name(store_name: str) -> str:
    """Returns the store name unchanged, or raises InvalidInput naming the `store_name` field."""
    if _STORE_NAME.fullmatch(store_name) is None:
        raise InvalidInput(
            "the store name is invalid",
            [
                FieldViolation(
                    "store_name",
                    "invalid_store_name",
                    f"must be 1 to {STORE_NAME_MAX_LENGTH} lower-case letters, digits or hyphens, "
                    "not starting or ending with a hyphen",
                )
            ],
        )
    return store_name


def new_tenant_id() -> str:
    """A fresh opaque tenant id: "t_" and 24 random hex characters (96 bits)."""
    return TENANT_ID_PREFIX + secrets.token_hex(12)


class DuplicateTenant(Conflict):
    """A tenant with the same id or store name was stored first (a unique key held)."""


@dataclass
class Tenant:
    """One ikas store's tenancy; `is_development` marks a local-mode sandbox store (product.md §1.2)."""

    id: str
    store_name: str
    created_at: datetime
    is_development: bool = False

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    @classmethod
    def development(cls, store_name: str, at: datetime) -> Tenant:
        """A new development tenant for a sandbox store, with a fresh id."""
        return cls(new_tenant_id(), check_store_name(store_name), at, is_development=True)
