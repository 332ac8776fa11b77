import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _django_check(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_", "FINGERPRINT", "AUDIT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="paysite.settings", PAYSITE_VAR_DIR=str(tmp_path), PAYSITE_ENV_FILE="", **env_overrides
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secrets(tmp_path):
    result = _django_check({"DJANGO_DEBUG": "0"}, tmp_path)

    assert result.returncode != 0
    assert "will not start" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_an_insecure_secret(tmp_path):
    result = _django_check(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "django-insecure-" + "a" * 60,
            "FIELD_ENCRYPTION_KEY": "b" * 40,
            "FINGERPRINT_KEY": "c" * 40,
            "AUDIT_SIGNING_KEY": "d" * 40,
        },
        tmp_path,
    )

    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_proper_secrets(tmp_path):
    result = _django_check(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k" * 60,
            "FIELD_ENCRYPTION_KEY": "b" * 40,
            "FINGERPRINT_KEY": "c" * 40,
            "AUDIT_SIGNING_KEY": "d" * 40,
        },
        tmp_path,
    )

    assert result.returncode == 0, result.stderr


def test_the_development_database_syncs_its_log_at_checkpoints_not_at_every_commit(tmp_path):
    """SQLite in WAL mode with synchronous=NORMAL: a commit writes the log without waiting for the disk."""
    script = (
        "import django; django.setup(); from django.db import connection; cursor = connection.cursor(); "
        "print(cursor.execute('PRAGMA journal_mode').fetchone()[0], cursor.execute('PRAGMA synchronous').fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "paysite.settings",
            "DJANGO_DEBUG": "1",
            "PAYSITE_VAR_DIR": str(tmp_path),
            "PAYSITE_ENV_FILE": "",
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]  # 1 is NORMAL (2, FULL, is SQLite's default)
    assert (tmp_path / "paysite.sqlite3").exists()


def _run_script(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAYSITE_ENV_FILE": str(tmp_path / ".env"), "PAYSITE_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "dev.py"), "run"],
        cwd=ROOT,
        env={**env, **env_overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_run_with_the_port_in_use_says_so_in_one_sentence(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        result = _run_script({"PORT": str(port)}, tmp_path)

    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_run_without_java_says_so_in_one_sentence(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        ddb_free = probe.getsockname()[1]

    result = _run_script(
        {"PORT": str(free), "DYNAMODB_PORT": str(ddb_free), "DYNAMODB_ENDPOINT": "", "PATH": str(tmp_path)}, tmp_path
    )

    assert result.returncode == 1
    assert "Java 17 or newer is needed" in result.stderr and "Traceback" not in result.stderr


def test_make_run_with_an_unreachable_endpoint_says_so(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]

    result = _run_script(
        {"PORT": str(free), "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{dead}", "DYNAMODB_PORT": "1"}, tmp_path
    )

    assert result.returncode == 1
    assert f"Cannot reach DynamoDB at DYNAMODB_ENDPOINT=http://127.0.0.1:{dead}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_held_by_something_else_is_not_mistaken_for_dynamodb():
    from core import dynamodb_local

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        try:
            dynamodb_local.start(port=port, db_path=None, timeout=5)
        except dynamodb_local.LocalEngineError as error:
            message = str(error)

    assert f"Port {port} is in use by something that is not DynamoDB" in message


def test_dynamodb_local_runs_without_telemetry(tmp_path):
    """Started by the project, the engine sends no usage reports (it would look up AWS's host at start)."""
    from core import dynamodb_local

    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    try:
        arguments = Path(f"/proc/{engine.process.pid}/cmdline").read_bytes().split(b"\0")
    finally:
        engine.stop()

    assert b"-disableTelemetry" in arguments and b"-inMemory" in arguments


def test_commands_run_side_by_side_and_any_failure_stops_make_run(tmp_path):
    """`make run` migrates beside creating the tables and seeds beside queueing the schedules; a
    command that fails among them still stops it, naming the command."""
    # Each command marks that it started, then waits for the other's mark: run one after the
    # other, the first would wait in vain and fail.
    meet = (
        "import pathlib, sys, time; d = pathlib.Path({dir!r}); (d / {me!r}).touch(); "
        "deadline = time.monotonic() + 60\n"
        "while not (d / {other!r}).exists():\n"
        "    time.sleep(0.05)\n"
        "    if time.monotonic() > deadline: sys.exit(3)"
    )
    first = ["shell", "-c", meet.format(dir=str(tmp_path), me="a", other="b")]
    second = ["shell", "-c", meet.format(dir=str(tmp_path), me="b", other="a")]
    script = (
        "import os, sys; sys.path.insert(0, 'scripts'); import dev; env = dict(os.environ); "
        f"dev.manage_together({first!r}, {second!r}, env=env); print('met'); "
        "dev.manage_together(['shell', '-c', 'pass'], ['no_such_command'], env=env)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "paysite.settings", "DJANGO_DEBUG": "1", "PAYSITE_ENV_FILE": ""}
    env["PAYSITE_VAR_DIR"] = str(tmp_path)

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )

    assert "met" in result.stdout, result.stderr
    assert result.returncode == 1
    assert "`manage.py no_such_command` failed" in result.stderr
