"""ikas install, dashboard sign-in, uninstall and purges against the ikas sandbox over HTTP, on both engines."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import jwt
import pytest
from sqlalchemy import select

from bridge.auth.v1 import auth_pb2
from bridge_auth.adapters.db.tables import connections, tenants
from bridge_auth.bootstrap import build
from bridge_platform.errors import Conflict
from bridge_platform.grpc_errors import error_from_rpc

from .conftest import IKAS_REDIRECT, Auth, consent

SECRET = "bridge-local-secret"


def install(auth: Auth, store: str = "demo") -> auth_pb2.CompleteIkasInstallResponse:
    installs = auth.stub("InstallService")
    url = installs.BeginIkasInstall(
        auth_pb2.BeginIkasInstallRequest(store_name=store, redirect_uri=IKAS_REDIRECT)
    ).authorize_url
    back = consent(url)
    return installs.CompleteIkasInstall(
        auth_pb2.CompleteIkasInstallRequest(
            code=back["code"],
            store_name=back["storeName"],
            signature=back["signature"],
            state=back["state"],
            redirect_uri=IKAS_REDIRECT,
        )
    )


def launch(ikas_url: str, store: str = "demo") -> dict[str, object]:
    answer = httpx.get(f"{ikas_url}/__admin/dashboard-launch", params={"store": store}, timeout=30)
    assert answer.status_code == 200, answer.text
    launched: dict[str, object] = answer.json()
    return launched


def unauthenticated(call: object, request: object) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        call(request)  # type: ignore[operator]
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


def webhook(
    scope: str,
    app_id: str,
    merchant_id: str,
    *,
    webhook_id: str = "wh-1",
    secret: str = SECRET,
    data: str = '{"id": "x"}',
) -> bytes:
    signature = hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()
    body = {
        "id": webhook_id,
        "createdAt": "2026-11-24T12:00:00.000Z",
        "scope": scope,
        "merchantId": merchant_id,
        "authorizedAppId": app_id,
        "data": data,
        "signature": signature,
    }
    return json.dumps(body).encode()


def test_install_registers_webhooks_and_signs_in(auth: Auth, ikas_url: str) -> None:
    completed = install(auth)

    launched = launch(ikas_url)
    tenant = completed.session.tenant
    assert (tenant.store_name, tenant.authorized_app_id) == ("demo", launched["authorizedAppId"])
    assert tenant.merchant_id == launched["merchantId"]
    assert completed.webhook_warning == ""
    hooks = httpx.get(f"{ikas_url}/__admin/state", timeout=30).json()["stores"]["demo"]["webhooks"]
    assert {h["scope"] for h in hooks if not h["deleted"]} >= {"store/order/created", "store/stock/updated"}
    assert {h["endpoint"] for h in hooks} == {"http://localhost:8080/webhooks/ikas"}
    resolved = auth.stub("SessionService").ResolveSession(
        auth_pb2.ResolveSessionRequest(session_token=completed.session.session_token)
    )
    assert resolved.tenant == tenant
    assert resolved.csrf_token == completed.session.csrf_token
    card = auth.stub("ConnectionService").GetConnection(auth_pb2.GetConnectionRequest(tenant_id=tenant.id))
    assert (card.ikas.store_name, card.ikas.status) == ("demo", auth_pb2.CONNECTION_STATUS_CONNECTED)
    token = auth.stub("TokenService").GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=tenant.id, upstream=auth_pb2.UPSTREAM_IKAS)
    )
    me = httpx.post(
        f"{ikas_url}/api/v1/admin/graphql",
        json={"query": "{ getMerchant { id } }"},
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=30,
    )
    assert me.json()["data"]["getMerchant"]["id"] == tenant.merchant_id


def test_reinstall_updates_the_same_tenant(auth: Auth, ikas_url: str) -> None:
    first = install(auth).session.tenant
    second = install(auth).session.tenant

    assert second == first
    with auth.engine.connect() as db:
        assert len(db.execute(select(tenants.c.id)).all()) == 1


def test_a_refused_webhook_address_is_a_warning_on_the_connection(auth: Auth, ikas_url: str) -> None:
    httpx.post(f"{ikas_url}/__admin/local-mode", json={"enabled": False}, timeout=30)
    try:
        completed = install(auth)
    finally:
        httpx.post(f"{ikas_url}/__admin/local-mode", json={"enabled": True}, timeout=30)

    assert "webhook" in completed.webhook_warning
    card = auth.stub("ConnectionService").GetConnection(
        auth_pb2.GetConnectionRequest(tenant_id=completed.session.tenant.id)
    )
    assert card.ikas.webhook_warning == completed.webhook_warning


def test_a_forged_callback_or_state_is_refused(auth: Auth, ikas_url: str) -> None:
    installs = auth.stub("InstallService")
    url = installs.BeginIkasInstall(
        auth_pb2.BeginIkasInstallRequest(store_name="demo", redirect_uri=IKAS_REDIRECT)
    ).authorize_url
    back = consent(url)
    forged = auth_pb2.CompleteIkasInstallRequest(
        code=back["code"], store_name="demo", signature="0" * 64, state=back["state"], redirect_uri=IKAS_REDIRECT
    )
    unauthenticated(installs.CompleteIkasInstall, forged)
    with pytest.raises(grpc.RpcError) as bad_state:
        installs.CompleteIkasInstall(
            auth_pb2.CompleteIkasInstallRequest(
                code=back["code"],
                store_name="demo",
                signature=back["signature"],
                state="made-up",
                redirect_uri=IKAS_REDIRECT,
            )
        )
    assert bad_state.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with auth.engine.connect() as db:
        assert db.execute(select(tenants.c.id)).all() == []


def test_signed_parameters_and_the_dashboard_jwt_sign_in(auth: Auth, ikas_url: str) -> None:
    tenant = install(auth).session.tenant
    launched = launch(ikas_url)
    params = launched["params"]
    assert isinstance(params, dict)
    sessions = auth.stub("SessionService")

    opened = sessions.OpenSessionFromSignedParameters(
        auth_pb2.OpenSessionFromSignedParametersRequest(
            store_name=params["storeName"],
            merchant_id=params["merchantId"],
            authorized_app_id=params["authorizedAppId"],
            timestamp=params["timestamp"],
            signature=params["signature"],
        )
    )
    by_jwt = sessions.ResolveDashboardToken(auth_pb2.ResolveDashboardTokenRequest(token=str(launched["jwt"])))

    assert opened.session.tenant == tenant
    assert by_jwt.tenant == tenant
    sessions.CloseSession(auth_pb2.CloseSessionRequest(session_token=opened.session.session_token))
    unauthenticated(sessions.ResolveSession, auth_pb2.ResolveSessionRequest(session_token=opened.session.session_token))


def test_forged_or_expired_credentials_are_unauthenticated(auth: Auth, ikas_url: str) -> None:
    tenant = install(auth).session.tenant
    sessions = auth.stub("SessionService")
    now_ms = int(time.time() * 1000)

    def params(timestamp_ms: int, secret: str = SECRET, app_id: str = tenant.authorized_app_id) -> object:
        message = f"demo{tenant.merchant_id}{timestamp_ms}"
        return auth_pb2.OpenSessionFromSignedParametersRequest(
            store_name="demo",
            merchant_id=tenant.merchant_id,
            authorized_app_id=app_id,
            timestamp=str(timestamp_ms),
            signature=hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest(),
        )

    sessions.OpenSessionFromSignedParameters(params(now_ms))  # the control: this one is good
    unauthenticated(sessions.OpenSessionFromSignedParameters, params(now_ms, secret="wrong-secret"))
    unauthenticated(sessions.OpenSessionFromSignedParameters, params(now_ms - 121_000))  # older than 120 s
    unauthenticated(sessions.OpenSessionFromSignedParameters, params(now_ms, app_id="another-installation"))

    def token(secret: str = SECRET, audience: str = tenant.authorized_app_id, expires_in_s: int = 600) -> str:
        claims = {"sub": tenant.merchant_id, "aud": audience, "exp": int(time.time()) + expires_in_s}
        return jwt.encode(claims, secret, algorithm="HS256")

    resolve = sessions.ResolveDashboardToken
    assert resolve(auth_pb2.ResolveDashboardTokenRequest(token=token())).tenant == tenant  # the control
    unauthenticated(resolve, auth_pb2.ResolveDashboardTokenRequest(token=token(secret="wrong-secret")))
    unauthenticated(resolve, auth_pb2.ResolveDashboardTokenRequest(token=token(audience="another-installation")))
    unauthenticated(resolve, auth_pb2.ResolveDashboardTokenRequest(token=token(expires_in_s=-10)))
    claims = {"sub": tenant.merchant_id, "aud": tenant.authorized_app_id, "exp": int(time.time()) + 600}
    unauthenticated(resolve, auth_pb2.ResolveDashboardTokenRequest(token=jwt.encode(claims, "", algorithm="none")))
    unauthenticated(sessions.ResolveSession, auth_pb2.ResolveSessionRequest(session_token="not-a-session"))


def test_tenant_walls(auth: Auth, ikas_url: str) -> None:
    a = install(auth, "demo")
    b = install(auth, "other")
    sessions = auth.stub("SessionService")

    assert a.session.tenant.id != b.session.tenant.id
    for completed in (a, b):
        resolved = sessions.ResolveSession(
            auth_pb2.ResolveSessionRequest(session_token=completed.session.session_token)
        )
        assert resolved.tenant == completed.session.tenant
        jwt_of = launch(ikas_url, completed.session.tenant.store_name)["jwt"]
        assert sessions.ResolveDashboardToken(auth_pb2.ResolveDashboardTokenRequest(token=str(jwt_of))).tenant == (
            completed.session.tenant
        )
    tokens = auth.stub("TokenService")
    a_token = tokens.GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=a.session.tenant.id, upstream=auth_pb2.UPSTREAM_IKAS)
    ).access_token
    b_token = tokens.GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=b.session.tenant.id, upstream=auth_pb2.UPSTREAM_IKAS)
    ).access_token
    assert a_token != b_token
    card = auth.stub("ConnectionService").GetConnection(auth_pb2.GetConnectionRequest(tenant_id=b.session.tenant.id))
    assert card.ikas.store_name == "other"


@dataclass
class RecordingPurger:
    name: str
    calls: list[tuple[str, str]] = field(default_factory=list)

    def purge(self, tenant_id: str, scope: str) -> int:
        self.calls.append((tenant_id, scope))
        return 1


@dataclass
class Later:
    delta: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.delta


def test_uninstall_deletes_tokens_at_once_and_purges_on_schedule(auth: Auth, ikas_url: str) -> None:
    completed = install(auth)
    tenant = completed.session.tenant
    installs = auth.stub("InstallService")
    other_scope = installs.HandleIkasWebhook(
        auth_pb2.HandleIkasWebhookRequest(
            body=webhook("store/order/created", tenant.authorized_app_id, tenant.merchant_id)
        )
    )
    assert (other_scope.outcome, other_scope.tenant_id, other_scope.scope, other_scope.entity_id) == (
        auth_pb2.WEBHOOK_OUTCOME_ACCEPTED,
        tenant.id,
        "store/order/created",
        "x",  # the order the owning service re-reads
    )
    for webhook_id, data in (("wh-list", "[1, 2]"), ("wh-number-id", '{"id": 7}'), ("wh-not-json", "not json")):
        odd = installs.HandleIkasWebhook(
            auth_pb2.HandleIkasWebhookRequest(
                body=webhook(
                    "store/order/updated",
                    tenant.authorized_app_id,
                    tenant.merchant_id,
                    webhook_id=webhook_id,
                    data=data,
                )
            )
        )
        assert (odd.outcome, odd.entity_id) == (auth_pb2.WEBHOOK_OUTCOME_ACCEPTED, "")
    uninstall = webhook("store/app/deleted", tenant.authorized_app_id, tenant.merchant_id, webhook_id="wh-2")
    forged = webhook("store/app/deleted", tenant.authorized_app_id, tenant.merchant_id, webhook_id="wh-3", secret="x")
    unauthenticated(installs.HandleIkasWebhook, auth_pb2.HandleIkasWebhookRequest(body=forged))

    handled = installs.HandleIkasWebhook(auth_pb2.HandleIkasWebhookRequest(body=uninstall))
    repeated = installs.HandleIkasWebhook(auth_pb2.HandleIkasWebhookRequest(body=uninstall))

    assert (handled.outcome, handled.tenant_id) == (auth_pb2.WEBHOOK_OUTCOME_ACCEPTED, tenant.id)
    assert repeated.outcome == auth_pb2.WEBHOOK_OUTCOME_DUPLICATE
    with auth.engine.connect() as db:
        rows = db.execute(select(connections.c.access_token, connections.c.refresh_token)).all()
    assert rows == [(None, None)]
    unauthenticated(
        auth.stub("SessionService").ResolveSession,
        auth_pb2.ResolveSessionRequest(session_token=completed.session.session_token),
    )
    with pytest.raises(grpc.RpcError) as gone:
        auth.stub("TokenService").GetAccessToken(
            auth_pb2.GetAccessTokenRequest(tenant_id=tenant.id, upstream=auth_pb2.UPSTREAM_IKAS)
        )
    assert isinstance(error_from_rpc(gone.value), Conflict)

    purgers = [RecordingPurger("catalog"), RecordingPurger("orders")]
    now = build(auth.settings, engine=auth.engine, purgers=purgers)
    first = now.run_due_purges()
    assert (first.personal_data_purged, first.tenants_deleted) == (1, 0)
    assert now.run_due_purges().personal_data_purged == 0  # done once
    with auth.engine.connect() as db:
        assert db.scalar(select(tenants.c.contact_email).where(tenants.c.id == tenant.id)) is None

    later = build(auth.settings, engine=auth.engine, purgers=purgers, clock=Later(timedelta(days=31)))
    assert later.run_due_purges().tenants_deleted == 1
    assert [scope for _, scope in purgers[0].calls] == ["personal_data", "all"]
    assert purgers[1].calls == purgers[0].calls
    with auth.engine.connect() as db:
        assert db.execute(select(tenants.c.id)).all() == []
        assert db.execute(select(connections.c.tenant_id)).all() == []
