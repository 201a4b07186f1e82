"""Deleting an uninstalled store's data (product.md §1.6): personal data within 24 hours, everything after
BRIDGE_RETENTION_DAYS, in every service. Each purge is safe to repeat; one tenant's failure never stops the
others, and a failed purge is tried again by the next run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bridge_auth.app.ports import Clock, TenantDataPurger, UnitOfWorkFactory
from bridge_platform.errors import DomainError

log = logging.getLogger(__name__)

PERSONAL_DATA = "personal_data"
ALL = "all"


@dataclass(frozen=True)
class PurgeResult:
    personal_data_purged: int
    tenants_deleted: int


class RunDuePurges:
    def __init__(self, uow_for: UnitOfWorkFactory, purgers: Sequence[TenantDataPurger], clock: Clock) -> None:
        self._uow_for, self._purgers, self._clock = uow_for, purgers, clock

    def __call__(self) -> PurgeResult:
        now = self._clock.now()
        with self._uow_for() as uow:
            due = uow.tenants.purges_due(now)
        personal = deleted = 0
        for tenant in due:
            try:
                if tenant.is_purge_due(now):
                    for purger in self._purgers:
                        purger.purge(tenant.id, ALL)
                    with self._uow_for() as uow:
                        uow.tenants.delete(tenant.id)
                        uow.commit()
                    deleted += 1
                elif tenant.is_personal_data_purge_due(now):
                    for purger in self._purgers:
                        purger.purge(tenant.id, PERSONAL_DATA)
                    with self._uow_for() as uow:
                        stored = uow.tenants.get(tenant.id)
                        if stored is not None:
                            stored.forget_personal_data(now)
                            uow.commit()
                    personal += 1
            except DomainError as error:
                log.warning(
                    "purge failed; the next run tries again",
                    extra={"tenant_id": tenant.id, "error": type(error).__name__},
                )
        return PurgeResult(personal, deleted)
