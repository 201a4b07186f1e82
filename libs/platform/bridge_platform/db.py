"""SQLAlchemy helpers shared by the services: engines, naming convention, unit of work, migrations.

SQLite is the embedded default (local mode) and PostgreSQL the production engine; both must behave
the same for the code above, so SQLite gets WAL, a busy timeout, foreign keys and write-ahead
`BEGIN IMMEDIATE` transactions (a deferred transaction that reads, then writes, can fail on a busy
database instead of waiting; this makes every transaction wait its turn).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite itself stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_metadata() -> MetaData:
    """A MetaData whose constraint names are stable across engines, so migrations can name them."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for a service database; creates the folder of a SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
    return create_engine(parsed, pool_pre_ping=True, **options)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" event below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class SqlUnitOfWork:
    """One transaction for one tenant; rolls back unless `commit()` is called (style.md rule 6).

    Services subclass it and build their tenant-scoped repositories in `_open(session)`.
    """

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        self._sessions, self.tenant_id = sessions, tenant_id
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def _open(self, session: Session) -> None:
        """Builds the repositories on the session; overridden by each service."""

    def __enter__(self) -> Self:
        self._session = self._sessions()
        self._open(self._session)
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        # close() rolls back what was not committed, and leaves loaded objects readable (detached,
        # not expired), so a use case can return what it read.
        self.session.close()
        self._session = None

    def commit(self) -> None:
        self.session.commit()


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(script_location: Path, url: str) -> None:
    """Applies every migration (the `migrate` command, run as a Job in production)."""
    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(script_location, url), "head")


def is_at_head(engine: Engine, script_location: Path) -> bool:
    """True when the database schema is at the newest migration; `serve` refuses to start otherwise."""
    heads = set(
        ScriptDirectory.from_config(
            alembic_config(script_location, engine.url.render_as_string(hide_password=False))
        ).get_heads()
    )
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def run_migrations_online(metadata: MetaData, config: Config) -> None:
    """The body of every service's Alembic env.py: batch mode so SQLite can alter tables.

    Tests hand in their own connection through `config.attributes["connection"]` (pytest-alembic
    does); otherwise the URL of the configuration is used.
    """
    from alembic import context

    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure_and_run(context, given, metadata)
        return
    engine = given if isinstance(given, Engine) else make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _configure_and_run(context, connection, metadata)
    if given is None:
        engine.dispose()


def _configure_and_run(context: Any, connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_portable_type,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_portable_type(type_: str, item: Any, autogen_context: Any) -> str | bool:
    """Autogenerated migrations spell UtcDateTime as its column type, so they never import Bridge code."""
    if type_ == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False
