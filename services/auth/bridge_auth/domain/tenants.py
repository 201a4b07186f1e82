"""Tenants: one per ikas store that uses Bridge (product.md §1), the rule a store name obeys, and the
lifecycle of an installation (install, reinstall, uninstall, purge; §1.1, §1.6)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bridge_platform.errors import Conflict, FieldViolation, InvalidInput

TENANT_ID_PREFIX: Final = "t_"
STORE_NAME_MAX_LENGTH: Final = 63
# ikas asks apps to delete personal data of an uninstalled store within 24 hours (ikas-api.md §8).
PERSONAL_DATA_DEADLINE: Final = timedelta(hours=24)
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
    """A tenant with the same id, store name or authorizedAppId was stored first (a unique key held)."""


@dataclass
class Tenant:
    """One ikas store's tenancy.

    `is_development` marks a local-mode sandbox store (product.md §1.2). An installed tenant carries the
    ikas merchant and installation (`authorized_app_id`, the key of §1.1) and the merchant's e-mail for
    alerts. After uninstalling, `personal_data_purge_at` and `purge_at` say when its data goes.
    """

    id: str
    store_name: str
    created_at: datetime
    is_development: bool = False
    merchant_id: str | None = None
    authorized_app_id: str | None = None
    contact_email: str | None = None
    installed_at: datetime | None = None
    uninstalled_at: datetime | None = None
    personal_data_purge_at: datetime | None = None
    personal_data_purged_at: datetime | None = None
    purge_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    @classmethod
    def development(cls, store_name: str, at: datetime) -> Tenant:
        """A new development tenant for a sandbox store, with a fresh id."""
        return cls(new_tenant_id(), check_store_name(store_name), at, is_development=True)

    @classmethod
    def installed(
        cls, store_name: str, merchant_id: str, authorized_app_id: str, contact_email: str | None, at: datetime
    ) -> Tenant:
        tenant = cls(new_tenant_id(), check_store_name(store_name), at)
        tenant.install(store_name, merchant_id, authorized_app_id, contact_email, at)
        return tenant

    @property
    def is_installed(self) -> bool:
        return self.uninstalled_at is None

    def install(
        self, store_name: str, merchant_id: str, authorized_app_id: str, contact_email: str | None, at: datetime
    ) -> None:
        """An install or reinstall: the installation's ids are (re)bound and any scheduled purge is cancelled."""
        self.store_name = check_store_name(store_name)
        self.merchant_id = merchant_id
        self.authorized_app_id = authorized_app_id
        self.contact_email = contact_email
        self.is_development = False
        self.installed_at = at
        self.uninstalled_at = None
        self.personal_data_purge_at = None
        self.personal_data_purged_at = None
        self.purge_at = None

    def uninstall(self, at: datetime, retention: timedelta) -> None:
        """Schedules the purges of §1.6: personal data at once (due within 24 h), the rest after `retention`."""
        if self.uninstalled_at is not None:
            return
        self.uninstalled_at = at
        self.personal_data_purge_at = at
        self.purge_at = at + retention

    def is_personal_data_purge_due(self, now: datetime) -> bool:
        return (
            self.personal_data_purge_at is not None
            and self.personal_data_purged_at is None
            and self.personal_data_purge_at <= now
        )

    def is_purge_due(self, now: datetime) -> bool:
        return self.purge_at is not None and self.purge_at <= now

    def forget_personal_data(self, at: datetime) -> None:
        self.contact_email = None
        self.personal_data_purged_at = at
