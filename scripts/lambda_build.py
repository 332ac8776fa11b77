#!/usr/bin/env python
"""`make lambda`: build var/lambda/paysite.zip, the code of every function of the SAM template.

What goes in, at the zip's root (Lambda's /var/task):
- the runtime lock's packages (requirements.lock, nothing of requirements-dev.lock) as Linux wheels
  for CPython 3.11 on x86_64, manylinux2014 (the python3.11 runtime runs on Amazon Linux 2, glibc
  2.26, so no manylinux_2_28 wheel);
- the apps (import-linter's root packages, as tests/paysite/test_dependencies.py counts them) and
  manage.py; no tests, benchmarks or scripts;
- `staticfiles/`, collected with the production storage (hashed names, the manifest, compressed
  copies) for whitenoise;
- every module compiled to `__pycache__` (unchecked-hash .pyc): /var/task is read-only, so Python
  could not cache what it compiles, and each cold start would compile every module it imports;
- of botocore's API models (one directory per AWS service, over 400), only those of the services the
  functions call (`AWS_SERVICES`): botocore lists every service directory when it creates its first
  client, which each cold start's first request does; `endpoints.json` keeps only their entries.

The wheels are downloaded once into var/lambda/wheels, and the installed, compiled dependencies are
kept in var/lambda/deps-<hash of the lock>, so a rebuild after a code change takes seconds. The zip
is reproducible: sorted entries, one fixed timestamp. The build fails above Lambda's 250 MB limit.

python scripts/lambda_build.py [--output var/lambda/paysite.zip]
"""

from __future__ import annotations

