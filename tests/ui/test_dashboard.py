"""The dashboard in a real browser (issue #9, product.md §7): Debian's chromium signed in as ikas opens the app, on
this module's own stack with both sandboxes. Elements are found by role and accessible name, the names the tabs
promise (the dashboard's accessible-name contract); every wait is Playwright's auto-waiting `expect`.

The tests go the way a merchant does, and each arranges what it needs over the REST API (tests/merchants.py), so
any one of them also runs alone: sign in and move between tabs; connect Fortnox through the sandbox's consent
window; change, save and refuse settings; start a sync and watch its progress; the product lines' statuses, an
error's tooltip and unlinking; send an order and download its invoice PDF; a screenshot of every tab.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.merchants import FINISHED, RUNS, Urls, connect_fortnox, run_now, started, wait_for
from tests.test_orders_api import related_skus, sendable
from tests.ui.conftest import STORE, VIEWPORT

DEMO_AB: Final = 1001  # the Fortnox sandbox's demo company
SETTINGS: Final = "/api/v1/settings"
PRODUCTS: Final = "/api/v1/products"
ORDERS: Final = "/api/v1/orders"
CONNECTION: Final = "/api/v1/connection"
LONG_AGO: Final = "2020-01-01T00:00:00+00:00"
RUN_TIMEOUT_MS: Final = 120_000
REFUSAL: Final = "The sandbox refused this request"
COUNTS: Final = re.compile(r"\d+ created, \d+ updated, \d+ unchanged, \d+ failed")
GREEN, RED = "rgb(26, 127, 55)", "rgb(207, 34, 46)"  # app.css --green and --red: the status dots


# ---- arranging over the REST API


def fortnox_status(merchant: httpx.Client) -> str:
    status: str = merchant.get(CONNECTION).json()["fortnox"]["status"]
    return status


def ensure_connected(urls: Urls, merchant: httpx.Client) -> None:
    if fortnox_status(merchant) != "connected":
        connect_fortnox(urls, merchant, DEMO_AB)


def save_settings(merchant: httpx.Client, section: str, *, confirm_reset: bool = False, **values: Any) -> None:
    document = merchant.get(SETTINGS).json()
    document[section].update(values)
    params = {"confirm_reset": "true"} if confirm_reset else {}
    saved = merchant.put(SETTINGS, json=document, params=params)
    assert saved.status_code == 200, saved.text


def all_of(merchant: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = merchant.get(path, params={**params, "page": page, "page_size": 200}).json()
        found.extend(body["items"])
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def orders_for_manual_sending(merchant: httpx.Client) -> None:
    """Every demo order goes through the runs, none is sent by them: sending is the button's."""
    save_settings(
        merchant,
        "orders",
        sync_automatically=False,
        sync_from=LONG_AGO,
        create_orders=False,
        create_invoice=True,
        send_invoice_email=False,
    )


@pytest.fixture(scope="module")
def catalog(urls: Urls, merchant: httpx.Client) -> dict[str, dict[str, Any]]:
    """A product run in fortnox_to_ikas mode after matching by SKU, in which ikas refuses one call: the line whose
    write needed it is red with ikas's message, the others are green (one line's failure never stops the others).
    Answers one green and the red line."""
    ensure_connected(urls, merchant)
    save_settings(  # no automatic sync: the ikas webhooks of the products this run creates wake no other run
        merchant,
        "products",
        confirm_reset=True,
        sync_mode="fortnox_to_ikas",
        sync_automatically=False,
        create_new=True,
        update_existing=True,
    )
    (match,) = started(merchant.post(f"{PRODUCTS}/match"))
    assert wait_for(merchant, match["id"])["state"] == "succeeded"
    refusal = {
        "kind": "status",
        "status": 400,
        "method": "POST",
        "path": "graphql",
        "key": STORE,
        "times": 1,
        "body": {"errors": [{"message": REFUSAL, "extensions": {"code": "BAD_USER_INPUT"}}]},
    }
    assert httpx.post(f"{urls.ikas}/__admin/faults", json=refusal, timeout=10).status_code == 200
    try:
        (run,) = run_now(merchant, "products")
    finally:
        httpx.delete(f"{urls.ikas}/__admin/faults", timeout=10)
    assert run["state"] == "partially_failed", run
    lines = all_of(merchant, PRODUCTS)
    (red,) = [line for line in lines if line["status"] == "error"]
    assert REFUSAL in red["error"]["message"], red

    # A green line that its SKU finds alone (no other line's name or SKU contains it) and whose link names it alone.
    def alone(line: dict[str, Any]) -> bool:
        others = [x for x in lines if x["id"] != line["id"]]
        return all(line["sku"] not in f"{x['name']} {x['sku']}" and line["name"] != x["name"] for x in others)

    green = next(line for line in lines if line["status"] == "synced" and line["sku"] and alone(line))
    return {"green": green, "red": red}


