"""Ops staff in Chromium: the navbar is one row at desktop widths with every item they see, the
merchant switcher finds a merchant by part of its name, the merchants list sorts and searches."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_merchant, make_user

pytestmark = pytest.mark.browser

NAVBAR_FITS = """() => {
  const nav = document.querySelector("nav.navbar");
  const items = [...document.querySelectorAll(".navbar-brand > .navbar-item, .navbar-start > *, .navbar-end > *")]
    .filter((e) => e.offsetParent !== null);
  const middles = items.map((e) => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
  return {overflow: nav.scrollWidth - nav.clientWidth, page: document.documentElement.scrollWidth - window.innerWidth,
          height: nav.getBoundingClientRect().height, spread: Math.max(...middles) - Math.min(...middles),
          right: Math.max(...items.map((e) => e.getBoundingClientRect().right)), items: items.length};
}"""


def test_ops_navbar_is_one_row_and_the_switcher_and_merchants_list_search(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    acme = make_merchant("Acme Outdoor Equipment Worldwide")
    kumo = make_merchant("Kumo Tea")
    make_merchant("Zephyr Bikes")
    ops = make_user("ops-olivia-longname", staff=True)
    ops.memberships.create(merchant_id=acme.merchant_id, role="admin")  # every section: Developers too
    sign_in("ops-olivia-longname")
    page.get_by_role("button", name=re.compile("Acme Outdoor")).click()
    expect(page.get_by_role("heading", name="Acme Outdoor Equipment Worldwide")).to_be_visible()
    expect(page.get_by_role("link", name="Developers")).to_be_visible()

    for width in (1440, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        fit = page.evaluate(NAVBAR_FITS)
        assert fit["overflow"] <= 0 and fit["page"] <= 0, (width, fit)
        assert fit["spread"] < 8 and fit["height"] < 70 and fit["right"] <= width, (width, fit)  # one row
    screenshot("ops-navbar")

    # The Ops menu: keyboard opens it, its links are reachable, Escape closes it.
    menu = page.get_by_test_id("ops-menu")
    menu.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Compliance")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Compliance")).to_be_hidden()

    # The switcher: opens with the keyboard, narrows as one types, arrow keys reach the match.
    page.get_by_test_id("merchant-switcher").focus()
    page.keyboard.press("Enter")
    search = page.get_by_label("Find a merchant")
    expect(search).to_be_focused()
    page.keyboard.type("tea")
    results = page.get_by_test_id("merchant-results")
    expect(results.get_by_role("button")).to_have_count(1)
    expect(results).to_contain_text("Kumo Tea")
    page.keyboard.press("ArrowDown")
    expect(results.get_by_role("button", name=re.compile("Kumo Tea"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Kumo Tea")).to_be_visible()
    expect(page.get_by_test_id("merchant-switcher")).to_contain_text("Kumo Tea")

    # The merchants list: search by part of a name, sort by a header.
    page.get_by_test_id("ops-menu").click()
    page.get_by_role("link", name="Merchants").click()
    names = page.get_by_test_id("merchant-name")
    expect(names).to_have_text(["Acme Outdoor Equipment Worldwide", "Kumo Tea", "Zephyr Bikes"])
    page.get_by_test_id("sort-name").click()
    expect(names).to_have_text(["Zephyr Bikes", "Kumo Tea", "Acme Outdoor Equipment Worldwide"])
    assert "sort=-name" in page.url
    page.get_by_label("Search merchants").fill("BIKE")
    expect(names).to_have_text(["Zephyr Bikes"])
    assert "q=BIKE" in page.url and "sort=-name" in page.url
    expect(page.get_by_test_id("merchant-table").locator(f"tr[data-merchant-id='{kumo.merchant_id}']")).to_have_count(0)
