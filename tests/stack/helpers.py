"""The running stack as the tests see it: its nodes, its processes (re-read from the state file,
since a node or worker that dies is started again under a new pid), and small waits."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
PASSWORD = "stack-test-password-2026"


def wait_for(condition: Callable[[], Any], *, seconds: float, what: str, every: float = 0.25) -> Any:
    """Poll `condition` until it returns something truthy (returned); fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    secret: str


@dataclass
class Stack:
    path: Path
    nodes: list[str]
    ca: str
    env_file: Path

    @classmethod
    def load(cls, path: str) -> Stack:
        state = json.loads(Path(path).read_text())
        return cls(Path(path), list(state["nodes"].values()), state["ca"], Path(state["env_file"]))

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    def pid(self, name: str) -> int:
        return int(self.state["processes"][name]["pid"])

    def worker_name(self, worker_id: str) -> str:
        for name, process in self.state["processes"].items():
            if process.get("worker_id") == worker_id:
                return name
        raise AssertionError(f"no worker of the stack has the id {worker_id}")

    def kill(self, name: str) -> int:
        """SIGKILL a node (its master and workers) or a task worker, as a crash would; its old pid."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int) -> None:
        wait_for(lambda: self.pid(name) != old_pid, seconds=30, what=f"{name} to be started again")

    @contextmanager
    def dynamodb_frozen(self) -> Iterator[None]:
        """DynamoDB Local stopped (SIGSTOP): a call to it waits, so a task can be caught mid-run."""
        pid = int(self.state["dynamodb_pid"])
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def environment(self) -> dict[str, str]:
        values = {}
        for line in self.env_file.read_text().splitlines():
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name] = value
        return values

    def session(self, secret: str | None = None) -> requests.Session:
        session = requests.Session()
        session.verify = self.ca
        if secret:
            session.headers["Authorization"] = f"Bearer {secret}"
        return session

    def serving(self, node: str) -> bool:
        try:
            return requests.get(f"{node}/accounts/login/", verify=self.ca, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_until_serving(self) -> None:
        for node in self.nodes:
            wait_for(lambda node=node: self.serving(node), seconds=90, what=f"{node} to serve", every=0.5)


def merchant_new(name: str, *, rate_limit_per_minute: int | None = None) -> Merchant:
    """A merchant and an API key of its own, made through the services on the stack's DynamoDB."""
    from core.actor import Actor
    from merchants.services import api_key_create, merchant_create

    actor = Actor(type="system", id="stack-tests")
    merchant = merchant_create(name=name, actor=actor, rate_limit_per_minute=rate_limit_per_minute)
    return Merchant(merchant.merchant_id, api_key_create(merchant_id=merchant.merchant_id, actor=actor).secret)


def user_new(username: str, *, merchant_id: str, role: str = "admin") -> str:
    from django.contrib.auth import get_user_model

    from merchants.models import Membership

    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, merchant_id=merchant_id, role=role)
    return username


def csrf_token(page: requests.Response) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert page.status_code == 200 and found, f"{page.url} answered {page.status_code} without a CSRF token"
    return found.group(1)


def sign_in(session: requests.Session, node: str, username: str) -> None:
    page = session.get(f"{node}/accounts/login/", timeout=30)
    answer = session.post(
        f"{node}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)},
        headers={"Referer": f"{node}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"signing {username} in on {node} answered {answer.status_code}"


def payment_create(session: requests.Session, node: str, *, key: str, amount: int = 2500) -> requests.Response:
    return session.post(
        f"{node}/api/v1/payments",
        json={"amount": amount, "currency": "usd", "card": CARD},
        headers={"Idempotency-Key": key},
        timeout=60,
    )


def payments_listed(session: requests.Session, node: str) -> list[dict]:
    listed, cursor = [], None
    while True:
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = session.get(f"{node}/api/v1/payments", params=params, timeout=60).json()
        listed.extend(page["data"])
        if not page.get("has_more"):
            return listed
        cursor = page.get("next_cursor") or page["data"][-1]["id"]


def task_rows(task_path: str, **filters: Any) -> list[Any]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(task_path=task_path, **filters).order_by("enqueued_at"))
