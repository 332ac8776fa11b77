"""The ops console: the merchants list searched and sorted, the navbar's merchant switcher searched
by name or id (htmx fragment and plain form), the audit verification page naming merchants."""

from __future__ import annotations

import io
import re

from django.core.management import call_command
from django.urls import reverse

from merchants.services.settings import merchant_suspend
from tests.factories import HTMX, TEST_ACTOR, make_merchant, make_user

OPS = reverse("ops:merchant-list")
CHOOSE = reverse("merchant-choose")


def _names(html: bytes) -> list[str]:
    return re.findall(r'data-testid="merchant-name">([^<]+)<', html.decode())


def test_the_merchants_list_sorts_by_name_status_and_creation(staff_client):
    zeta, alpha, mid = make_merchant("Zeta Shoes"), make_merchant("alpha Books"), make_merchant("Mid Market")
    merchant_suspend(merchant_id=mid.merchant_id, actor=TEST_ACTOR, reason="chargebacks")

    by_default = staff_client.get(OPS)
    by_name_desc = staff_client.get(OPS, {"sort": "-name"})
    by_created = staff_client.get(OPS, {"sort": "created"})
    by_created_desc = staff_client.get(OPS, {"sort": "-created"})
    by_status = staff_client.get(OPS, {"sort": "-status"})
    unknown = staff_client.get(OPS, {"sort": "volume; drop"})

    assert _names(by_default.content) == ["alpha Books", "Mid Market", "Zeta Shoes"]  # by name, case-insensitive
    assert _names(by_name_desc.content) == ["Zeta Shoes", "Mid Market", "alpha Books"]
    assert _names(by_created.content) == [zeta.name, alpha.name, mid.name]
    assert _names(by_created_desc.content) == [mid.name, alpha.name, zeta.name]
    assert _names(by_status.content)[0] == "Mid Market"  # suspended before active, descending
    assert _names(unknown.content) == _names(by_default.content)
    # the current column's header links to the other direction and says how it is sorted
    assert 'aria-sort="ascending"' in by_default.content.decode()
    assert 'href="?sort=-name"' in by_default.content.decode()
    assert 'href="?sort=name"' in by_name_desc.content.decode()


def test_the_merchants_list_searches_name_or_id_partially_and_keeps_the_sort(staff_client):
    make_merchant("Acme Outdoor")
    make_merchant("Kumo Coffee")
    kumo = make_merchant("Kumo Tea")

    by_name = staff_client.get(OPS, {"q": "kUMo", "sort": "-name"})
    by_id = staff_client.get(OPS, {"q": kumo.merchant_id[-10:].lower()})
    fragment = staff_client.get(OPS, {"q": "acme"}, **HTMX)
    nothing = staff_client.get(OPS, {"q": "nobody"})

    assert _names(by_name.content) == ["Kumo Tea", "Kumo Coffee"]
    assert 'href="?sort=name&amp;q=kUMo"' in by_name.content.decode()  # sorting keeps the search
    assert _names(by_id.content) == ["Kumo Tea"]
    assert (
        fragment.status_code == 200
        and b"<html" not in fragment.content
        and _names(fragment.content) == ["Acme Outdoor"]
    )
    assert b'data-testid="no-match"' in nothing.content and _names(nothing.content) == []


def test_the_switcher_finds_a_merchant_by_part_of_its_name_or_id(staff_client):
    make_merchant("Acme Outdoor")
    kumo = make_merchant("Kumo Tea")

    navbar = staff_client.get(CHOOSE).content.decode()
    by_name = staff_client.get(CHOOSE, {"q": "tea"}, **HTMX)
    by_id = staff_client.get(CHOOSE, {"q": kumo.merchant_id.lower()}, **HTMX)
    nothing = staff_client.get(CHOOSE, {"q": "globex"}, **HTMX)
    without_js = staff_client.get(CHOOSE, {"q": "KUMO"})

    # the navbar's switcher: a search form that works without JavaScript (GET with q) and with htmx
    assert 'id="merchant-switcher"' in navbar and 'name="q"' in navbar
    assert f'action="{CHOOSE}"' in navbar and f'hx-get="{CHOOSE}"' in navbar
    assert by_name.status_code == 200 and b"<html" not in by_name.content
    assert b"Kumo Tea" in by_name.content and b"Acme Outdoor" not in by_name.content
    assert by_name.content.count(b'name="merchant_id"') == 1 and kumo.merchant_id.encode() in by_name.content
    assert b"Kumo Tea" in by_id.content and b"Acme Outdoor" not in by_id.content
    assert "No merchant matches “globex”" in nothing.content.decode()
    page = without_js.content.decode()
    assert without_js.status_code == 200 and "<html" in page
    choices = page[page.index('data-testid="merchant-choices"') :]
    assert "Kumo Tea" in choices and "Acme Outdoor" not in choices


def test_the_switcher_lists_only_the_members_own_merchants(client, db):
    acme, kumo, globex = make_merchant("Acme Outdoor"), make_merchant("Kumo Tea"), make_merchant("Globex")
    user = make_user(merchant_id=acme.merchant_id, role="viewer")
    user.memberships.create(merchant_id=kumo.merchant_id, role="admin")
    client.force_login(user)

    found = client.get(CHOOSE, {"q": "o"}, **HTMX).content  # all three names contain an "o"

    assert b"Acme Outdoor" in found and b"Kumo Tea" in found and b"Globex" not in found
    assert globex.merchant_id.encode() not in found


def test_the_switcher_shows_a_few_and_says_how_many_match(staff_client):
    for n in range(10):
        make_merchant(f"Shop {n:02d}")

    navbar = staff_client.get(CHOOSE).content.decode()
    narrowed = staff_client.get(CHOOSE, {"q": "shop"}, **HTMX).content.decode()

    results = navbar[navbar.index('id="merchant-results"') :]
    results = results[: results.index("</details>")]
    assert results.count('name="merchant_id"') == 8 and "8 of 10: type a name or id to narrow." in results
    assert narrowed.count('name="merchant_id"') == 8 and "8 of 10" in narrowed


def test_the_audit_verification_page_names_merchants(staff_client):
    acme = make_merchant("Acme Outdoor")
    call_command("audit", "seal", "--through", "now", stdout=io.StringIO())

    page = staff_client.get(reverse("audit:verify")).content.decode()
    verified = staff_client.post(reverse("audit:verify"), {"partition": acme.merchant_id, "since": "all"})

    assert f'<option value="{acme.merchant_id}" >Acme Outdoor</option>' in page
    assert '<option value="ops" >Platform (ops staff)</option>' in page
    seals = re.findall(r'data-testid="seal-row"><td>([^<]+)<', page)
    assert "Acme Outdoor " in seals and "Platform (ops staff) " in seals
    assert "manage.py" not in page
    assert verified.status_code == 200 and b'data-testid="verify-ok"' in verified.content
