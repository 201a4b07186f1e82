"""The dashboard in a real browser (issue #9, product.md §7): Debian's chromium signed in as ikas opens the app, on
this module's own stack with both sandboxes. Elements are found by role and accessible name, the names the tabs
promise (the dashboard's accessible-name contract); every wait is Playwright's auto-waiting `expect`.

The tests go the way a merchant does, and each arranges what it needs over the REST API (tests/merchants.py), so
any one of them also runs alone.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.conftest import STORE


def test_signed_parameters_open_the_dashboard_and_arrow_keys_move_between_tabs(dashboard: Page) -> None:
    page = dashboard
    tabs = page.get_by_role("tab")

    expect(page.locator("#store-name")).to_have_text(STORE)
    expect(tabs).to_have_text(["Settings", "Products", "Orders"])
    assert "signature" not in page.url  # the signed parameters never stay in the address bar
    settings, products, orders = (page.get_by_role("tab", name=name) for name in ("Settings", "Products", "Orders"))
    expect(settings).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Settings")).to_be_visible()

    settings.focus()
    for key, tab, name in [
        ("ArrowRight", products, "Products"),
        ("ArrowRight", orders, "Orders"),
        ("ArrowRight", settings, "Settings"),  # round again
        ("ArrowLeft", orders, "Orders"),
        ("Home", settings, "Settings"),
        ("End", orders, "Orders"),
    ]:
        page.keyboard.press(key)
        expect(tab).to_be_focused()
        expect(tab).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("tabpanel", name=name)).to_be_visible()
        expect(page.get_by_role("tabpanel")).to_have_count(1)  # the other two panels are hidden
    expect(page).to_have_url(re.compile(r"/#orders$"))
