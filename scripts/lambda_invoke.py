#!/usr/bin/env python
"""Invoke the Lambda package's handlers in fresh processes, and measure its cold start.

Two modes:

- `python -S scripts/lambda_invoke.py` (the *child*): run with PYTHONPATH set to the unzipped
  package and nothing else (`-S`: no site-packages), as Lambda's runtime runs /var/task. It reads
  one JSON request a line from stdin, `{"handler": "paysite.lambda_handlers.web.handler", "event": {...}}`,
  imports the handler's module the first time, calls it and writes one JSON line:
  `{"result": ..., "seconds": ...}` (the call alone; the first call's `since_start` counts the imports).
  `{"modules": true}` answers `{"modules": [...]}`, the names of the modules imported so far.
- `python scripts/lambda_invoke.py --cold-start 10` (the *measure*): builds the zip (`make lambda`),
  unzips it, starts an in-memory DynamoDB Local with the tables, a merchant and an API key, migrates
  a SQLite database through the package's `manage` handler, and then starts 10 fresh children that
  each answer `GET /api/v1/payments` once. It prints the time from starting each process to reading
  its answer (interpreter start, imports, Django setup and the request), and the median; beside it
  the same for `paysite.wsgi` from the source tree with the development venv, as a gunicorn worker
  starts (the reference the package is compared with). `--baseline OLD.zip` adds another package
  (one built before a change): the runs alternate between them, so that both see the same load.
  `--python PATH` runs the package's processes with another CPython 3.11 (the package brings its
  own dependencies): the interpreter's own build changes the figure (README "Lambda").
  Each figure comes with the CPU time the process used (less sensitive to other work on the
  machine than the wall-clock time) and the load average before and after.

`http_event` builds the API Gateway HTTP API event (payload format 2.0) that the tests send too.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
START = time.perf_counter()
DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"


def http_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | str | None = None,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload format 2.0) for the `$default` route."""
    raw = body.encode() if isinstance(body, str) else body
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {
            "host": DOMAIN,
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "x-forwarded-for": "198.51.100.7",
            "user-agent": "lambda-invoke/1",
            **{name.lower(): value for name, value in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": DOMAIN.split(".", 1)[0],
            "domainName": DOMAIN,
            "domainPrefix": DOMAIN.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "lambda-invoke/1",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": raw is not None,
    }
    if query:
        event["queryStringParameters"] = query
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode()
    if cookies:
        event["cookies"] = cookies
    return event


def response_body(response: dict[str, Any]) -> bytes:
    body = response.get("body", "")
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


# --- the child: a fresh process with the package alone on its path ---------------------------


class _Context:
    """What handlers read of Lambda's context object."""

    def __init__(self, timeout_seconds: float) -> None:
        self.aws_request_id = uuid.uuid4().hex
        self.function_name = "paysite-local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def child() -> None:
    import importlib

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("modules"):  # what the process has imported so far (the cold-start test)
            print(json.dumps({"modules": sorted(sys.modules)}), flush=True)
            continue
        module, name = request["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module), name)
        if request.get("wsgi"):  # a bare WSGI application: adapted as the web handler adapts it
            from apig_wsgi import make_lambda_handler

            handler = make_lambda_handler(handler, binary_support=True)
        called = time.perf_counter()
        result = handler(request["event"], _Context(float(request.get("timeout", 30))))
        done = time.perf_counter()
        answer = {"result": result, "seconds": done - called, "since_start": done - START, "cpu": time.process_time()}
        print(json.dumps(answer), flush=True)


# --- the parent: start children ----------------------------------------------------------------


def child_env(package: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of a child: the package alone on the path, nothing written beside it."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(package),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "DJANGO_SETTINGS_MODULE": "paysite.settings",
        "PAYSITE_ENV_FILE": "",
        "AWS_LAMBDA_FUNCTION_NAME": "paysite-local",  # as Lambda names the function in its runtime
        **env,
    }


def invoke(
    package: Path,
    env: dict[str, str],
    requests: list[dict[str, Any]],
    *,
    source_tree: bool = False,
    python: str = sys.executable,
) -> list[dict[str, Any]]:
    """Run `requests` one after another in one fresh child; each answer with `wall`, the seconds
    from starting the process to reading it. `source_tree`: the project's own directory with this
    interpreter's site-packages (as a gunicorn worker starts), instead of the package alone.
    `python`: the interpreter of a package's child (any CPython 3.11: the package brings its own
    dependencies)."""
    flags = ["-P"] if source_tree else ["-S", "-P"]
    child_environment = child_env(package, env)
    if source_tree:
        del child_environment["PYTHONDONTWRITEBYTECODE"]
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (this interpreter, this file)
        [sys.executable if source_tree else python, *flags, str(Path(__file__).resolve())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_environment,
        cwd=package,
    )
    assert process.stdin is not None and process.stdout is not None
    answers = []
    for request in requests:
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            process.kill()
            raise RuntimeError(f"the handler process died:\n{process.communicate()[1][-4000:]}")
        answers.append({**json.loads(line), "wall": time.perf_counter() - started})
    process.stdin.close()
    process.wait(timeout=60)
    return answers


def measure(runs: int, baseline: Path | None = None, python: str = sys.executable) -> None:
    """The cold-start figure of the README (see the module docstring)."""
    import statistics
    import tempfile
    import zipfile

    sys.path.insert(0, str(ROOT))
    from core import dynamodb_local

    subprocess.run([sys.executable, str(ROOT / "scripts" / "lambda_build.py")], check=True)  # noqa: S603
    load_before = os.getloadavg()
    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    try:
        with tempfile.TemporaryDirectory(prefix="paysite-cold-start-") as scratch:
            packages = {"package": (ROOT / "var" / "lambda" / "paysite.zip", Path(scratch) / "task")}
            if baseline is not None:
                packages[f"baseline {baseline.name}"] = (baseline, Path(scratch) / "baseline")
            for archive_path, target in packages.values():
                with zipfile.ZipFile(archive_path) as archive:
                    archive.extractall(target)
            package = packages["package"][1]
            env = {
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "cold-start-secret-key-" + "k" * 50,
                "FIELD_ENCRYPTION_KEY": "cold-start-field-key-" + "f" * 32,
                "FINGERPRINT_KEY": "cold-start-fingerprint-key-" + "p" * 32,
                "AUDIT_SIGNING_KEY": "cold-start-audit-key-" + "a" * 32,
                "DJANGO_ALLOWED_HOSTS": DOMAIN,
                "DATABASE_URL": f"sqlite:///{scratch}/django.sqlite3",
                "PAYSITE_VAR_DIR": scratch,
                "DYNAMODB_ENDPOINT": engine.endpoint,
                "DYNAMODB_TABLE_PREFIX": "cold-",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": "us-east-1",
                "LOG_LEVEL": "WARNING",
            }
            manage = {**os.environ, **env, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "paysite.settings"}

            def command(*args: str) -> str:
                return subprocess.run(  # noqa: S603 (manage.py, fixed commands)
                    [sys.executable, str(ROOT / "manage.py"), *args],
                    env=manage,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()

            command("dynamodb", "create")
            merchant_id = command("merchant", "create", "--name", "Cold Start")
            secret = command("apikey", "create", "--merchant", merchant_id)
            invoke(
                package, env, [{"handler": "paysite.lambda_handlers.jobs.manage", "event": {"command": ["migrate"]}}]
            )
            listing = [{"handler": "paysite.lambda_handlers.web.handler", "event": http_event(
                "GET", "/api/v1/payments", headers={"authorization": f"Bearer {secret}"}
            )}]  # fmt: skip
            invoke(package, env, listing * 3)  # DynamoDB Local's JVM warms up: it is not what is measured
            # The reference: the source tree and the development venv, `paysite.wsgi` as a gunicorn
            # worker imports it.
            worker = [{**listing[0], "handler": "paysite.wsgi.application", "wsgi": True}]
            variants = [(name, target, listing) for name, (_, target) in packages.items()]
            variants.append(("source tree, paysite.wsgi", ROOT, worker))
            walls: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            cpus: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            for _ in range(runs):  # one run of each in turn: the same load for all
                for name, path, requests in variants:
                    (answer,) = invoke(path, env, requests, source_tree=path == ROOT, python=python)
                    if answer["result"]["statusCode"] != 200:
                        raise RuntimeError(f"the list request answered {answer['result']['statusCode']}")
                    walls[name].append(answer["wall"])
                    cpus[name].append(answer["cpu"])
    finally:
        engine.stop()
    for name in walls:
        print(f"{name}: first list request of a fresh process, s:", " ".join(f"{wall:.2f}" for wall in walls[name]))
        print(
            f"{name}: median of {runs}: {statistics.median(walls[name]):.3f} s"
            f" (CPU time: median {statistics.median(cpus[name]):.3f} s)"
        )
    version = subprocess.run(  # noqa: S603 (the interpreter given)
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"the package's interpreter: {python} (Python {version})")
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*load_before))
    print("load average (1, 5, 15 min) after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Measure the Lambda package's cold start (children run without arguments)."
    )
    parser.add_argument("--cold-start", type=int, required=True, metavar="N", help="fresh processes per variant")
    parser.add_argument("--baseline", type=Path, help="another package (a zip built before a change), measured in turn")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the package's processes")
    args = parser.parse_args()
    measure(args.cold_start, args.baseline.resolve() if args.baseline else None, args.python)


if __name__ == "__main__":
    if len(sys.argv) == 1:
        child()
    else:
        main()
