"""The auth service's command line: `python -m bridge_auth serve|migrate|trigger --scope refresh-tokens|purges`."""

from collections.abc import Sequence
from functools import partial

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform import service_main
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.service_main import Runtime, ScheduledJob, ServiceDefinition
from bridge_platform.settings import BridgeSettings

HOURLY_S = 3600.0
JOB_DEADLINE_S = 600.0


def runtime(settings: BridgeSettings) -> Runtime:
    services = build(settings)
    assert services.engine is not None
    return Runtime(engine=services.engine, register=partial(register, services))  # no run queue: auth runs no jobs


def refresh_tokens(settings: BridgeSettings) -> str:
    """Refreshes idle connections before their refresh tokens run out (product.md §1.4)."""
    channel = grpc_channel(settings.auth_addr, service_token=settings.service_token_value())
    answer = auth_pb2_grpc.TokenServiceStub(channel).RefreshDueTokens(
        auth_pb2.RefreshDueTokensRequest(), timeout=JOB_DEADLINE_S
    )
    return f"refreshed {answer.refreshed}, failed {answer.failed}"


def run_purges(settings: BridgeSettings) -> str:
    """Deletes what uninstalled stores left behind once it is due (product.md §1.6)."""
    channel = grpc_channel(settings.auth_addr, service_token=settings.service_token_value())
    answer = auth_pb2_grpc.RetentionServiceStub(channel).RunDuePurges(
        auth_pb2.RunDuePurgesRequest(), timeout=JOB_DEADLINE_S
    )
    return f"personal data purged for {answer.personal_data_purged}, tenants deleted {answer.tenants_deleted}"


AUTH = ServiceDefinition(
    name="auth",
    migrations=MIGRATIONS,
    database_url=lambda settings: settings.auth_database_url,
    address=lambda settings: settings.auth_addr,
    build=runtime,
    jobs=(ScheduledJob("refresh-tokens", HOURLY_S, refresh_tokens), ScheduledJob("purges", HOURLY_S, run_purges)),
    requires=("vault_key",),
)


def main(argv: Sequence[str] | None = None) -> int:
    return service_main.main(AUTH, argv)
