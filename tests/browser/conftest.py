"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download cannot be reached from our machines, so the tests launch the
`chromium` Debian package. Without it they skip, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""

import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db import connections

from core.choices import Role
from tests.factories import AssociateProfileFactory, CustomerFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sync_playwright():
    """Playwright's sync API entry point, or a skip (a failure with REQUIRE_BROWSER=1) saying what is missing."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (see requirements-dev.txt)")
    expect.set_options(timeout=TIMEOUT_MS)
    return sync_playwright


@pytest.fixture
def browser(sync_playwright, live_server, monkeypatch):
    """A headless Chromium for one test.

    Per test rather than per session: while Playwright's sync API is started, an asyncio loop runs
    in this thread, and the other tests of the session must not run inside it (Django's async
    safety checks, async_to_sync). Requesting live_server first starts the server, which shares
    this thread's database connections, before the loop runs.
    """
    # With that loop running, Django refuses ORM calls from this thread (SynchronousOnlyOperation).
    # The browser tests' ORM calls (factories, pytest-django flushing the database) are plain
    # synchronous code, so tell Django that is fine, for as long as the loop runs. Not for the
    # whole process: `manage.py check --deploy` (tests/core/test_settings.py) rightly fails when
    # it finds DJANGO_ALLOW_ASYNC_UNSAFE in its environment.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # While a loop runs in a thread, Django looks the thread's database connections up in a
    # separate, context-local store (asgiref's Local), so ORM calls from the test (factories, and
    # pytest-django's flush) would open new connections: ones the live server does not share (it
    # uses this thread's in-memory SQLite connection) and that lack the serialized data
    # serialized_rollback restores. Put the connections this thread already has in that store.
    thread_connections = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    for alias, connection in thread_connections.items():
        connections[alias] = connection
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield chromium
        chromium.close()
    finally:
        for alias in thread_connections:
            del connections[alias]
        playwright.stop()


@pytest.fixture
def page_errors():
    """What went wrong in the page, as the browser saw it: script errors, console errors (a
    Content-Security-Policy violation is one) and sub-resources (CSS, images) that failed to load."""
    return []


@pytest.fixture
def page(browser, live_server, page_errors):
    """A fresh tab, in its own browser context, whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def on_console(message):
        # A document answered with 4xx (a 403 page the test expects) is logged as "Failed to load
        # resource"; failed sub-resources are caught by on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page_errors.append(f"console: {message.text}")

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            page_errors.append(f"{response.status} for {response.request.resource_type} {response.url}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: page_errors.append(f"script error: {exc}"))
    tab.on("response", on_response)
    yield tab
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") saves a full-page PNG into $BROWSER_SCREENSHOT_DIR when that is set
    (to look at the pages while working on them, or as CI artefacts); otherwise it does nothing."""
    directory = os.environ.get("BROWSER_SCREENSHOT_DIR")

    def take(tab, name: str):
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(directory) / f"{request.node.name}-{name}.png"), full_page=True)

    return take


def _with_login_email(user):
    """allauth signs in by e-mail through the user's verified, primary EmailAddress row."""
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def associate_user(transactional_db):
    profile = AssociateProfileFactory(
        user__roles=[Role.ASSOCIATE],
        user__first_name="Noor",
        user__last_name="Visser",
        home_location__name="Amsterdam Centraal store",
    )
    return _with_login_email(profile.user)


@pytest.fixture
def app_customer(transactional_db):
    """A customer of the retailer's app: a login linked to a Customer record, holding no staff role."""
    return CustomerFactory(user=_with_login_email(UserFactory()), given_name="Sam", family_name="Jansen")
