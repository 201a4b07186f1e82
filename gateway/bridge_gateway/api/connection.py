"""The tenant's connections (product.md §1.3, §1.5, §1.7): status, Fortnox consent URL, disconnect."""

from __future__ import annotations

from fastapi import APIRouter, Response

from bridge_gateway.models import AuthorizeUrl, Connection
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant, Settings

router = APIRouter(prefix="/api/v1/connection", tags=["connection"])


@router.get("", responses=responses(401, 503))
def get_connection(tenant: CurrentTenant, clients: Clients) -> Connection:
    """The ikas store and the Fortnox company of the tenant, with their status."""
    return clients.auth.get_connection(tenant.id)


@router.post("/fortnox/authorize", responses=responses(401, 403, 503))
def authorize_fortnox(tenant: CurrentTenant, clients: Clients, settings: Settings) -> AuthorizeUrl:
    """The Fortnox consent URL (single-use state, 10 minutes, bound to this tenant); open it in a new window."""
    url = clients.auth.begin_fortnox_connect(tenant.id, settings.fortnox_callback_url)
    return AuthorizeUrl(authorize_url=url)


@router.delete("/fortnox", status_code=204, response_class=Response, responses=responses(401, 403, 409, 503))
def disconnect_fortnox(tenant: CurrentTenant, clients: Clients) -> Response:
    """Revokes Bridge's access at Fortnox and deletes the tokens; relations and history stay."""
    clients.auth.disconnect_fortnox(tenant.id)
    return Response(status_code=204)
