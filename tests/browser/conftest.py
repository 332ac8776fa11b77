"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser) against a live
server whose DynamoDB is DynamoDB Local."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are
# still synchronous, so Django's async-context guard is lifted for browser tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"  # the README shows these
DOC_NAMES = {
    "home-light",
    "home-dark",
    "payments-mobile",
    "merchant-settings",
    "merchant-suspended",
    "refund-approvals",
    "request-log",
    "team",
    "dispute-under-review",
    "webhook-endpoints",
}


class _OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server's request threads share the test's in-memory SQLite connection. Two requests at
    once (a list's htmx refresh beside a CSV download) could both begin a transaction on it, and
    the second failed with "cannot start a transaction within a transaction" and lost its session.
    Each request keeps its thread (a download streams its body after Django has answered), but
    Django handles one at a time."""

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        super().set_app(one_at_a_time)


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    LiveServerThread.server_class = _OneRequestAtATimeServer
    yield
    LiveServerThread.server_class = ThreadedWSGIServer


@pytest.fixture(scope="session")
def base_url(pytestconfig) -> str | None:
    """pytest-playwright's `--base-url`, as its own fixture gives it. That one is a method of a plugin
    object, which pytest 9 warns about at every run (PytestRemovedIn10Warning); this is a function."""
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM} (`apt-get install chromium`; .ci/run does it)."
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def screenshot(page):
    """`screenshot("home")` saves var/screenshots/home.png; the README's ones (`DOC_NAMES`) go to
    docs/screenshots/ as well."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if name in DOC_NAMES:
            DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (DOC_SCREENSHOTS / path.name).write_bytes(path.read_bytes())
        return path

    return take


@pytest.fixture
def sign_in(page, live_server):
    def go(username: str, password: str = "correct horse battery") -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    return go
