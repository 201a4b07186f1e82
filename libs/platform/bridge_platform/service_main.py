"""The command line every service shares: `python -m bridge_<svc> serve|migrate|trigger --scope JOB`.

`migrate` brings the service's database to the newest migration (a Kubernetes Job in production);
`serve` refuses a schema that is not at head, so replicas never race to migrate. `trigger` asks
the running service to do one scheduled job (what a Kubernetes CronJob runs) and exits non-zero on
failure; in local mode `serve` runs the same jobs itself at their intervals (the built-in scheduler).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from sqlalchemy import Engine

from bridge_platform.db import is_at_head, make_engine, upgrade_to_head
from bridge_platform.grpc_server import create_server, serve_until_stopped
from bridge_platform.jobs import RunQueue
from bridge_platform.logs import setup_logging
from bridge_platform.settings import EXIT_BAD_CONFIGURATION, BridgeSettings, load_settings
from bridge_platform.telemetry import setup_telemetry

log = logging.getLogger(__name__)

EXIT_SCHEMA_NOT_AT_HEAD = 3


@dataclass(frozen=True)
class ScheduledJob:
    """A job the service's schedule runs: a CronJob via `trigger` in production, a thread locally.

    `run` receives the service's own settings and returns a one-line summary; it calls the service
    over gRPC, like the CronJob does, so both paths are the same."""

    name: str
    interval_s: float
    run: Callable[[BridgeSettings], str]


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
    jobs: Sequence[ScheduledJob] = ()
    # Settings fields only this service's server needs in production besides its database (e.g. the vault key);
    # `migrate` needs its database alone, so a migration Job is never handed more.
    requires: Sequence[str] = ()


def required_settings(definition: ServiceDefinition, command: str) -> list[str]:
    """The settings fields `command` refuses to start without in production, beyond those every process needs."""
    return [f"{definition.name}_database_url", *(definition.requires if command == "serve" else ())]


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bridge_{definition.name}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve gRPC and consume the run queue until SIGTERM")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    if definition.jobs:
        trigger_command = commands.add_parser("trigger", help="ask the running service to do one scheduled job")
        trigger_command.add_argument(
            "--scope", dest="job", required=True, choices=[job.name for job in definition.jobs]
        )
    arguments = parser.parse_args(argv)
    settings: BridgeSettings = load_settings()
    setup_logging(definition.name, settings.log_level)
    if arguments.command in ("serve", "migrate"):
        missing = settings.missing_for_production(required_settings(definition, arguments.command))
        if missing:
            print("\n".join(missing), file=sys.stderr)
            return EXIT_BAD_CONFIGURATION
    if arguments.command == "migrate":
        upgrade_to_head(definition.migrations, definition.database_url(settings))
        log.info("database is at the newest migration")
        return 0
    if arguments.command == "trigger":
        return trigger(next(job for job in definition.jobs if job.name == arguments.job), settings)
    return serve(definition, settings)


def trigger(job: ScheduledJob, settings: BridgeSettings) -> int:
    try:
        summary = job.run(settings)
    except Exception as error:
        log.error("scheduled job failed", extra={"job": job.name, "error": f"{type(error).__name__}: {error}"})
        return 1
    log.info("scheduled job done", extra={"job": job.name, "summary": summary})
    return 0


class LocalScheduler:
    """The built-in scheduler of local mode: each job on its own timer thread, failures logged and retried."""

    def __init__(self, jobs: Sequence[ScheduledJob], settings: BridgeSettings) -> None:
        self._jobs, self._settings = jobs, settings
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=f"schedule-{job.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, job: ScheduledJob) -> None:
        while not self._stopping.wait(job.interval_s):
            trigger(job, self._settings)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)


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
    scheduler = LocalScheduler(definition.jobs if settings.is_local else (), settings)
    scheduler.start()
    log.info("serving gRPC", extra={"port": port})

    def on_stop() -> None:
        scheduler.stop()
        if runtime.runs is not None:
            runtime.runs.stop_consumer()

    serve_until_stopped(server, on_stop=on_stop)
    log.info("stopped")
    return 0
