#!/usr/bin/env python
"""`make stack` and `make stack-test`: Paysite's production topology on one machine, without Docker.

python scripts/stack.py start          # start it, print the addresses and logins, run until Ctrl-C
python scripts/stack.py test [ARGS]    # start it, run `pytest -m stack tests/stack [ARGS]` against it, stop it
python scripts/stack.py stop           # stop a stack whose script was killed (its processes are recorded)

Everything listens on 127.0.0.1, on free ports unless STACK_NODE_PORTS ("8443,8444"),
STACK_POSTGRES_PORT, STACK_REDIS_PORT, STACK_DYNAMODB_PORT or STACK_S3_PORT name them:

- PostgreSQL (Debian's `postgresql`): a throwaway cluster made by `initdb` and run by `pg_ctl`, for
  Django's tables, the sessions and the task queue (DATABASE_URL). PostgreSQL refuses to run as root,
  so as root the cluster belongs to the `postgres` user (which Debian's package creates); its data
  directory is under var/stack/ when that user can reach it, otherwise (a checkout under /root) in
  a directory of the temporary directory named after this checkout, linked from var/stack/postgres.
- Redis (Debian's `redis-server`), without persistence and with a generated password: the shared
  cache and the per-merchant rate limit (REDIS_URL).
- DynamoDB Local, in memory: the payments and everything else in DynamoDB.
- S3 by moto in server mode: the settlement bucket (SETTLEMENT_FILES_BUCKET, SETTLEMENT_S3_ENDPOINT).
- Two gunicorn nodes serving HTTPS with a certificate signed by a throwaway CA made here
  (var/stack/tls/ca.pem), so HTTPS-only cookies, HSTS and the SSL redirect all stay on.
- Two `manage.py db_worker`s (with heartbeats: `core.workers`).

Every Paysite process reads one generated environment, var/stack/stack.env: DJANGO_DEBUG=0 and new
production secrets on every start. `PAYSITE_ENV_FILE=var/stack/stack.env python manage.py ...` runs a
command against the stack. While it runs, a node or worker that dies is started again (as a process
manager would), under a new worker id; Ctrl-C or SIGTERM stops everything this script started.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import ipaddress
import json
import os
import pwd
import secrets
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import dynamodb_local  # noqa: E402
from core.dynamodb_local import LocalEngineError  # noqa: E402

PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
STACK = ROOT / "var" / "stack"
STATE = STACK / "stack.json"
ENV_FILE = STACK / "stack.env"
LOGS = STACK / "logs"
TLS = STACK / "tls"
BUCKET = "paysite-stack-settlements"
NODES = ("node-a", "node-b")
WORKERS = ("worker-1", "worker-2")
GUNICORN_WORKERS = 2
MAX_RESTARTS = 5
ADMIN, OPS = "stack-admin", "stack-ops"


class StackError(Exception):
    """What stopped the stack, in one sentence."""


def say(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fail(sentence: str) -> None:
    print(f"\npaysite: {sentence}", file=sys.stderr, flush=True)
    sys.exit(1)


# --- what the stack needs, each missing piece in one sentence ---------------------------------


def postgres_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parts[-3].split(".") if part.isdigit())

    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version, reverse=True)
    if not versions:
        raise StackError(f"PostgreSQL's `{name}` was not found: install Debian's `postgresql` package.")
    return str(versions[0])


def preflight() -> dict[str, str]:
    binaries = {"initdb": postgres_bin("initdb"), "pg_ctl": postgres_bin("pg_ctl")}
    redis = shutil.which("redis-server")
    if redis is None:
        raise StackError("`redis-server` was not found: install Debian's `redis-server` package.")
    binaries["redis-server"] = redis
    if shutil.which("java") is None:
        raise StackError("Java was not found for DynamoDB Local: install Debian's `default-jre-headless` package.")
    for module, why in (
        ("psycopg", "the PostgreSQL driver (psycopg)"),
        ("redis", "the Redis driver (redis)"),
        ("flask", "moto's server mode (Flask)"),
        ("gunicorn", "gunicorn"),
    ):
        if importlib.util.find_spec(module) is None:
            raise StackError(f"{why} is not installed in {Path(PYTHON).parent.parent.name}: run `make install`.")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise StackError(
                "PostgreSQL refuses to run as root and there is no `postgres` user: install Debian's `postgresql` "
                "package, which creates it."
            ) from None
    return binaries


# --- ports, certificates, environment ----------------------------------------------------------


def ports() -> dict[str, int]:
    def given(name: str) -> int:
        value = os.environ.get(name, "").strip()
        return int(value) if value else dynamodb_local.free_port()

    chosen = {
        "postgres": given("STACK_POSTGRES_PORT"),
        "redis": given("STACK_REDIS_PORT"),
        "dynamodb": given("STACK_DYNAMODB_PORT"),
        "s3": given("STACK_S3_PORT"),
    }
    nodes = [int(p) for p in os.environ.get("STACK_NODE_PORTS", "").split(",") if p.strip()]
    for name, port in zip(NODES, nodes or [dynamodb_local.free_port() for _ in NODES], strict=True):
        chosen[name] = port
    for name, port in chosen.items():
        if dynamodb_local.port_in_use(port):
            raise StackError(f"Port {port} ({name}) is already in use; stop what holds it or choose another port.")
    return chosen


def certificates() -> tuple[Path, Path, Path]:
    """A throwaway CA (30 days) and a certificate for localhost and 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    TLS.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )

    def builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Paysite stack CA (throwaway)")])
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, **{**usage, "key_cert_sign": True, "crl_sign": True}), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_name, key)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = TLS / "ca.pem", TLS / "node.pem", TLS / "node-key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


