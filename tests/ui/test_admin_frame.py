"""The dashboard inside the ikas admin (product.md §7, ikas-api.md §3.1).

A host page on another site (a small server of the test's own on 127.0.0.1; the gateway is at localhost) frames
the gateway's `/?<signed parameters>` as the ikas admin does, answers App Bridge's REQUEST_TOKEN with the store's
dashboard JWT and records what the app posts to it. The framed dashboard must close the admin's loader, sign in
without relying on a cookie a framed site may not get (the gateway answers the dashboard at once in a frame), and
carry the token on its API calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.merchants import Urls
from tests.ui.conftest import STORE


def host_page(app_url: str, token: str) -> str:
    """The ikas admin in miniature: an iframe of the app and App Bridge's answers."""
    return f"""<!doctype html><html lang="en"><head><title>ikas admin</title></head><body>
<script>
  window.posted = [];
  window.addEventListener("message", (event) => {{
    const type = event.data && event.data.type;
    window.posted.push(type);
    if (type === "REQUEST_TOKEN") {{
      event.source.postMessage({{ type: "REQUEST_TOKEN_RESPONSE", data: {{ token: {json.dumps(token)} }} }}, "*");
    }}
  }});
</script>
<iframe id="app" title="Bridge" style="width: 1300px; height: 700px" src="{app_url}"></iframe>
</body></html>"""


@contextmanager
def admin_site(page_html: str) -> Iterator[str]:
    """Serves the host page over real HTTP: a page of its own address, as the admin is (a page a test route makes
    up has none, and Chrome's local network access checks then refuse to frame a local address in it)."""

    class Admin(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_dashboard_works_inside_the_ikas_admin_frame(context: BrowserContext, urls: Urls, merchant: object) -> None:
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": STORE}, timeout=10).json()
    page = context.new_page()
    api_calls: list[Request] = []
    page.on("request", lambda request: api_calls.append(request) if "/api/v1/" in request.url else None)
    with admin_site(host_page(f"{urls.gateway}/?{launch['query']}", launch["jwt"])) as admin:
        page.goto(f"{admin}/admin/apps/bridge")
        frame_shows_the_dashboard(page, launch["jwt"], api_calls)


def frame_shows_the_dashboard(page: Page, token: str, api_calls: list[Request]) -> None:
    app = page.frame_locator("#app")
    expect(app.get_by_role("tablist", name="Dashboard")).to_be_visible()
    expect(app.locator("#store-name")).to_have_text(STORE)
    expect(app.get_by_label("Fortnox status")).to_have_text("not connected")  # the Settings tab loaded its data
    page.wait_for_function("window.posted.includes('CLOSE_LOADER') && window.posted.includes('REQUEST_TOKEN')")
    assert api_calls, "the framed dashboard made no API call"
    assert {call.headers.get("authorization") for call in api_calls} == {f"JWT {token}"}

    app.get_by_role("tab", name="Orders").click()  # another tab's data comes the same way
    expect(app.get_by_role("button", name="Start synchronisation now")).to_be_visible()
    assert {call.headers.get("authorization") for call in api_calls} == {f"JWT {token}"}