# ---- finding things on the page


def open_tab(page: Page, name: str) -> Locator:
    tab = page.get_by_role("tab", name=name)
    if tab.get_attribute("aria-selected") != "true":  # a click on the open tab reloads it, as a merchant expects
        tab.click()
    panel = page.get_by_role("tabpanel", name=name)
    expect(panel).to_be_visible()
    return panel


def search(panel: Locator, label: str, text: str) -> None:
    box = panel.get_by_label(label)
    box.fill(text)
    box.press("Enter")


def row_of(table: Locator, text: str) -> Locator:
    row = table.get_by_role("row").filter(has_text=text)
    expect(row).to_have_count(1)
    return row


def badge_of(row: Locator) -> Locator:
    return row.locator("[data-status]").first  # ui.js statusBadge: the dot and its word


def dot_colour(badge: Locator) -> str:
    colour: str = badge.locator(".dot").evaluate("dot => getComputedStyle(dot).backgroundColor")
    return colour


# ---- the tests, in the order a merchant goes


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


def test_authorize_with_fortnox_in_the_sandboxs_consent_window_connects(
    dashboard: Page, context: BrowserContext, merchant: httpx.Client
) -> None:
    if fortnox_status(merchant) != "disconnected":  # this test starts from a store without Fortnox
        assert merchant.delete(f"{CONNECTION}/fortnox").status_code == 204
    panel = open_tab(dashboard, "Settings")
    expect(panel.get_by_role("heading", name="Connection")).to_be_visible()
    status = panel.get_by_label("Fortnox status")
    expect(status).to_have_text("not connected")

    with context.expect_page() as opened:
        panel.get_by_role("button", name="Authorize with Fortnox").click()
    consent = opened.value
    expect(consent).to_have_title(re.compile("Fortnox"))
    consent.get_by_label("Company").select_option(str(DEMO_AB))
    with consent.expect_event("close"):  # the callback page tells the dashboard, then closes its window
        consent.get_by_role("button", name="Approve").click()

    expect(status).to_have_text("connected")
    expect(panel).to_contain_text("Demo AB")  # the connected Fortnox company (product.md §7)
    expect(panel.get_by_role("button", name="Disconnect from Fortnox")).to_be_visible()
    connection = merchant.get(CONNECTION).json()["fortnox"]
    assert connection["status"] == "connected", connection


