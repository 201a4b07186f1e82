"""FortnoxClient against the sandbox: the warehouse endpoints (/api/warehouse)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge_platform.errors import UpstreamRejected
from bridge_upstreams.fortnox.client import FortnoxClient

DEMO_TENANT = "1001"
Fortnox = Any


def test_activation_flag(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    assert c.warehouse_activated(DEMO_TENANT) is False
    fortnox.admin.post(f"/companies/{DEMO_TENANT}/warehouse", {"activated": True})
    assert c.warehouse_activated(DEMO_TENANT) is True


def test_stock_taking_sets_stock_absolutely(fortnox: Fortnox) -> None:
    fortnox.admin.post(f"/companies/{DEMO_TENANT}/warehouse", {"activated": True})
    c: FortnoxClient = fortnox.client
    points = c.stock_points(DEMO_TENANT)
    assert points
    point = points[0]
    before = c.stock_balances(DEMO_TENANT, ["FX-2002"], [point.code])
    assert before
    assert before[0].in_stock == Decimal(150)

    taking = c.create_stock_taking(DEMO_TENANT, name="Bridge sync", responsible="Bridge")
    assert taking.state == "planning"
    head = {"name": "Bridge sync", "responsible": "Bridge", "state": "started", "date": date.today().isoformat()}
    c.update_stock_taking(DEMO_TENANT, taking.id, head)
    c.add_stock_taking_rows(DEMO_TENANT, taking.id, [{"itemId": "FX-2002", "stockPointId": point.id}])
    rows = c.stock_taking_rows(DEMO_TENANT, taking.id)
    assert [row["itemId"] for row in rows] == ["FX-2002"]
    counted = {**head, "rows": [{"itemId": "FX-2002", "stockPointId": point.id, "stockTakenQuantity": Decimal("42.5")}]}
    c.update_stock_taking(DEMO_TENANT, taking.id, counted)
    c.release_stock_taking(DEMO_TENANT, taking.id)

    after = c.stock_balances(DEMO_TENANT, ["FX-2002"], [point.code])
    assert after[0].in_stock == Decimal("42.5")
    released = c.get_stock_taking(DEMO_TENANT, taking.id)
    assert released is not None
    assert released.state == "completed"


def test_warehouse_errors_use_the_flat_shape(fortnox: Fortnox) -> None:
    fortnox.admin.post(f"/companies/{DEMO_TENANT}/warehouse", {"activated": True})
    c: FortnoxClient = fortnox.client
    taking = c.create_stock_taking(DEMO_TENANT, name="Early", responsible="Bridge")
    with pytest.raises(UpstreamRejected) as caught:
        c.release_stock_taking(DEMO_TENANT, taking.id)  # still planning
    assert caught.value.status == 400
    assert caught.value.upstream_code == "invalid"
    assert caught.value.extra["fortnox_message"]
