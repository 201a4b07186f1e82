"""The catalog's command line: `python -m bridge_catalog serve|migrate|trigger --scope products|stock`."""

from collections.abc import Sequence
from functools import partial

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform import service_main
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.service_main import Runtime, ScheduledJob, ServiceDefinition
from bridge_platform.settings import BridgeSettings

JOB_DEADLINE_S = 120.0


def runtime(settings: BridgeSettings) -> Runtime:
    services = build(settings)
    assert services.engine is not None
    return Runtime(engine=services.engine, register=partial(register, services), runs=services.runs)


def run_due_syncs(scope: str, settings: BridgeSettings) -> str:
    """Enqueues one run per tenant whose automatic sync of `scope` is on (product.md §6); only enqueues."""
    channel = grpc_channel(settings.catalog_addr, service_token=settings.service_token_value())
    answer = catalog_pb2_grpc.CatalogRunServiceStub(channel).RunDueSyncs(
        catalog_pb2.RunDueSyncsRequest(scope=scope), timeout=JOB_DEADLINE_S
    )
    return f"enqueued {answer.enqueued}, skipped {answer.skipped} (still running)"


def definition(settings_interval_s: float | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="catalog",
        migrations=MIGRATIONS,
        database_url=lambda settings: settings.catalog_database_url,
        address=lambda settings: settings.catalog_addr,
        build=runtime,
        jobs=tuple(
            ScheduledJob(scope, settings_interval_s or 300.0, partial(run_due_syncs, scope))
            for scope in ("products", "stock")
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    from bridge_platform.settings import load_settings

    return service_main.main(definition(float(load_settings().sync_interval_s)), argv)
