"""The live server the browser tests drive: its request threads share the test's in-memory SQLite
connection, so it must take a page's requests that overlap (an htmx refresh beside a download)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.factories import make_merchant, make_user

pytestmark = pytest.mark.browser


def test_overlapping_signed_in_requests_each_keep_their_session(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="viewer")
    sign_in("olga")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}

    def load(_: int) -> int:
        return requests.get(f"{live_server.url}/payments/", cookies=cookies, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(load, range(80)))

    assert statuses == [200] * 80  # each request saves the session; two at once used to fail with 400
