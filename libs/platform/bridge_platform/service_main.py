"""The command line every service shares: `python -m bridge_<svc> serve|migrate`.

`migrate` brings the service's database to the newest migration (a Kubernetes Job in production);
`serve` refuses a schema that is not at head, so replicas never race to migrate.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from sqlalchemy import Engine

from bridge_platform.db import is_at_head, make_engine, upgrade_to_head
from bridge_platform.grpc_server import create_server, serve_until_stopped
from bridge_platform.jobs import RunQueue
from bridge_platform.logs import setup_logging
from bridge_platform.settings import BridgeSettings, load_settings
from bridge_platform.telemetry import setup_telemetry

log = logging.getLogger(__name__)

EXIT_SCHEMA_NOT_AT_HEAD = 3


@dataclass(frozen=True)
class Runtime:
    """What `serve` needs from a built service."""

    engine: Engine
    register: Callable[[grpc.Server], list[str]]
    runs: RunQueue | None = None


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    migrations: Path
    database_url: Callable[[BridgeSettings], str]
    address: Callable[[BridgeSettings], str]
    build: Callable[[BridgeSettings], Runtime]


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bridge_{definition.name}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve gRPC and consume the run queue until SIGTERM")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    arguments = parser.parse_args(argv)
    settings: BridgeSettings = load_settings()
    setup_logging(definition.name, settings.log_level)
    if arguments.command == "migrate":
        upgrade_to_head(definition.migrations, definition.database_url(settings))
        log.info("database is at the newest migration")
        return 0
    return serve(definition, settings)


def serve(definition: ServiceDefinition, settings: BridgeSettings) -> int:
    setup_telemetry(f"bridge-{definition.name}", settings.otel_exporter_otlp_endpoint)
    engine = make_engine(definition.database_url(settings))
    if not is_at_head(engine, definition.migrations):
        print(
            f"bridge-{definition.name}: the database schema is not at the newest migration; "
            f"run `python -m bridge_{definition.name} migrate` first",
            file=sys.stderr,
        )
        return EXIT_SCHEMA_NOT_AT_HEAD
    engine.dispose()
    runtime = definition.build(settings)
    address = settings.grpc_bind_address(definition.address(settings))
    server, port = create_server(
        address, runtime.register, service_token=settings.service_token_value(), reflect=settings.grpc_reflection
    )
    if runtime.runs is not None:
        runtime.runs.start_consumer()
    log.info("serving gRPC", extra={"port": port})
    serve_until_stopped(server, on_stop=runtime.runs.stop_consumer if runtime.runs else lambda: None)
    log.info("stopped")
    return 0
