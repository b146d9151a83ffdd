"""Real headless Chromium for the pages people open: Playwright driving Debian's ``/usr/bin/chromium``.

Playwright's own browser builds are never downloaded (this network cannot reach them): the tests drive the
system Chromium that ``scripts/install-system-deps`` installs. Each launch gets a fresh, empty profile
(Playwright makes a temporary ``--user-data-dir`` for a non-persistent launch and deletes it on close), and
each test a fresh browser context, so no cookie or cache crosses tests.

Every test collected under ``tests/browser/`` is marked ``browser``; the PostgreSQL pass of
``scripts/run-tests`` leaves them out (they exercise pages, not the database backend).

Reuse: ``browser`` (one per test process), ``context`` and ``page`` (per test, desktop size),
``mobile_page`` (375 px wide, touch), and :func:`open_url`. A test fails when a page it opened logged a
JavaScript error or a Content-Security-Policy violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Response, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Run as root on a closed network: no sandbox, nothing phoning home, no QUIC, no first-run dialogs.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Generous: the machine is shared with other test processes. A wait ends as soon as its condition holds.
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 375, "height": 812}
expect.set_options(timeout=TIMEOUT_MS)

_HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests ``browser`` before tests/conftest.py sorts the PostgreSQL pass."""
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps (it installs Debian's chromium)",
                    pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=list(CHROMIUM_ARGS))
        yield launched
        launched.close()


def _context(browser: Browser, **options: object) -> BrowserContext:
    context = browser.new_context(locale="en-US", **options)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


class _PageProblems:
    """JavaScript errors and console errors (CSP violations among them) of every page of a context."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # An error status of the document itself (the 404/410 pages under test) is logged as a
        # failed load; that is the server's answer, not a fault of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.seen.append(f"{page.url}: {message.text}")


@contextmanager
def _watched(context: BrowserContext) -> Iterator[BrowserContext]:
    problems = _PageProblems()
    context.on("page", problems.watch)
    try:
        yield context
    finally:
        context.close()
    if problems.seen:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems.seen), pytrace=False)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop-sized browser context; open several pages in it for several tabs."""
    with _watched(_context(browser, viewport=DESKTOP)) as watched:
        yield watched


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def mobile_page(browser: Browser) -> Iterator[Page]:
    """A 375 px wide phone screen with touch, in a context of its own."""
    with _watched(_context(browser, viewport=MOBILE, is_mobile=True, has_touch=True,
                           device_scale_factor=2)) as watched:
        yield watched.new_page()


def open_url(page: Page, url: str, *, status: int = 200) -> Response:
    """Navigate ``page`` to ``url`` and check the document's HTTP status; returns the response."""
    try:
        response = page.goto(url, wait_until="load")
    except Error as exc:
        raise AssertionError(f"the browser could not open {url}: {exc}") from None
    assert response is not None, f"no response for {url}"
    assert response.status == status, f"{url}: HTTP {response.status}, expected {status}"
    return response
