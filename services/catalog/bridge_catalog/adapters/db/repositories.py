"""Tenant-scoped repositories over the catalog database; every query carries the tenant id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bridge_catalog.adapters.db.tables import catalog_marks, product_lines
from bridge_catalog.domain.lines import RELATED_STATUSES, ProductLine
from bridge_catalog.domain.settings import TenantCatalogSettings
from bridge_platform.db import SqlUnitOfWork

_IN_CHUNK: Final = 500  # ids per IN (...): far below every engine's limit on bound parameters


class SqlCatalogSettingsRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self) -> TenantCatalogSettings | None:
        return self._session.get(TenantCatalogSettings, self._tenant_id)

    def add(self, settings: TenantCatalogSettings) -> None:
        if settings.tenant_id != self._tenant_id:
            raise ValueError("settings of another tenant")
        self._session.add(settings)


class SqlProductLineRepository:
    """The product lines of one tenant."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def _select(self) -> Select[ProductLine]:
        return select(ProductLine).where(product_lines.c.tenant_id == self._tenant_id)

    def get(self, line_id: str) -> ProductLine | None:
        return self._session.scalars(self._select().where(product_lines.c.id == line_id)).first()

    def all(self) -> list[ProductLine]:
        return list(self._session.scalars(self._select().order_by(product_lines.c.name, product_lines.c.variant_name)))

    def add(self, line: ProductLine) -> None:
        if line.tenant_id != self._tenant_id:
            raise ValueError("a line of another tenant")
        self._session.add(line)

    def page(self, query: str, status: str | None, page: int, page_size: int) -> tuple[list[ProductLine], int]:
        statement = self._select()
        if query.strip():
            pattern = f"%{query.strip().lower()}%"
            statement = statement.where(
                or_(func.lower(product_lines.c.name).like(pattern), func.lower(product_lines.c.sku).like(pattern))
            )
        if status:
            statement = statement.where(product_lines.c.status == status)
        total = self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        rows = self._session.scalars(
            statement.order_by(product_lines.c.name, product_lines.c.variant_name, product_lines.c.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return list(rows), int(total)

    def has_relations(self) -> bool:
        found = self._session.scalar(
            select(product_lines.c.id)
            .where(product_lines.c.tenant_id == self._tenant_id, product_lines.c.fortnox_article_number.is_not(None))
            .limit(1)
        )
        return found is not None

    def related_article_numbers(self, variant_ids: Sequence[str]) -> dict[str, str]:
        c = product_lines.c
        wanted = sorted(set(variant_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = self._session.execute(
                select(c.ikas_variant_id, c.fortnox_article_number).where(
                    c.tenant_id == self._tenant_id,
                    c.ikas_variant_id.in_(wanted[start : start + _IN_CHUNK]),
                    c.fortnox_article_number.is_not(None),
                    c.status.in_(RELATED_STATUSES),
                )
            )
            found.update({variant_id: number for variant_id, number in rows})
        return found

    def flush(self) -> None:
        """Writes pending changes inside the transaction (an unlink before a link takes its article)."""
        self._session.flush()


class SqlMarkRepository:
    """Watermarks and last sync times of one tenant, by name."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self, name: str) -> datetime | None:
        found: datetime | None = self._session.scalar(
            select(catalog_marks.c.at).where(catalog_marks.c.tenant_id == self._tenant_id, catalog_marks.c.name == name)
        )
        return found

    def set(self, name: str, at: datetime) -> None:
        where = (catalog_marks.c.tenant_id == self._tenant_id) & (catalog_marks.c.name == name)
        changed = self._session.execute(update(catalog_marks).where(where).values(at=at))
        if getattr(changed, "rowcount", 0) == 0:
            self._session.execute(insert(catalog_marks).values(tenant_id=self._tenant_id, name=name, at=at))

    def clear(self, names: list[str]) -> None:
        self._session.execute(
            delete(catalog_marks).where(catalog_marks.c.tenant_id == self._tenant_id, catalog_marks.c.name.in_(names))
        )


class SqlCatalogUnitOfWork(SqlUnitOfWork):
    settings: SqlCatalogSettingsRepository
    lines: SqlProductLineRepository
    marks: SqlMarkRepository

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        super().__init__(sessions, tenant_id)

    def _open(self, session: Session) -> None:
        self.settings = SqlCatalogSettingsRepository(session, self.tenant_id)
        self.lines = SqlProductLineRepository(session, self.tenant_id)
        self.marks = SqlMarkRepository(session, self.tenant_id)
