"""Every page passes axe-core (bundled with axe-playwright-python, no network) with no serious or critical
violation, as each role, in light and in dark (the OS's colour scheme, and the person's stored choice).
The pages come from `tests.browser.pages.PAGES`: add a row there for a new page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from core.models import UserPreference
from tests.browser.pages import ALL, SIGNED_OUT_PAGES, page_data, pages_for

pytestmark = pytest.mark.browser

AXE = Axe()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")
SCHEMES = ("light", "dark")


def _blocking_violations(page) -> list[str]:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def _check_pages(page, base: str, pages: list[tuple[str, str]], ids: dict[str, str]) -> dict[str, list[str]]:
    failures: dict[str, list[str]] = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for name, path in pages:
            page.goto(base + path.format(**ids))
            page.wait_for_load_state("load")
            found = _blocking_violations(page)
            if found:
                failures[f"{name} [{scheme}]"] = found
    return failures


def _choose_merchant(page, base: str) -> None:
    page.goto(f"{base}/merchant/choose/")
    page.get_by_role("button", name=re.compile("Acme Outdoor")).click()
    expect(page.get_by_role("heading", name="Acme Outdoor")).to_be_visible()


@pytest.mark.parametrize("role", ALL)
def test_every_page_has_no_serious_accessibility_violation_in_light_and_dark(
    role, page, live_server, sign_in, transactional_db, dynamodb_backend
):
    data = page_data()
    sign_in(data.usernames[role])
    if role == "ops":
        _choose_merchant(page, live_server.url)

    failures = _check_pages(page, live_server.url, pages_for(role), data.ids)

    assert failures == {}, "\n".join(f"{name}: {found}" for name, found in failures.items())


def test_signed_out_pages_have_no_serious_accessibility_violation(page, live_server, transactional_db):
    failures = _check_pages(page, live_server.url, SIGNED_OUT_PAGES, {})
    assert failures == {}, failures


def _colour(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e)['{prop}']")


def _luminance(css: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_dark_theme_follows_the_os_and_the_toggle_is_remembered_per_person(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    data = page_data()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.emulate_media(color_scheme="dark")
    sign_in(data.usernames["admin"])

    # The OS prefers dark, nothing chosen: the whole page is dark, headings readable.
    expect(page.get_by_test_id("summary-cards")).to_be_visible()
    page_bg = _colour(page, "body", "backgroundColor")
    assert _luminance(page_bg) < 0.05, page_bg
    assert _luminance(_colour(page, ".box", "backgroundColor")) < 0.05
    assert _contrast(_colour(page, "h1", "color"), page_bg) >= 7
    page.wait_for_function("() => window.Chart && Chart.getChart('volume-chart')")
    screenshot("home-dark")

    # The toggle: auto -> dark -> light, applied at once and kept with the account.
    toggle = page.get_by_test_id("theme-toggle")
    expect(toggle).to_have_accessible_name("Theme: auto")
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(toggle).to_have_accessible_name("Theme: light")
    assert _luminance(_colour(page, "body", "backgroundColor")) > 0.8  # light although the OS prefers dark
    assert UserPreference.objects.get(user__username=data.usernames["admin"]).theme == "light"

    # Another browser, the same person: the choice follows them.
    other = page.context.browser.new_context(color_scheme="dark")
    second = other.new_page()
    second.goto(f"{live_server.url}/accounts/login/")
    second.get_by_label("Username").fill(data.usernames["admin"])
    second.get_by_label("Password").fill("correct horse battery")
    second.get_by_role("button", name="Sign in").click()
    expect(second.locator("html")).to_have_attribute("data-theme", "light")
    other.close()

    page.emulate_media(color_scheme="light")
    page.reload()
    page.wait_for_function("() => window.Chart && Chart.getChart('volume-chart')")
    screenshot("home-light")
    toggle.click()  # light -> auto: the OS decides again
    expect(page.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
    # The stored dark choice (not the OS) passes axe too.
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    for path in ("/", "/payments/", f"/payments/{data.ids['payment']}/"):
        page.goto(live_server.url + path)
        assert _blocking_violations(page) == [], path
