"""FortnoxClient against the sandbox: company, articles, prices, units, currencies."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge_platform.errors import UpstreamRejected
from bridge_upstreams.fortnox.client import FortnoxClient

DEMO_TENANT, OTHER_TENANT = "1001", "1002"
Fortnox = Any  # the conftest's bundle (client, admin, transport, tokens); conftest is not importable


def test_company_information_names_the_tenant(fortnox: Fortnox) -> None:
    company = fortnox.client.company_information(DEMO_TENANT)
    assert company.database_number == DEMO_TENANT
    assert company.name == "Demo AB"


def test_article_create_get_update_delete(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    created = c.create_article(DEMO_TENANT, {"ArticleNumber": "BR-1", "Description": "Bridge mug", "Unit": "st"})
    assert created.number == "BR-1"
    got = c.get_article(DEMO_TENANT, "BR-1")
    assert got is not None
    assert got.description == "Bridge mug"
    updated = c.update_article(DEMO_TENANT, "BR-1", {"Description": "Bridge mug, blue", "QuantityInStock": 12})
    assert updated.description == "Bridge mug, blue"
    assert updated.quantity_in_stock == Decimal(12)
    assert c.delete_article(DEMO_TENANT, "BR-1") is True
    assert c.get_article(DEMO_TENANT, "BR-1") is None
    assert c.delete_article(DEMO_TENANT, "BR-1") is False


def test_quantities_come_back_as_decimals(fortnox: Fortnox) -> None:
    article = fortnox.client.get_article(DEMO_TENANT, "FX-2002")
    assert article is not None
    assert article.quantity_in_stock == Decimal(150)
    assert isinstance(article.disposable_quantity, Decimal)


def test_sales_price_is_read_only_and_the_rejection_is_translated(fortnox: Fortnox) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "BR-2", "Description": "x", "SalesPrice": 10})
    error = caught.value
    assert error.status == 400
    assert error.upstream_code is not None
    assert error.extra["fortnox_message"]  # Fortnox's Swedish text, kept for support
    assert error.extra["hint"]
    assert f"Fortnox code {error.upstream_code}" in error.detail
    assert "create article BR-2" in error.detail


def test_unknown_unit_is_translated_with_a_hint(fortnox: Fortnox) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "BR-3", "Description": "x", "Unit": "låda"})
    assert caught.value.upstream_code == "2000432"
    assert "unit was not found" in caught.value.detail
    assert "Settings > Units" in caught.value.extra["hint"]


def test_find_article_compares_exactly_after_the_substring_search(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    for number in ("A1001", "A100", "XA100"):
        c.create_article(DEMO_TENANT, {"ArticleNumber": number, "Description": number})
    found = c.find_article(DEMO_TENANT, "A100")
    assert found is not None
    assert found.number == "A100"
    assert c.find_article(DEMO_TENANT, "A10") is None
    assert c.find_article(DEMO_TENANT, "a100") is None


def test_tenants_do_not_see_each_other(fortnox: Fortnox) -> None:
    mine = fortnox.client.get_article(DEMO_TENANT, "DEMO-1005")
    theirs = fortnox.client.get_article(OTHER_TENANT, "DEMO-1005")
    assert mine is not None
    assert theirs is not None
    assert mine.description != theirs.description
    assert fortnox.client.get_article(OTHER_TENANT, "FX-2001") is None


def test_pagination_across_many_pages(fortnox: Fortnox) -> None:
    articles = [{"ArticleNumber": f"P-{n:05d}", "Description": f"Bulk {n}"} for n in range(1101)]
    fortnox.admin.post("/seed", {"companies": [{"tenant_id": 3001, "name": "Bulk AB", "articles": articles}]})
    fortnox.admin.http.delete("/__admin/calls")
    numbers = [article.number for article in fortnox.client.iter_articles("3001")]
    assert len(numbers) == 1101
    assert len(set(numbers)) == 1101
    pages = fortnox.admin.calls("GET", "/3/articles")
    assert len(pages) == 3
    assert all("limit=500" in call["query"] for call in pages)
    page = fortnox.client.articles_page("3001", 2, page_size=100)
    assert (page.current_page, page.total_pages, page.total_resources, len(page.items)) == (2, 12, 1101, 100)


def test_active_and_inactive_filters(fortnox: Fortnox) -> None:
    inactive = {article.number for article in fortnox.client.iter_articles(DEMO_TENANT, active=False)}
    active = {article.number for article in fortnox.client.iter_articles(DEMO_TENANT, active=True)}
    assert "FX-2005" in inactive
    assert "FX-2005" not in active
    assert "FX-2001" in active


def test_changed_since_uses_stockholm_time(fortnox: Fortnox) -> None:
    sandbox_now = datetime.fromisoformat(fortnox.admin.now())
    fortnox.admin.post("/clock", {"advance_s": 600})
    fortnox.client.update_article(DEMO_TENANT, "FX-2004", {"Description": "Spare lid, new"})
    since = sandbox_now + timedelta(seconds=300)  # aware (UTC); sent as Stockholm local time
    changed = [article.number for article in fortnox.client.articles_changed_since(DEMO_TENANT, since)]
    assert changed == ["FX-2004"]
    query = fortnox.admin.calls("GET", "/3/articles")[-1]["query"]
    assert "lastmodified=" in query
    everything = list(fortnox.client.articles_changed_since(DEMO_TENANT, sandbox_now - timedelta(days=1)))
    assert len(everything) > 1


def test_prices_base_row_and_preselected_list(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    price_list = c.preselected_price_list(DEMO_TENANT)
    assert price_list is not None
    assert price_list.code == "A"
    base = c.get_price(DEMO_TENANT, "A", "DEMO-1005")
    assert base is not None
    assert base.price == Decimal("111.20")
    assert base.from_quantity == 0
    updated = c.update_price(DEMO_TENANT, "A", "DEMO-1005", Decimal("123.45"))
    assert updated.price == Decimal("123.45")
    article = c.get_article(DEMO_TENANT, "DEMO-1005")
    assert article is not None
    assert article.sales_price == Decimal("123.45")
    c.create_article(DEMO_TENANT, {"ArticleNumber": "BR-P", "Description": "priced"})
    assert c.get_price(DEMO_TENANT, "A", "BR-P") is not None  # base row made with the article
    tier = c.create_price(DEMO_TENANT, "A", "BR-P", Decimal("9.90"), from_quantity=10)
    assert tier.price == Decimal("9.90")
    assert tier.from_quantity == 10
    assert c.get_price(DEMO_TENANT, "A", "NOPE-1") is None


def test_units_and_currencies(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    assert c.get_unit(DEMO_TENANT, "st") is not None
    assert c.get_unit(DEMO_TENANT, "låda") is None
    created = c.create_unit(DEMO_TENANT, "låda", "Låda")
    assert created.code == "låda"
    assert c.get_unit(DEMO_TENANT, "låda") is not None
    euro = c.get_currency(DEMO_TENANT, "EUR")
    assert euro is not None
    assert euro.sell_rate == Decimal("11.45")
    assert c.get_currency(DEMO_TENANT, "XXX") is None
