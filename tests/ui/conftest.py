"""The browser rig (style.md §4 "Browser"): the whole stack with both sandboxes, started by scripts/dev.py for each
module, and Debian's chromium driven by Playwright's sync API, launched headless by path (Playwright's own browser
download is never used). One browser per module, a fresh context (cookies, storage) per test.

A merchant's browser signs in as ikas opens the app: the ikas sandbox's /__admin/dashboard-launch gives the signed
query parameters of an installed store, and the browser opens the gateway's `/?<signed parameters>`.

Screenshots go to the artifacts folder, BRIDGE_UI_ARTIFACTS or else <repo>/.artifacts/ui/ (git-ignored): the tab
screenshots of the tests, and a screenshot of the page whenever a test fails. The folder is named in pytest's
terminal summary, so CI's log says where to look.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, expect, sync_playwright

from tests.conftest import ROOT, DevProcess, running_stack
from tests.merchants import Urls, installed

STORE: Final = "demo"
VIEWPORT: Final = ViewportSize(width=1366, height=768)  # the laptop screen the dashboard must be readable on
EXPECT_TIMEOUT_MS: Final = 15_000  # a busy CI machine; runs get their own, longer waits
ARTIFACTS_KEY: Final = pytest.StashKey[Path]()
FAILED_KEY: Final = pytest.StashKey[bool]()


def artifacts_folder() -> Path:
    configured = os.environ.get("BRIDGE_UI_ARTIFACTS")
    return Path(configured).resolve() if configured else ROOT / ".artifacts" / "ui"


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The folder the browser tests write their screenshots to (named in the terminal summary)."""
    folder = artifacts_folder()
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTIFACTS_KEY] = folder
    return folder


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    folder = config.stash.get(ARTIFACTS_KEY, None)
    if folder is not None:
        terminalreporter.write_sep("-", "browser tests")
        terminalreporter.write_line(f"browser test screenshots: {folder}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Marks a failed test, so its page fixture leaves a screenshot of what the browser showed."""
    report = yield
    if report.failed:
        item.stash[FAILED_KEY] = True
    return report


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """The module's own stack: only the tests start work (no scheduled runs), so what a page shows is theirs."""
    with running_stack(tmp_path_factory, "ui", interrupt=True, BRIDGE_SYNC_INTERVAL_S="86400") as dev:
        yield dev


@pytest.fixture(scope="module")
def urls(ui_stack: DevProcess) -> Urls:
    return Urls.of(ui_stack)


@pytest.fixture(scope="module")
def merchant(urls: Urls) -> Iterator[httpx.Client]:
    """The store installed through the ikas sandbox's consent page; this client arranges what the pages show."""
    client = installed(urls, STORE)
    yield client
    client.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium (/usr/bin/chromium, which `make install` installs), headless."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "the browser tests need Debian's chromium on PATH: run `make install` "
            "(scripts/install_browser.sh: apt-get install --no-install-recommends chromium)"
        )
    launched = playwright.chromium.launch(executable_path=executable, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, urls: Urls) -> Iterator[BrowserContext]:
    """A fresh browser profile per test, at the gateway's public address (its cookies belong there)."""
    fresh = browser.new_context(base_url=urls.gateway, viewport=VIEWPORT, accept_downloads=True)
    fresh.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def dashboard(
    request: pytest.FixtureRequest, context: BrowserContext, urls: Urls, merchant: httpx.Client, artifacts: Path
) -> Iterator[Page]:
    """The dashboard, signed in through signed parameters as ikas opens the app (product.md §1.2)."""
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": STORE}, timeout=10)
    assert launch.status_code == 200, launch.text
    page = context.new_page()
    uncaught: list[str] = []  # exceptions and unhandled rejections in the dashboard's scripts
    page.on("pageerror", lambda error: uncaught.append(f"{error.name}: {error.message}"))
    page.goto(f"/?{launch.json()['query']}")
    expect(page.get_by_role("tablist", name="Dashboard")).to_be_visible()
    yield page
    if request.node.stash.get(FAILED_KEY, False) and not page.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        page.screenshot(path=artifacts / f"failed-{name}.png", full_page=True)
    assert not uncaught, f"the dashboard's scripts failed: {uncaught}"
