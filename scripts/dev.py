#!/usr/bin/env python
"""`make run` and `make test` behind the Makefile: one clear sentence on failure, no traceback.

python scripts/dev.py run    # DynamoDB Local (persisted), tables, demo data, worker, server
python scripts/dev.py test   # in-memory DynamoDB Local on a free port, then the whole suite
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import dynamodb_local  # noqa: E402
from core.dynamodb_local import LocalEngineError  # noqa: E402

PYTHON = sys.executable
ENV_FILE = Path(os.environ.get("PAYSITE_ENV_FILE") or ROOT / ".env")
VAR = Path(os.environ.get("PAYSITE_VAR_DIR") or ROOT / "var")


def fail(sentence: str) -> None:
    print(f"\npaysite: {sentence}", file=sys.stderr)
    sys.exit(1)


def read_env_file() -> dict[str, str]:
    values = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def ensure_env_file(port: int) -> None:
    """First run: a git-ignored .env with generated development secrets and the local endpoint, so
    `manage.py` in another shell shares the server's configuration."""
    if ENV_FILE.exists():
        return
    lines = [
        "# Written by `make run` for local development. Git-ignored; never use these values in production.",
        "DJANGO_DEBUG=1",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        f"FIELD_ENCRYPTION_KEY={secrets.token_urlsafe(32)}",
        f"FINGERPRINT_KEY={secrets.token_urlsafe(32)}",
        f"AUDIT_SIGNING_KEY={secrets.token_urlsafe(32)}",
        f"DYNAMODB_ENDPOINT=http://127.0.0.1:{port}",
        "DYNAMODB_REGION=us-east-1",
        "DYNAMODB_TABLE_PREFIX=paysite-",
        "AWS_ACCESS_KEY_ID=local",
        "AWS_SECRET_ACCESS_KEY=local",
    ]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    print(f"Wrote {ENV_FILE.name} with generated development secrets.")


def manage_together(*commands: list[str], env: dict[str, str], quiet: tuple = ()) -> None:
    """Run the `manage.py` commands side by side (each its own process) and wait for them all;
    the output of those in `quiet` is dropped."""
    started = [
        (args, subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL if tuple(args) in quiet else None
        ))
        for args in commands
    ]  # fmt: skip
    failed = [(args, process.wait()) for args, process in started]
    for args, code in failed:
        if code != 0:
            fail(f"`manage.py {' '.join(args)}` failed (exit {code}); see the message above.")


def print_demo(port: int) -> None:
    path = VAR / "demo.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    print("\n" + "=" * 72)
    print(f"Paysite is running on http://127.0.0.1:{port}   (Ctrl-C stops everything)")
    password = (state.get("users") or [{}])[0].get("password", "?")
    print(f"Demo logins (password for all: {password}):")
    for user in state.get("users", []):
        print(f"  {user['username']:<20} {user['role']}")
    key = state.get("api_key")
    if key:
        print(f"Demo API key ({key['merchant']}):\n  {key['secret']}")
        print(f"  curl -H 'Authorization: Bearer {key['secret']}' http://127.0.0.1:{port}/api/v1/merchant")
    print(f"API docs: http://127.0.0.1:{port}/api/v1/docs")
    print("=" * 72 + "\n", flush=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run() -> None:
    # Ctrl-C (SIGINT) and SIGTERM both stop everything this command started, even when the shell
    # started us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = int(os.environ.get("PORT", "8000"))
    ddb_port = int(os.environ.get("DYNAMODB_PORT", read_env_file().get("DYNAMODB_PORT", "8001")))
    if dynamodb_local.port_in_use(port):
        fail(f"Port {port} is already in use; stop what holds it or set PORT to another port.")
    ensure_env_file(ddb_port)
    VAR.mkdir(exist_ok=True)
    env = {**read_env_file(), **os.environ}
    endpoint = env.get("DYNAMODB_ENDPOINT", "")
    engine = None
    local = endpoint in ("", f"http://127.0.0.1:{ddb_port}", f"http://localhost:{ddb_port}")
    try:
        if local:
            engine = dynamodb_local.start(port=ddb_port, db_path=VAR / "dynamodb", log_path=VAR / "dynamodb.log")
            env["DYNAMODB_ENDPOINT"] = engine.endpoint
            print(f"DynamoDB Local {'reused' if engine.process is None else 'started'} at {engine.endpoint}.")
        elif not dynamodb_local.is_dynamodb(endpoint, timeout=5):
            fail(f"Cannot reach DynamoDB at DYNAMODB_ENDPOINT={endpoint}.")
    except LocalEngineError as error:
        fail(str(error))

    children: list[subprocess.Popen] = []

    def stop_all(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if engine is not None:
            engine.stop()

    try:
        # Side by side where nothing depends on the other (the first run's time, README "Performance"):
        # Django's tables (SQLite) beside DynamoDB's, then the demo data beside queueing the periodic
        # tasks for the worker below (hourly sealing and the recovery sweep; both idempotent).
        migrate, tables = ["migrate", "--noinput"], ["dynamodb", "create"]
        manage_together(migrate, tables, env=env, quiet=(tuple(migrate), tuple(tables)))
        sealing, sweep = ["audit", "schedule"], ["payments", "schedule"]
        manage_together(["seed_demo"], sealing, sweep, env=env, quiet=(tuple(sealing), tuple(sweep)))
        print_demo(port)
        children.append(subprocess.Popen([PYTHON, "manage.py", "db_worker", "--no-reload"], cwd=ROOT, env=env))  # noqa: S603
        # `make check` and the tests run the system checks; here they would only delay the first page.
        server = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
        children.append(subprocess.Popen(server, cwd=ROOT, env=env))  # noqa: S603
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        fail("The server or the task worker stopped; see the messages above.")
    except KeyboardInterrupt:
        print("\nStopping Paysite…")
    finally:
        stop_all()


def test_workers(pytest_args: list[str]) -> list[str]:
    """pytest-xdist's arguments: one test process per core (at most 4: they share one DynamoDB Local),
    `PYTEST_WORKERS=1` for one process, and none when the arguments choose already."""
    if any(arg.startswith(("-n", "--numprocesses")) or arg.endswith("no:xdist") for arg in pytest_args):
        return []
    workers = int(os.environ.get("PYTEST_WORKERS") or min(os.cpu_count() or 1, 4))
    return ["-n", str(workers)] if workers > 1 else []


def test(pytest_args: list[str]) -> None:
    try:
        engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    except LocalEngineError as error:
        fail(str(error))
    # in memory and stopped after the run: the suite need not delete its tables at the end
    env = {**os.environ, "DYNAMODB_TEST_ENDPOINT": engine.endpoint, "DYNAMODB_TEST_ENGINE_IN_MEMORY": "1"}
    print(f"DynamoDB Local (in memory) for the engine tier: {engine.endpoint}", flush=True)
    try:
        arguments = [*test_workers(pytest_args), *pytest_args]
        code = subprocess.call([PYTHON, "-m", "pytest", *arguments], cwd=ROOT, env=env)  # noqa: S603
    except KeyboardInterrupt:
        code = 130
    finally:
        engine.stop()
    if code == 5:
        fail("pytest collected no tests; that counts as a failure.")
    sys.exit(code)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        fail("usage: scripts/dev.py run | test [pytest arguments]")
    run() if sys.argv[1] == "run" else test(sys.argv[2:])
