"""The orders service's command line: `python -m bridge_orders serve|migrate|trigger --scope orders`."""

from collections.abc import Sequence
from functools import partial

from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.bootstrap import MIGRATIONS, build
from bridge_orders.entrypoints.grpc_servicer import register
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
    """Enqueues one orders run per tenant whose automatic order sync is on (product.md §6); only enqueues."""
    channel = grpc_channel(settings.orders_addr, service_token=settings.service_token_value())
    answer = orders_pb2_grpc.OrderRunServiceStub(channel).RunDueSyncs(
        orders_pb2.RunDueOrderSyncsRequest(scope=scope), timeout=JOB_DEADLINE_S
    )
    return f"enqueued {answer.enqueued}, skipped {answer.skipped} (still running)"


def definition(settings_interval_s: float | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="orders",
        migrations=MIGRATIONS,
        database_url=lambda settings: settings.orders_database_url,
        address=lambda settings: settings.orders_addr,
        build=runtime,
        jobs=(ScheduledJob("orders", settings_interval_s or 300.0, partial(run_due_syncs, "orders")),),
    )


def main(argv: Sequence[str] | None = None) -> int:
    from bridge_platform.settings import load_settings

    return service_main.main(definition(float(load_settings().sync_interval_s)), argv)