def environment(port: dict[str, int], passwords: dict[str, str]) -> dict[str, str]:
    """What every Paysite process of the stack reads (also written to var/stack/stack.env)."""
    return {
        "PAYSITE_ENV_FILE": "",
        "PAYSITE_VAR_DIR": str(STACK / "var"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "FINGERPRINT_KEY": secrets.token_urlsafe(32),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://paysite:{passwords['postgres']}@127.0.0.1:{port['postgres']}/paysite",
        "REDIS_URL": f"redis://:{passwords['redis']}@127.0.0.1:{port['redis']}/0",
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port['dynamodb']}",
        "DYNAMODB_REGION": "us-east-1",
        "DYNAMODB_TABLE_PREFIX": "stack-",
        "AWS_ACCESS_KEY_ID": "stack",  # DynamoDB Local and moto take any key
        "AWS_SECRET_ACCESS_KEY": "stack",
        "SETTLEMENT_FILES_BUCKET": BUCKET,
        "SETTLEMENT_S3_ENDPOINT": f"http://127.0.0.1:{port['s3']}",
        "SETTLEMENT_S3_REGION": "us-east-1",
        # A killed worker's task is queued again after 12 s without beats (60 s by default), so the
        # stack tests see it happen quickly; everything else is the production default.
        "TASKS_HEARTBEAT_SECONDS": "2",
        "TASKS_STALE_SECONDS": "12",
    }


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A throwaway cluster, run as the `postgres` user when this script runs as root."""

    initdb: str
    pg_ctl: str
    port: int
    password: str
    user: pwd.struct_passwd | None = None
    cluster: Path = STACK / "postgres"  # or, as root, where `place` puts it

    @property
    def data(self) -> Path:
        return self.cluster / "data"

    @property
    def log(self) -> Path:
        return self.cluster / "postgres.log"

    def _run(self, *command: str, timeout: float = 120) -> None:
        as_user = (
            {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user is not None else {}
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        # A session of its own, and waited for even when Ctrl-C comes meanwhile: initdb or pg_ctl cut
        # short would leave a half-made cluster or a server nobody stops.
        process = subprocess.Popen(  # noqa: S603 (PostgreSQL's own tools, fixed arguments)
            command,
            cwd=self.cluster,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            **as_user,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise StackError(f"`{Path(command[0]).name}` did not finish within {timeout:.0f} seconds.") from None
        except BaseException:  # Ctrl-C: let it finish, then stop
            process.communicate(timeout=timeout)
            raise
        if process.returncode != 0:
            lines = output.strip().splitlines()
            raise StackError(f"`{Path(command[0]).name}` failed: {lines[-1] if lines else process.returncode}.")

    def place(self) -> None:
        """The data directory: under var/stack/ unless the `postgres` user cannot reach it (see the module)."""
        link = STACK / "postgres"
        if self.user is None or _reachable(STACK, self.user):
            self.cluster = link
        else:
            digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
            self.cluster = Path(tempfile.gettempdir()) / f"paysite-stack-{digest}"
            _remove(self.cluster)
            link.symlink_to(self.cluster, target_is_directory=True)
        self.cluster.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.cluster, self.user.pw_uid, self.user.pw_gid)

    def start(self) -> None:
        self.place()
        password_file = self.cluster / "password"
        password_file.write_text(self.password + "\n")
        if self.user is not None:
            os.chown(password_file, self.user.pw_uid, self.user.pw_gid)
        password_file.chmod(0o600)
        try:
            self._run(
                self.initdb,
                "-D",
                str(self.data),
                "-U",
                "paysite",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
        finally:
            password_file.unlink()
        # Throwaway data: no fsync. No Unix socket: TCP on 127.0.0.1 only, with the password.
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories= -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "90", "start")
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="paysite", password=self.password, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE paysite")

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.pid() is not None:
            try:
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop", timeout=90)
            except StackError as error:
                say(f"PostgreSQL did not stop cleanly ({error}); killing it")
                _kill(self.pid(), signal.SIGKILL)
        shutil.rmtree(self.data, ignore_errors=True)  # throwaway; its log stays beside it


def _reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` can traverse every directory from / down to `path`."""
    groups = {user.pw_gid}
    for directory in [*reversed(path.resolve().parents), path.resolve()]:
        if not directory.exists():
            continue
        mode = directory.stat()
        if mode.st_uid == user.pw_uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid in groups:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


