"""Two gunicorn nodes behind no balancer but sharing PostgreSQL, Redis and DynamoDB: what one node
does, the other sees."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.stack.helpers import csrf_token, merchant_new, payment_create, payments_listed, sign_in, user_new

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]


def _at_once(session, nodes: list[str], *, key: str) -> list:
    """The same create with the same key, sent to each of `nodes` at the same moment."""
    start, answers = threading.Barrier(len(nodes)), []

    def send(node: str) -> None:
        start.wait()
        answers.append(payment_create(session, node, key=key))

    threads = [threading.Thread(target=send, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_the_same_idempotency_key_sent_to_both_nodes_at_once_creates_one_payment(stack):
    merchant = merchant_new("Stack idempotency")
    session = stack.session(merchant.secret)
    rounds, per_node = 5, 4

    for round_ in range(rounds):
        answers = _at_once(session, stack.nodes * per_node, key=f"same-key-{round_}")

        statuses = sorted(answer.status_code for answer in answers)
        assert set(statuses) <= {201, 409}, statuses
        created = [answer for answer in answers if answer.status_code == 201]
        originals = [answer for answer in created if answer.headers.get("Idempotent-Replayed") != "true"]
        assert len(originals) == 1, statuses
        assert {answer.json()["id"] for answer in created} == {originals[0].json()["id"]}
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["code"] == "idempotency_key_in_use"

    listed = payments_listed(session, stack.nodes[1])
    assert len(listed) == rounds  # one payment per key, whichever node answered


def test_the_rate_limit_is_counted_once_for_both_nodes(stack):
    limit = 20
    merchant = merchant_new("Stack rate limit", rate_limit_per_minute=limit)
    session = stack.session(merchant.secret)
    # The limit counts per clock minute: start early in one, so all requests fall in it.
    if time.time() % 60 > 20:
        time.sleep(60.5 - time.time() % 60)
    minute = int(time.time() // 60)

    answers = [
        (node, session.get(f"{node}/api/v1/merchant", timeout=30))
        for node in stack.nodes * ((limit + 10) // 2)  # alternating: a, b, a, b, ...
    ]

    assert int(time.time() // 60) == minute, "the requests straddled a minute; the test's timing is wrong"
    statuses = [answer.status_code for _, answer in answers]
    assert statuses == [200] * limit + [429] * 10, statuses
    refused_by = {node for node, answer in answers if answer.status_code == 429}
    assert refused_by == set(stack.nodes)  # each node refused, counting the other's requests too
    assert all(int(answer.headers["Retry-After"]) >= 1 for _, answer in answers if answer.status_code == 429)


def test_a_session_made_on_one_node_works_on_the_other_and_signing_out_there_ends_it(stack):
    node_a, node_b = stack.nodes
    merchant = merchant_new("Stack sessions")
    username = user_new("stack-session-admin", merchant_id=merchant.merchant_id)
    browser = stack.session()

    sign_in(browser, node_a, username)
    session_id = browser.cookies.get("sessionid")
    assert session_id

    home_on_b = browser.get(f"{node_b}/", allow_redirects=False, timeout=30)
    assert home_on_b.status_code == 200
    assert username in home_on_b.text

    signed_out = browser.post(
        f"{node_b}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf_token(browser.get(f"{node_b}/payments/", timeout=30))},
        headers={"Referer": f"{node_b}/payments/"},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_out.status_code == 302

    # The old cookie, sent again to node A, names a session that no longer exists.
    replayed = stack.session()
    replayed.cookies.set("sessionid", session_id)
    home_on_a = replayed.get(f"{node_a}/", allow_redirects=False, timeout=30)
    assert home_on_a.status_code == 302 and "/accounts/login/" in home_on_a.headers["Location"]


def test_check_deploy_is_clean_on_the_stack_settings_and_the_nodes_keep_https_only(stack):
    environment = {"PATH": "/usr/bin:/bin", **stack.environment()}
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout, checked.stdout
    assert environment["DJANGO_DEBUG"] == "0" and environment["DATABASE_URL"].startswith("postgres://")

    node = stack.nodes[0]
    page = stack.session().get(f"{node}/accounts/login/", timeout=30)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert next(cookie for cookie in page.cookies if cookie.name == "csrftoken").secure
    insecure = stack.session().get(f"{node}/", headers={"X-Forwarded-Proto": "http"}, allow_redirects=False)
    assert insecure.status_code == 301 and insecure.headers["Location"].startswith("https://")
