"""Every service's migrations on both engines: one head, upgrade, up-down consistency, models == DDL.

The four checks are pytest-alembic's own; this module points them at each service's history and at
a fresh SQLite and PostgreSQL database in turn (the root conftest's `database_url`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine

from bridge_platform.db import make_engine

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

SERVICES = ("auth", "catalog", "orders")


@pytest.fixture(params=SERVICES)
def alembic_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    bootstrap = importlib.import_module(f"bridge_{request.param}.bootstrap")
    return {"script_location": str(bootstrap.MIGRATIONS)}


@pytest.fixture
def alembic_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