# --- processes ---------------------------------------------------------------------------------


def _kill(pid: int | None, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _killpg(pid: int | None, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


@dataclass
class Child:
    """A process this script started in a session of its own (so Ctrl-C reaches only the script, which
    stops them in order) and restarts when it dies, if `restart`."""

    name: str
    command: list[str]
    env: dict[str, str]
    restart: bool = False
    stop_signal: int = signal.SIGTERM
    stop_seconds: float = 20
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    worker_id: str | None = None

    def start(self) -> None:
        command = list(self.command)
        if self.name.startswith("worker-"):
            self.worker_id = f"stack-{self.name}-{self.restarts + 1}"
            command += ["--worker-id", self.worker_id]
        log = (LOGS / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exited(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        _killpg(self.process.pid, self.stop_signal)
        try:
            self.process.wait(timeout=self.stop_seconds)
        except subprocess.TimeoutExpired:
            _killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        _killpg(self.process.pid, signal.SIGKILL)  # a gunicorn worker its master left behind


class Stack:
    def __init__(self) -> None:
        self.binaries = preflight()
        self.port = ports()
        self.passwords = {"postgres": secrets.token_hex(16), "redis": secrets.token_hex(16)}
        self.env = {**os.environ, **environment(self.port, self.passwords)}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.postgres = Postgres(
            initdb=self.binaries["initdb"],
            pg_ctl=self.binaries["pg_ctl"],
            port=self.port["postgres"],
            password=self.passwords["postgres"],
            user=user,
        )
        self.engine: dynamodb_local.LocalEngine | None = None
        self.engine_started = threading.Event()
        self.engine_started.set()  # nothing to wait for until start() starts it
        self.setup: list[subprocess.Popen[bytes]] = []  # manage.py commands run while starting
        self.children: dict[str, Child] = {}
        self.logins: dict[str, str] = {}
        self.ca: Path | None = None
        self.started = time.monotonic()
        self.ready_after: dict[str, float] = {}

    # -- start

    def start(self) -> None:
        _clean_leftovers()
        for path in (STACK / "var", LOGS, TLS, STACK / "redis"):
            path.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = certificates()
        ENV_FILE.touch(mode=0o600)
        ENV_FILE.write_text(
            "# The stack's environment (scripts/stack.py), new on every start. Throwaway secrets.\n"
            + "".join(f"{name}={value}\n" for name, value in environment_of(self.env).items())
        )
        self._save_state()

        say("starting PostgreSQL, Redis, DynamoDB Local and moto's S3")
        engine_error: list[Exception] = []

        def engine() -> None:
            try:
                self.engine = dynamodb_local.start(
                    port=self.port["dynamodb"], db_path=None, log_path=LOGS / "dynamodb.log", timeout=120
                )
            except LocalEngineError as error:
                engine_error.append(error)
            finally:
                self.engine_started.set()

        self.engine_started.clear()
        threading.Thread(target=engine, daemon=True).start()
        self._service(
            "redis",
            [
                self.binaries["redis-server"],
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port["redis"]),
                "--requirepass",
                self.passwords["redis"],
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(STACK / "redis"),
            ],
        )
        self._service("s3", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port["s3"])])
        setup = {"collectstatic": self._manage("collectstatic", "--noinput")}  # needs nothing else: meanwhile
        self.postgres.start()
        self._mark("PostgreSQL")
        self._save_state()
        setup["migrate"] = self._manage("migrate", "--noinput")
        self.engine_started.wait()
        if engine_error:
            raise StackError(str(engine_error[0]))
        self._mark("DynamoDB Local")
        self._save_state()
        setup["dynamodb create"] = self._manage("dynamodb", "create")
        self._wait_redis()
        self._wait_s3()
        self._mark("Redis and S3")
        while setup:
            for name, process in list(setup.items()):
                if process.poll() is None:
                    continue
                if process.returncode != 0:
                    raise StackError(f"`manage.py {name}` failed; see {LOGS / 'setup.log'}.")
                self._mark(name)
                del setup[name]
            time.sleep(0.2)

        say("starting two gunicorn nodes (HTTPS) and two task workers")
        for name in WORKERS:
            self._child(name, [PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", "1"])
        for name in NODES:
            self._child(
                name,
                [
                    GUNICORN,
                    "paysite.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port[name]}",
                    "--workers",
                    str(GUNICORN_WORKERS),
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "1",
                    "--certfile",
                    str(cert),
                    "--keyfile",
                    str(key),
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "10",
                    "--log-level",
                    "warning",
                ],
                stop_seconds=15,
            )
        self._save_state()
        self._seed()  # while the nodes start
        for name in NODES:
            self._wait_node(name)
        self._mark("nodes")
        self._save_state()

    def _mark(self, step: str) -> None:
        self.ready_after[step] = time.monotonic() - self.started

    def _service(self, name: str, command: list[str]) -> None:
        child = Child(name=name, command=command, env=self.env)
        child.start()
        self.children[name] = child

    def _child(self, name: str, command: list[str], stop_seconds: float = 30) -> None:
        child = Child(name=name, command=command, env=self.env, restart=True, stop_seconds=stop_seconds)
        child.start()
        self.children[name] = child

    def _manage(self, *args: str) -> subprocess.Popen[bytes]:
        with (LOGS / "setup.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 (our own manage.py)
                [PYTHON, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.setup.append(process)
        return process

    def _wait(self, what: str, ready: object, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for child in self.children.values():
                if child.exited() is not None:
                    raise StackError(f"{child.name} exited at start; see {LOGS / (child.name + '.log')}.")
            try:
                if ready():  # type: ignore[operator]
                    return
            except Exception:  # noqa: BLE001, S110 - not yet
                pass
            time.sleep(0.3)
        raise StackError(f"{what} did not answer within {seconds:.0f} seconds; see {LOGS}.")

    def _wait_redis(self) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port["redis"], password=self.passwords["redis"])
        self._wait("Redis", client.ping)

    def _wait_s3(self) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.env["SETTLEMENT_S3_ENDPOINT"],
            region_name="us-east-1",
            aws_access_key_id="stack",
            aws_secret_access_key="stack",
        )

        def bucket() -> bool:
            s3.create_bucket(Bucket=BUCKET)
            return True

        self._wait("moto's S3", bucket)

    def _wait_node(self, name: str) -> None:
        context = ssl.create_default_context(cafile=str(self.ca))
        url = f"https://127.0.0.1:{self.port[name]}/accounts/login/"

        def answers() -> bool:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:  # noqa: S310 (https, ours)
                return response.status == 200

        self._wait(f"gunicorn {name}", answers, seconds=120)

    def _seed(self) -> None:
        """One merchant with an API key, its admin, and an ops user (TOTP enrolment at first sign-in)."""
        os.environ.update(environment_of(self.env))
        os.environ["DJANGO_SETTINGS_MODULE"] = "paysite.settings"
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.db import connections

        from core.actor import Actor
        from merchants.models import Membership
        from merchants.services import api_key_create, merchant_create

        actor = Actor(type="system", id="stack")
        merchant = merchant_create(name="Stack Demo", actor=actor)
        users = get_user_model().objects
        admin_password, ops_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        admin = users.create_user(username=ADMIN, password=admin_password)
        Membership.objects.create(user=admin, merchant_id=merchant.merchant_id, role="admin")
        users.create_user(username=OPS, password=ops_password, is_staff=True)
        self.logins = {
            "merchant": merchant.merchant_id,
            "api_key": api_key_create(merchant_id=merchant.merchant_id, name="stack", actor=actor).secret,
            ADMIN: admin_password,
            OPS: ops_password,
        }
        connections.close_all()

    # -- state, supervision, stop

    def _save_state(self) -> None:
        state = {
            "script_pid": os.getpid(),
            "root": str(ROOT),
            "env_file": str(ENV_FILE),
            "ca": str(self.ca) if self.ca else None,
            "nodes": {name: f"https://127.0.0.1:{self.port[name]}" for name in NODES},
            "ports": self.port,
            "postgres": {"data": str(self.postgres.data), "pid": self.postgres.pid(), "pg_ctl": self.postgres.pg_ctl},
            "dynamodb_pid": self.engine.process.pid if self.engine and self.engine.process else None,
            "processes": {
                name: {"pid": child.pid, "worker_id": child.worker_id, "restarts": child.restarts}
                for name, child in self.children.items()
            },
            "logins": self.logins,
        }
        STATE.touch(mode=0o600)
        temporary = STATE.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(STATE)

    def supervise(self) -> None:
        """Start again a node or worker that died; a service that died stops the stack."""
        for child in self.children.values():
            code = child.exited()
            if code is None:
                continue
            if not child.restart:
                raise StackError(f"{child.name} stopped (exit {code}); see {LOGS / (child.name + '.log')}.")
            if child.restarts >= MAX_RESTARTS:
                raise StackError(f"{child.name} keeps stopping; see {LOGS / (child.name + '.log')}.")
            child.stop()  # what its master left behind
            child.restarts += 1
            child.start()
            say(f"{child.name} exited ({_exit_text(code)}); started it again (pid {child.pid})")
            self._save_state()
        if self.engine is not None and self.engine.process is not None and self.engine.process.poll() is not None:
            raise StackError(f"DynamoDB Local stopped; see {LOGS / 'dynamodb.log'}.")

    def stop(self) -> None:
        say("stopping")
        order = [*NODES, *WORKERS, "s3", "redis"]
        for names in ([*NODES, *WORKERS], ["s3", "redis"]):
            threads = [threading.Thread(target=self.children[n].stop) for n in names if n in self.children]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for name, child in self.children.items():
            if name not in order:
                child.stop()
        for process in self.setup:  # stopped while starting: a migrate or collectstatic still running
            if process.poll() is None:
                _killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
        # Stopped while starting: DynamoDB Local may be about to answer. (An Event, not Thread.join: a
        # join that Ctrl-C interrupted can return at once the next time.)
        self.engine_started.wait(timeout=130)
        if self.engine is not None:
            self.engine.stop()
        self.postgres.stop()
        STATE.unlink(missing_ok=True)
        say("stopped")

    def banner(self) -> None:
        line = "=" * 78
        print(f"\n{line}")
        print(f"Paysite stack up in {time.monotonic() - self.started:.0f} s (Ctrl-C stops everything)")
        print("  ready after: " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in self.ready_after.items()))
        for name in NODES:
            print(f"  {name}:  https://127.0.0.1:{self.port[name]}/   (CA certificate: {self.ca})")
        print(f"  PostgreSQL 127.0.0.1:{self.port['postgres']} (data {self.postgres.cluster})")
        print(f"  Redis 127.0.0.1:{self.port['redis']}, DynamoDB Local 127.0.0.1:{self.port['dynamodb']}, ", end="")
        print(f"S3 (moto) 127.0.0.1:{self.port['s3']}, bucket {BUCKET}")
        print(f"  two task workers; logs in {LOGS}")
        print("Logins (passwords made for this run):")
        print(f"  {ADMIN:<12} {self.logins[ADMIN]}   merchant admin of Stack Demo")
        print(f"  {OPS:<12} {self.logins[OPS]}   ops staff (enrols TOTP MFA at first sign-in)")
        print(f"API key of Stack Demo ({self.logins['merchant']}):\n  {self.logins['api_key']}")
        print(
            f"  curl --cacert {self.ca} -H 'Authorization: Bearer {self.logins['api_key']}' "
            f"https://127.0.0.1:{self.port[NODES[0]]}/api/v1/merchant"
        )
        print(f"manage.py against the stack: PAYSITE_ENV_FILE={ENV_FILE} {PYTHON} manage.py ...")
        print(f"{line}\n", flush=True)


def environment_of(env: dict[str, str]) -> dict[str, str]:
    """The stack's own variables out of a process environment."""
    names = environment({"postgres": 0, "redis": 0, "dynamodb": 0, "s3": 0}, {"postgres": "", "redis": ""})
    return {name: env[name] for name in names}


def _exit_text(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit {code}"


def _clean_leftovers() -> None:
    """Stop what a stack whose script was killed left running, then remove its state."""
    if STATE.exists():
        try:
            state = json.loads(STATE.read_text())
        except ValueError:
            state = {}
        if _alive(state.get("script_pid")) and state.get("script_pid") != os.getpid():
            raise StackError(
                f"A stack is already running (pid {state['script_pid']}); stop it with Ctrl-C or `python scripts/stack.py stop`."
            )
        for process in state.get("processes", {}).values():
            _killpg(process.get("pid"), signal.SIGKILL)
        _killpg(state.get("dynamodb_pid"), signal.SIGKILL)
        postmaster = (state.get("postgres") or {}).get("pid")
        _kill(postmaster, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        deadline = time.monotonic() + 20
        while _alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.2)
    link = STACK / "postgres"
    if link.is_symlink():
        _remove(link.resolve())
    _remove(STACK)
    STACK.mkdir(parents=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run(mode: str, pytest_args: list[str]) -> int:
    # Ctrl-C (SIGINT) and SIGTERM stop everything this script started, even when the shell started it
    # with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = None
    code = 1
    try:
        stack = Stack()
        stack.start()
        stack.banner()
        if mode == "start":
            while True:
                stack.supervise()
                time.sleep(0.5)
        code = _tests(stack, pytest_args)
    except KeyboardInterrupt:
        code = 130 if mode == "test" else 0
    except StackError as error:
        print(f"\npaysite: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stopping short
        if stack is not None:
            stack.stop()
    return code


def _tests(stack: Stack, pytest_args: list[str]) -> int:
    env = {
        **stack.env,
        "PAYSITE_STACK": str(STATE),
        "DYNAMODB_TEST_ENDPOINT": stack.env["DYNAMODB_ENDPOINT"],  # named by the suite's summary line
        "REQUESTS_CA_BUNDLE": str(stack.ca),
        "DJANGO_SETTINGS_MODULE": "paysite.settings",
    }
    command = [PYTHON, "-m", "pytest", "-m", "stack", "tests/stack", "--ds", "paysite.settings", *pytest_args]
    started = time.monotonic()
    tests = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own test suite)
    try:
        while tests.poll() is None:
            stack.supervise()
            time.sleep(0.5)
    except BaseException:
        tests.terminate()
        tests.wait(timeout=30)
        raise
    code = tests.returncode
    say(f"stack tests finished in {time.monotonic() - started:.0f} s (pytest exit {code})")
    load = STACK / "load.json"
    if load.exists():
        run = json.loads(load.read_text())
        say(
            f"load run: {run['clients']} clients, {run['requests']} requests in {run['seconds']} s, "
            f"{run['creates_2xx']} creates; node-a killed after {run['killed_after_seconds']:g} s, "
            f"{run['failovers']} requests sent again to node-b, which answered "
            f"{run['node_b_2xx_in_5_s_after_the_kill']} with 2xx in the next 5 s; violations: {run['violations'] or 'none'}"
        )
    if code == 5:
        print("\npaysite: pytest collected no stack tests; that counts as a failure.", file=sys.stderr)
    return code


def stop_leftovers() -> int:
    try:
        if STATE.exists():
            state = json.loads(STATE.read_text())
            _kill(state.get("script_pid"), signal.SIGTERM)
            deadline = time.monotonic() + 60
            while _alive(state.get("script_pid")) and time.monotonic() < deadline:
                time.sleep(0.5)
        _clean_leftovers()
    except StackError as error:
        fail(str(error))
    say("no stack is running")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test", "stop"}:
        fail("usage: scripts/stack.py start | test [pytest arguments] | stop")
    if sys.argv[1] == "stop":
        sys.exit(stop_leftovers())
    sys.exit(run(sys.argv[1], sys.argv[2:]))
