"""Fixtures shared by every package's tests: real databases on both engines.

PostgreSQL comes from testcontainers when a Docker engine answers, otherwise from TEST_DATABASE_URL
(an admin URL; `make test` defaults it to the local server at 127.0.0.1:5432). Each test session
creates its databases under one random prefix and drops them at the end. Without either, the
PostgreSQL tests fail: they never skip.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENGINES = ("sqlite", "postgresql")


def _docker_available() -> bool:
    return bool(os.environ.get("DOCKER_HOST")) or Path("/var/run/docker.sock").exists()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if _docker_available():
        with contextlib.suppress(Exception):
            from testcontainers.postgres import PostgresContainer

            with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
                yield container.get_connection_url()
                return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.fail("PostgreSQL tests need a Docker engine or TEST_DATABASE_URL (an admin URL)")
    yield url


@pytest.fixture(scope="session")
def new_postgres_database(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty PostgreSQL databases for this test session; drops them all at the end."""
    admin_url = make_url(postgres_admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    prefix = f"bridge_test_{uuid.uuid4().hex[:8]}"
    created: list[str] = []

    def create() -> str:
        name = f"{prefix}_{len(created)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin_url.set(database=name).render_as_string(hide_password=False)

    yield create
    with admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each engine in turn: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    factory: Callable[[], str] = request.getfixturevalue("new_postgres_database")
    return factory()


@pytest.fixture(scope="session")
def tracer_provider() -> Any:
    """The process-wide SDK tracer provider, as `setup_telemetry` installs it in every service.

    OpenTelemetry lets a process set its global provider once, so all tests share this one.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def finished_spans(tracer_provider: Any) -> Iterator[Any]:
    """An in-memory exporter on the global provider: `.get_finished_spans()` lists this test's spans."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    tracer_provider.add_span_processor(processor)
    yield exporter
    exporter.clear()
    exporter.shutdown()