import argparse
import configparser
import fcntl
import gzip
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "lambda"
WHEELS = VAR / "wheels"
LOCK = ROOT / "requirements.lock"
UNZIPPED_LIMIT = 262_144_000  # Lambda: 250 MB for the unzipped code, layers included
PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11"]
PLATFORM += ["--abi", "cp311", "--only-binary=:all:"]
SKIPPED_NAMES = {"__pycache__", ".DS_Store"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
# DynamoDB (pynamodb), S3 (boto3, django-storages); STS, SSO and sign-in for botocore's credential
# providers. A client of any other service fails with UnknownServiceError: add the service here.
AWS_SERVICES = ("dynamodb", "s3", "signin", "sso", "sso-oidc", "sts")
DEPS_FORMAT = b"endpoints-trimmed"  # changes the cached dependencies' name when what is trimmed changes


def fail(sentence: str) -> None:
    print(f"paysite: {sentence}", file=sys.stderr)
    sys.exit(1)


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(  # noqa: S603 (this interpreter's pip, compileall and manage.py)
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if result.returncode:
        fail(f"`{' '.join(str(part) for part in command[:4])} ...` failed:\n{result.stdout}{result.stderr}")


def compile_tree(path: Path) -> None:
    """Compile every module for the python3.11 runtime; a .pyc that is never checked against its
    source (the zip's timestamps are fixed, and /var/task never changes)."""
    if sys.version_info[:2] != (3, 11):
        fail(f"the Lambda runtime is Python 3.11; this is {sys.version.split()[0]}, whose .pyc it cannot load.")
    run(sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", path)


def dependencies() -> Path:
    """The runtime lock installed for Linux x86_64, compiled and zipped, cached per lock: the zip
    every build starts from."""
    digest = hashlib.sha256(LOCK.read_bytes() + " ".join(AWS_SERVICES).encode() + DEPS_FORMAT).hexdigest()[:16]
    archive = VAR / f"deps-{digest}.zip"
    if archive.exists():
        return archive
    for stale in VAR.glob("deps-*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    print(f"paysite: installing {LOCK.name} for Linux x86_64 (wheels cached in {WHEELS.relative_to(ROOT)})", flush=True)
    run(*pip, "download", "--quiet", "--dest", WHEELS, *PLATFORM, "-r", LOCK)
    with tempfile.TemporaryDirectory(prefix="paysite-lambda-deps-") as scratch:
        target = Path(scratch)
        run(*pip, "install", "--quiet", "--no-index", "--find-links", WHEELS, "--target", target, "--no-compile",
            *PLATFORM, "-r", LOCK)  # fmt: skip
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts, with this machine's interpreter path
        _keep_only_services(target / "botocore" / "data")
        compile_tree(target)
        _write_zip(archive, _files(target))
    return archive


def _keep_only_services(data: Path) -> None:
    """Remove the API models of the AWS services the functions never call (see `AWS_SERVICES`), and
    their entries in `endpoints.json` (1.2 MB, parsed when the first client is created)."""
    missing = [service for service in AWS_SERVICES if not (data / service).is_dir()]
    if missing:
        fail(f"botocore has no API model for {', '.join(missing)}: check AWS_SERVICES in {Path(__file__).name}.")
    for service in data.iterdir():
        if service.is_dir() and service.name not in AWS_SERVICES:
            shutil.rmtree(service)
    prefixes = {_endpoint_prefix(model) for model in data.glob("*/*/service-2.json*")}
    endpoints = json.loads((data / "endpoints.json").read_text())
    for partition in endpoints["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in prefixes}
    (data / "endpoints.json").write_text(json.dumps(endpoints, separators=(",", ":")))


def _endpoint_prefix(model: Path) -> str:
    """The name a service's endpoints go by in `endpoints.json` (`oidc` for sso-oidc...)."""
    raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
    return json.loads(raw)["metadata"]["endpointPrefix"]


def app_roots() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def _copy_app(target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if name in SKIPPED_NAMES or Path(name).suffix in SKIPPED_SUFFIXES}

    for package in app_roots():
        shutil.copytree(ROOT / package, target / package, ignore=ignore)
    shutil.copy2(ROOT / "manage.py", target / "manage.py")


def _static_sources_digest() -> str:
    """What collectstatic's output depends on: the apps' static files, the npm and Python locks (the
    vendored and the packages' static files) and the settings that name them."""
    digest = hashlib.sha256()
    sources = [LOCK, ROOT / "package-lock.json", ROOT / "paysite" / "settings.py"]
    sources += sorted(path for root in app_roots() for path in (ROOT / root).glob("static/**/*") if path.is_file())
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def static_files(app: Path) -> Path:
    """`staticfiles/` as collectstatic writes it with the production storage (hashed names, the
    manifest, compressed copies), cached until a static source changes. DEBUG off needs secrets:
    throwaway ones, used for nothing else."""
    cached = VAR / f"static-{_static_sources_digest()}"
    if cached.exists():
        return cached
    for stale in VAR.glob("static-*"):
        shutil.rmtree(stale)
    scratch = Path(tempfile.mkdtemp(prefix="paysite-lambda-static-"))
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DYNAMODB_"))},
        "PAYSITE_ENV_FILE": "",
        "PAYSITE_VAR_DIR": str(scratch),
        "DATABASE_URL": f"sqlite:///{scratch / 'collectstatic.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "paysite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(40),
        "FINGERPRINT_KEY": secrets.token_urlsafe(40),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(40),
    }
    (app / "node_modules").symlink_to(ROOT / "node_modules")  # STATICFILES_DIRS: the npm packages
    try:
        run(sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0", cwd=app, env=env)
    finally:
        (app / "node_modules").unlink()
    shutil.move(app / "staticfiles", scratch / "staticfiles")
    _keep_only_hashed(scratch / "staticfiles")
    (scratch / "collectstatic.sqlite3").unlink(missing_ok=True)
    scratch.rename(cached)
    return cached


def _keep_only_hashed(static: Path) -> None:
    """Remove the unhashed copy of every file the manifest renames (whitenoise's
    `WHITENOISE_KEEP_ONLY_HASHED_FILES`): pages reach static files through `{% static %}`, which names
    the hashed copy, and whitenoise lists every file it serves (at the first request for one: see
    core.static_files), so half as many files is a shorter first page."""
    manifest = json.loads((static / "staticfiles.json").read_text())
    for original, hashed in manifest["paths"].items():
        if original != hashed:
            for suffix in ("", ".gz", ".br"):
                (static / f"{original}{suffix}").unlink(missing_ok=True)


def _files(base: Path) -> list[tuple[str, Path]]:
    return [(path.relative_to(base).as_posix(), path) for path in sorted(base.rglob("*")) if path.is_file()]


def _top_level(entries: list[tuple[str, Path]]) -> set[str]:
    return {name.split("/", 1)[0].removesuffix(".py") for name, _ in entries}


def _write_zip(output: Path, entries: list[tuple[str, Path]], *, base: Path | None = None) -> int:
    """Write `entries` (name, file) sorted, with one fixed time, to a new zip or, with `base`, to a
    copy of that zip; the bytes they unzip to."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    if base is not None:
        shutil.copyfile(base, partial)
    unzipped = 0
    with zipfile.ZipFile(partial, "a" if base else "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data)
    partial.replace(output)
    return unzipped


def _unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


@contextmanager
def _one_build_at_a_time() -> Iterator[None]:
    """The caches under var/lambda are shared (and stale ones removed): two test processes, or the
    tests and `make lambda`, take turns."""
    VAR.mkdir(parents=True, exist_ok=True)
    with (VAR / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(output: Path) -> tuple[int, int]:
    """Build the zip at `output`; (zipped, unzipped) bytes."""
    with _one_build_at_a_time():
        return _build(output)


def _build(output: Path) -> tuple[int, int]:
    deps = dependencies()
    with tempfile.TemporaryDirectory(prefix="paysite-lambda-") as scratch:
        app = Path(scratch) / "app"
        _copy_app(app)
        static = static_files(app)
        compile_tree(app)
        ours = _files(app) + _files(static)
        with zipfile.ZipFile(deps) as archive:
            theirs = {name.split("/", 1)[0].removesuffix(".py") for name in archive.namelist()}
        clashes = (_top_level(ours) & theirs) - {"__pycache__"}
        if clashes:
            fail(f"a dependency installs names the project uses: {', '.join(sorted(clashes))}.")
        _write_zip(output, ours, base=deps)
    unzipped = _unzipped_size(output)
    if unzipped > UNZIPPED_LIMIT:
        output.unlink()
        fail(f"the package unzips to {unzipped / 1e6:.1f} MB, over Lambda's 250 MB.")
    return output.stat().st_size, unzipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=VAR / "paysite.zip")
    output = parser.parse_args().output.resolve()
    zipped, unzipped = build(output)
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    print(f"Built {shown}: {zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped (limit 250 MB).")


if __name__ == "__main__":
    main()