def test_settings_show_unsaved_changes_save_survive_a_reload_and_show_a_refusal_next_to_its_field(
    dashboard: Page, urls: Urls, merchant: httpx.Client
) -> None:
    ensure_connected(urls, merchant)
    save_settings(merchant, "orders", follow_refunds=True, unit_source="base_unit", unit_attribute=None)
    dashboard.reload()
    panel = open_tab(dashboard, "Settings")
    for legend in ("Products", "Stock", "Orders"):
        expect(panel.get_by_role("group", name=legend)).to_be_visible()
    follow_refunds = panel.get_by_label("Follow refunds")
    expect(follow_refunds).to_be_checked()
    unsaved = panel.get_by_text("Unsaved changes")
    expect(unsaved).to_be_hidden()

    follow_refunds.set_checked(False)
    expect(unsaved).to_be_visible()
    panel.get_by_role("button", name="Save settings").click()

    expect(dashboard.get_by_text("Settings saved")).to_be_visible()
    expect(unsaved).to_be_hidden()
    assert merchant.get(SETTINGS).json()["orders"]["follow_refunds"] is False
    dashboard.reload()
    panel = open_tab(dashboard, "Settings")
    expect(panel.get_by_label("Follow refunds")).not_to_be_checked()

    # orders.unit_source "attribute" needs the attribute's name: the API refuses it (422) and says so at the field.
    panel.get_by_label("Row unit from").select_option("attribute")
    unit_attribute = panel.get_by_label("Unit attribute")
    unit_attribute.fill("")
    panel.get_by_role("button", name="Save settings").click()

    expect(unit_attribute).to_have_attribute("aria-invalid", "true")
    described_by = (unit_attribute.get_attribute("aria-describedby") or "").split()
    assert described_by, "the refused field names its error in aria-describedby"
    error = panel.locator(", ".join(f"[id='{name}'].field-error" for name in described_by))
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"required|attribute", re.IGNORECASE))
    expect(unit_attribute).to_have_accessible_description(re.compile(r"required|attribute", re.IGNORECASE))
    expect(unsaved).to_be_visible()  # nothing was stored
    assert merchant.get(SETTINGS).json()["orders"]["unit_source"] == "base_unit"


def test_start_synchronisation_now_shows_each_runs_progress_to_the_end_without_a_reload(
    dashboard: Page, urls: Urls, merchant: httpx.Client
) -> None:
    ensure_connected(urls, merchant)
    orders_for_manual_sending(merchant)
    panel = open_tab(dashboard, "Orders")
    dashboard.evaluate("window.bridgeTestSamePage = true")  # gone if the page reloads

    panel.get_by_role("button", name="Start synchronisation now").click()

    progress = panel.get_by_role("region", name="Synchronisation progress")
    expect(progress.get_by_role("progressbar").first).to_be_visible()
    views = progress.locator("[data-run-id]")
    unfinished = progress.locator("[data-run-id][data-state='queued'], [data-run-id][data-state='running']")
    expect(unfinished).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    assert views.count() >= 1
    for index in range(views.count()):
        view = views.nth(index)
        run = merchant.get(f"{RUNS}/{view.get_attribute('data-run-id')}").json()
        assert run["state"] in FINISHED, run
        expect(view).to_have_attribute("data-state", run["state"])
        expect(view).to_contain_text(COUNTS)
        counts = run["counts"]
        expect(view).to_contain_text(
            f"{counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed"
        )
        # A finished run's bar is full, never left indeterminate (position -1: still animating as if at work).
        position = view.get_by_role("progressbar").evaluate("bar => bar.position")
        assert position == 1, f"the {run['scope']} run is {run['state']} ({run['progress']}), its bar at {position}"
    assert dashboard.evaluate("window.bridgeTestSamePage") is True
    expect(panel).to_contain_text("Last order sync")


