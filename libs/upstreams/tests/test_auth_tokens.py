"""GrpcTokenSource against a fake TokenService (caching, expiry, reports) and the real auth service at port 0."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import Conflict
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_upstreams.auth_tokens import ConnectionPaused, GrpcTokenSource

TOKEN = "service-token-for-tests"


class FakeTokenService(auth_pb2_grpc.TokenServiceServicer):
    def __init__(self) -> None:
        self.issued = 0
        self.reported: list[tuple[str, int, str]] = []
        self.lifetime = timedelta(hours=1)
        self.pause_reason: str | None = None

    @maps_errors
    def GetAccessToken(
        self, request: auth_pb2.GetAccessTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.GetAccessTokenResponse:
        if self.pause_reason:
            raise Conflict("the fortnox connection must be authorized again", {"reason": self.pause_reason})
        self.issued += 1
        expires = Timestamp()
        expires.FromDatetime(datetime.now(UTC) + self.lifetime)
        return auth_pb2.GetAccessTokenResponse(
            access_token=f"{request.tenant_id}-{request.upstream}-{self.issued}", expires_at=expires
        )

    def ReportRejectedToken(
        self, request: auth_pb2.ReportRejectedTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ReportRejectedTokenResponse:
        self.reported.append((request.tenant_id, request.upstream, request.access_token))
        return auth_pb2.ReportRejectedTokenResponse()


@pytest.fixture
def fake() -> Iterator[tuple[FakeTokenService, grpc.Channel]]:
    service = FakeTokenService()

    def add(server: grpc.Server) -> list[str]:
        auth_pb2_grpc.add_TokenServiceServicer_to_server(service, server)
        return ["bridge.auth.v1.TokenService"]

    server, port = create_server("127.0.0.1:0", add, service_token=TOKEN)
    server.start()
    yield service, grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN)
    server.stop(0)


def test_a_token_is_cached_until_shortly_before_it_expires(fake: tuple[FakeTokenService, grpc.Channel]) -> None:
    service, channel = fake
    now = [datetime.now(UTC)]
    tokens = GrpcTokenSource(channel, "fortnox", clock=lambda: now[0])

    first = tokens.access_token("t1")
    assert tokens.access_token("t1") == first
    assert service.issued == 1
    assert first == f"t1-{auth_pb2.UPSTREAM_FORTNOX}-1"

    now[0] += timedelta(minutes=59, seconds=30)  # inside the margin before expiry: ask again
    assert tokens.access_token("t1") != first
    assert service.issued == 2


def test_tenants_and_upstreams_are_kept_apart(fake: tuple[FakeTokenService, grpc.Channel]) -> None:
    _, channel = fake
    fortnox, ikas = GrpcTokenSource(channel, "fortnox"), GrpcTokenSource(channel, "ikas")

    assert fortnox.access_token("t1") != fortnox.access_token("t2")
    assert ikas.access_token("t1").startswith(f"t1-{auth_pb2.UPSTREAM_IKAS}-")


def test_a_rejected_token_is_reported_and_not_used_again(fake: tuple[FakeTokenService, grpc.Channel]) -> None:
    service, channel = fake
    tokens = GrpcTokenSource(channel, "ikas")
    first = tokens.access_token("t1")

    tokens.report_rejected("t1", first)

    assert service.reported == [("t1", auth_pb2.UPSTREAM_IKAS, first)]
    assert tokens.access_token("t1") != first


def test_needs_reauth_becomes_connection_paused(fake: tuple[FakeTokenService, grpc.Channel]) -> None:
    service, channel = fake
    service.pause_reason = "needs_reauth"

    with pytest.raises(ConnectionPaused) as paused:
        GrpcTokenSource(channel, "fortnox").access_token("t1")

    assert paused.value.reason == "needs_reauth"
    assert paused.value.message == "Fortnox needs to be reconnected; nothing was lost"
    assert isinstance(paused.value, Conflict)


def test_the_real_auth_service_answers_disconnected_for_a_tenant_without_a_connection(tmp_path: Path) -> None:
    settings = load_settings(
        BridgeSettings,
        mode=Mode.LOCAL,
        data_dir=tmp_path,
        service_token=TOKEN,
        auth_database_url=f"sqlite:///{tmp_path}/a.db",
    )
    upgrade_to_head(MIGRATIONS, settings.auth_database_url)
    server, port = create_server("127.0.0.1:0", partial(register, build(settings, purgers=[])), service_token=TOKEN)
    server.start()
    try:
        tokens = GrpcTokenSource(grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN), "fortnox")
        with pytest.raises(ConnectionPaused) as paused:
            tokens.access_token("no-such-tenant")
        assert paused.value.reason == "disconnected"
        assert paused.value.details == {"reason": "disconnected", "upstream": "fortnox"}
    finally:
        server.stop(0)
