"""Fortnox connect, tokens, disconnect and needs_reauth against the Fortnox sandbox over HTTP, on both engines."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from sqlalchemy import inspect, select, text, update

from bridge.auth.v1 import auth_pb2
from bridge_auth.adapters.db.tables import connections, tenants
from bridge_auth.adapters.vault import AesGcmVault, key_id
from bridge_auth.app.tokens import token_context
from bridge_auth.bootstrap import build
from bridge_auth.domain.connections import Upstream
from bridge_platform.errors import Conflict, InvalidInput
from bridge_platform.grpc_errors import error_from_rpc
from bridge_upstreams.fortnox.oauth import FortnoxOAuth

from .conftest import FORTNOX_REDIRECT, SERVICE_TOKEN, Auth, consent

FORTNOX = auth_pb2.UPSTREAM_FORTNOX


def connect_fortnox(auth: Auth, tenant_id: str, company: str = "1001") -> auth_pb2.CompleteFortnoxConnectResponse:
    connections_stub = auth.stub("ConnectionService")
    url = connections_stub.BeginFortnoxConnect(
        auth_pb2.BeginFortnoxConnectRequest(tenant_id=tenant_id, redirect_uri=FORTNOX_REDIRECT)
    ).authorize_url
    back = consent(url, tenant_id=company)
    return connections_stub.CompleteFortnoxConnect(
        auth_pb2.CompleteFortnoxConnectRequest(state=back["state"], code=back["code"], redirect_uri=FORTNOX_REDIRECT)
    )


def dev_tenant(auth: Auth, store: str = "demo") -> str:
    request = auth_pb2.EnsureDevelopmentTenantRequest(store_name=store)
    return str(auth.stub("TenantService").EnsureDevelopmentTenant(request).tenant.id)


def expire_access_token(auth: Auth, tenant_id: str) -> None:
    with auth.engine.begin() as db:
        db.execute(
            update(connections)
            .where(connections.c.tenant_id == tenant_id, connections.c.upstream == "fortnox")
            .values(access_expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )


def token_calls(fortnox_url: str) -> int:
    calls = httpx.get(f"{fortnox_url}/__admin/calls", timeout=30).json()
    return sum(1 for call in calls if call["method"] == "POST" and call["path"] == "/oauth-v1/token")


def stored_refresh_token(auth: Auth, tenant_id: str) -> str:
    with auth.engine.connect() as db:
        sealed = db.scalar(
            select(connections.c.refresh_token).where(
                connections.c.tenant_id == tenant_id, connections.c.upstream == "fortnox"
            )
        )
    assert isinstance(sealed, str)
    return AesGcmVault(auth.settings.vault_keys()).open(sealed, context=token_context(tenant_id, "fortnox", "refresh"))


def test_connect_read_company_and_use_the_token(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)

    completed = connect_fortnox(auth, tenant_id)

    assert completed.tenant_id == tenant_id
    fortnox = completed.fortnox
    assert fortnox.status == auth_pb2.CONNECTION_STATUS_CONNECTED
    assert fortnox.company_name == "Demo AB"
    assert fortnox.organisation_number
    assert "companyinformation" in fortnox.scopes
    card = auth.stub("ConnectionService").GetConnection(auth_pb2.GetConnectionRequest(tenant_id=tenant_id))
    assert card.fortnox == fortnox
    assert card.ikas.store_name == "demo"
    token = auth.stub("TokenService").GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX)
    )
    answer = httpx.get(
        f"{fortnox_url}/3/companyinformation", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.json()["CompanyInformation"]["CompanyName"] == "Demo AB"


def test_a_declined_consent_and_a_replayed_state_change_nothing(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)
    connections_stub = auth.stub("ConnectionService")
    url = connections_stub.BeginFortnoxConnect(
        auth_pb2.BeginFortnoxConnectRequest(tenant_id=tenant_id, redirect_uri=FORTNOX_REDIRECT)
    ).authorize_url
    back = consent(url, decision="deny")
    assert back["error"] == "access_denied"

    with pytest.raises(grpc.RpcError) as declined:
        connections_stub.CompleteFortnoxConnect(
            auth_pb2.CompleteFortnoxConnectRequest(state=back["state"], error=back["error"])
        )
    assert declined.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as replayed:
        connections_stub.CompleteFortnoxConnect(auth_pb2.CompleteFortnoxConnectRequest(state=back["state"], code="x"))
    assert replayed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert isinstance(error_from_rpc(replayed.value), InvalidInput)
    card = connections_stub.GetConnection(auth_pb2.GetConnectionRequest(tenant_id=tenant_id))
    assert card.fortnox.status == auth_pb2.CONNECTION_STATUS_DISCONNECTED
    assert card.fortnox.company_name == ""


def test_another_company_is_refused_until_forgotten(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id, "1001")

    with pytest.raises(grpc.RpcError) as refused:
        connect_fortnox(auth, tenant_id, "1002")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "connected to another company; reset the product relations first" in (refused.value.details() or "")

    auth.stub("ConnectionService").ForgetFortnoxCompany(auth_pb2.ForgetFortnoxCompanyRequest(tenant_id=tenant_id))
    assert connect_fortnox(auth, tenant_id, "1002").fortnox.company_name == "Andra AB"


def test_disconnect_revokes_at_fortnox_and_keeps_the_company(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id)
    refresh_token = stored_refresh_token(auth, tenant_id)

    auth.stub("ConnectionService").DisconnectFortnox(auth_pb2.DisconnectFortnoxRequest(tenant_id=tenant_id))

    revoked = httpx.post(
        f"{fortnox_url}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=("bridge-local", "bridge-local-secret"),
        timeout=30,
    )
    assert revoked.json()["error"] == "invalid_grant"
    card = auth.stub("ConnectionService").GetConnection(auth_pb2.GetConnectionRequest(tenant_id=tenant_id))
    assert card.fortnox.status == auth_pb2.CONNECTION_STATUS_DISCONNECTED
    assert card.fortnox.company_name == "Demo AB"
    with auth.engine.connect() as db:
        row = db.execute(select(connections).where(connections.c.tenant_id == tenant_id)).one()
    assert (row.access_token, row.refresh_token) == (None, None)
    with pytest.raises(grpc.RpcError) as failed:
        auth.stub("TokenService").GetAccessToken(auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX))
    error = error_from_rpc(failed.value)
    assert isinstance(error, Conflict)
    assert error.details == {"reason": "disconnected"}


def test_a_revoked_refresh_token_means_needs_reauth_with_an_alert_mail(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id)
    with auth.engine.begin() as db:
        db.execute(update(tenants).where(tenants.c.id == tenant_id).values(contact_email="owner@demo.example"))
    oauth = FortnoxOAuth(
        httpx.Client(), client_id="bridge-local", client_secret="bridge-local-secret", auth_url=fortnox_url
    )
    oauth.revoke(stored_refresh_token(auth, tenant_id))  # the merchant revoked Bridge in Fortnox
    expire_access_token(auth, tenant_id)

    with pytest.raises(grpc.RpcError) as failed:
        auth.stub("TokenService").GetAccessToken(auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX))

    assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    error = error_from_rpc(failed.value)
    assert isinstance(error, Conflict)
    assert error.details == {"reason": "needs_reauth"}
    card = auth.stub("ConnectionService").GetConnection(auth_pb2.GetConnectionRequest(tenant_id=tenant_id))
    assert card.fortnox.status == auth_pb2.CONNECTION_STATUS_NEEDS_REAUTH
    mails = list((auth.settings.data_dir / "outbox").glob("*.eml"))
    assert len(mails) == 1
    assert "To: owner@demo.example" in mails[0].read_text()
    assert "reconnect Fortnox" in mails[0].read_text()

    connect_fortnox(auth, tenant_id)  # reconnecting ends it
    token = auth.stub("TokenService").GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX)
    )
    assert token.access_token


def test_no_token_or_secret_is_stored_in_plain_text(auth: Auth, fortnox_url: str) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id)
    session = auth.stub("SessionService").OpenDevelopmentSession(
        auth_pb2.OpenDevelopmentSessionRequest(store_name="demo")
    )
    expire_access_token(auth, tenant_id)
    token = auth.stub("TokenService").GetAccessToken(
        auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX)
    )
    secrets = {
        token.access_token,
        stored_refresh_token(auth, tenant_id),
        session.session.session_token,
        session.session.csrf_token,
        "bridge-local-secret",
        SERVICE_TOKEN,
    }
    # every JWT segment too: a token stored split or re-encoded would still show its signature
    secrets |= {part for secret in list(secrets) for part in secret.split(".") if len(part) >= 16}

    with auth.engine.connect() as db:
        dump = "\n".join(
            repr(row) for name in inspect(db).get_table_names() for row in db.execute(text(f'SELECT * FROM "{name}"'))
        )

    assert tenant_id in dump  # the scan does see the data
    assert [secret for secret in secrets if secret in dump] == []


def test_keys_rotate_without_losing_stored_tokens(auth: Auth, fortnox_url: str, tmp_path: Path) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id)
    request = auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=FORTNOX)
    before = auth.stub("TokenService").GetAccessToken(request).access_token
    old_key = base64.b64decode((tmp_path / "vault.key").read_text().strip())
    new_key = bytes(range(100, 132))
    rotated = build(auth.settings, engine=auth.engine, vault=AesGcmVault([new_key, old_key]), purgers=[])

    assert rotated.get_access_token(tenant_id, Upstream.FORTNOX).token == before  # the old key still reads
    expire_access_token(auth, tenant_id)
    fresh = rotated.get_access_token(tenant_id, Upstream.FORTNOX).token  # sealed with the new key now
    with auth.engine.connect() as db:
        sealed = db.scalar(select(connections.c.access_token).where(connections.c.tenant_id == tenant_id))

    assert isinstance(sealed, str)
    assert sealed.split(".")[1] == key_id(new_key)
    assert rotated.get_access_token(tenant_id, Upstream.FORTNOX).token == fresh
    with pytest.raises(ValueError, match="no vault key"):
        AesGcmVault([old_key]).open(sealed, context=token_context(tenant_id, "fortnox", "access"))