def test_product_lines_show_green_and_red_the_errors_tooltip_and_unlinking_makes_a_line_ignored(
    dashboard: Page, merchant: httpx.Client, catalog: dict[str, dict[str, Any]]
) -> None:
    green, red = catalog["green"], catalog["red"]
    panel = open_tab(dashboard, "Products")
    for button in ("Match by SKU", "Preview", "Reset all product relations"):
        expect(panel.get_by_role("button", name=button)).to_be_visible()
    expect(panel.get_by_label("Status filter")).to_be_visible()
    expect(panel).to_contain_text("Last product sync")
    expect(panel).to_contain_text("Last stock sync")
    table = panel.get_by_role("table", name="Product lines")

    search(panel, "Search products", red["sku"])
    red_row = row_of(table, red["sku"])
    red_badge = badge_of(red_row)
    expect(red_badge).to_have_attribute("data-status", "error")
    assert dot_colour(red_badge) == RED
    tooltip = red_row.get_by_role("tooltip")
    expect(tooltip).to_be_hidden()
    red_badge.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(red["error"]["message"])
    dashboard.mouse.move(0, 0)
    expect(tooltip).to_be_hidden()
    red_badge.focus()  # the same details by keyboard
    expect(tooltip).to_be_visible()

    search(panel, "Search products", green["sku"])
    green_row = row_of(table, green["sku"])
    green_badge = badge_of(green_row)
    expect(green_badge).to_have_attribute("data-status", "synced")
    assert dot_colour(green_badge) == GREEN
    expect(green_row.get_by_role("link", name=green["name"])).to_have_attribute("href", green["ikas_url"])
    for button in ("Sync stock", "Export now", "Timeline"):
        expect(green_row.get_by_role("button", name=button)).to_be_visible()

    green_row.get_by_role("button", name="Unlink").click()

    expect(green_badge).to_have_attribute("data-status", "ignored")
    expect(green_row.get_by_role("button", name="Relink")).to_be_visible()
    (line,) = [x for x in all_of(merchant, PRODUCTS, q=green["sku"]) if x["id"] == green["id"]]
    assert line["status"] == "ignored", line


def test_send_an_order_then_download_its_invoice_pdf(
    dashboard: Page, urls: Urls, merchant: httpx.Client, catalog: dict[str, dict[str, Any]]
) -> None:
    orders_for_manual_sending(merchant)
    run_now(merchant, "orders")
    ready = sendable(urls, STORE, related_skus(merchant))
    order = next(o for o in all_of(merchant, ORDERS) if o["ikas_order_id"] in ready and o["status"] == "outgoing")
    number = order["ikas_order_number"]
    panel = open_tab(dashboard, "Orders")
    expect(panel.get_by_label("Status filter")).to_be_visible()
    table = panel.get_by_role("table", name="Orders")

    search(panel, "Search orders", number)
    row = table.get_by_role("row").filter(has=dashboard.get_by_role("link", name=number, exact=True))
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=number, exact=True)).to_have_attribute("href", order["ikas_url"])
    expect(badge_of(row)).to_have_attribute("data-status", "outgoing")
    row.get_by_role("button", name="Send").click()

    expect(badge_of(row)).to_have_attribute("data-status", re.compile(r"^(created|fulfilled)$"))
    with dashboard.expect_download() as downloading:
        row.get_by_role("button", name="Download PDF").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    sent = merchant.get(f"{ORDERS}/{order['id']}").json()
    assert sent["fortnox_order_number"], sent
    assert sent["fortnox_invoice_number"], sent


def test_every_tab_is_screenshotted_and_fits_a_laptop_screen(
    dashboard: Page, urls: Urls, merchant: httpx.Client, catalog: dict[str, dict[str, Any]], artifacts: Path
) -> None:
    ready = {
        "Settings": lambda panel: panel.get_by_label("Fortnox status"),
        "Products": lambda panel: panel.get_by_role("table", name="Product lines"),
        "Orders": lambda panel: panel.get_by_role("table", name="Orders"),
    }
    orders_for_manual_sending(merchant)
    run_now(merchant, "orders")  # the orders table has rows whatever ran before
    for name, shown in ready.items():
        panel = open_tab(dashboard, name)
        expect(shown(panel)).to_be_visible()
        path = artifacts / f"{name.lower()}.png"
        dashboard.screenshot(path=path, full_page=True)

        assert path.read_bytes().startswith(b"\x89PNG"), path
        page_width = dashboard.evaluate("document.documentElement.scrollWidth")
        assert page_width <= VIEWPORT["width"], f"the {name} tab is {page_width} px wide: it scrolls sideways"
