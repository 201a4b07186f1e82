"""The orders service's command line: `python -m bridge_orders serve|migrate`."""

from collections.abc import Sequence
from functools import partial

from bridge_orders.bootstrap import MIGRATIONS, build
from bridge_orders.entrypoints.grpc_servicer import register
from bridge_platform import service_main
from bridge_platform.service_main import Runtime, ServiceDefinition
from bridge_platform.settings import BridgeSettings


def runtime(settings: BridgeSettings) -> Runtime:
    services = build(settings)
    assert services.engine is not None
    return Runtime(engine=services.engine, register=partial(register, services), runs=services.runs)


ORDERS = ServiceDefinition(
    name="orders",
    migrations=MIGRATIONS,
    database_url=lambda settings: settings.orders_database_url,
    address=lambda settings: settings.orders_addr,
    build=runtime,
)


def main(argv: Sequence[str] | None = None) -> int:
    return service_main.main(ORDERS, argv)
