"""The two locks: requirements.lock is what production runs, requirements-dev.lock the tools on top.

- No test or lint tool in the runtime lock (the Lambda package and a production install use it alone).
- Every third-party package the apps import, or name in the settings (INSTALLED_APPS, MIDDLEWARE,
  backends), is in the runtime lock. The apps are import-linter's root packages (.importlinter) plus
  manage.py; tests, bench and scripts may use the dev lock. Imports under `if TYPE_CHECKING:` never
  run, so they don't count.
- The production drivers are there; both locks agree on every shared package; each lock holds the
  version its .in file asks for (an .in edited without `make lock` fails here).
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import sys
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]

TEST_TOOLS = {
    "pytest",
    "playwright",
    "schemathesis",
    "ruff",
    "hypothesis",
    "moto",
    "cfn-lint",
    "mypy",
    "import-linter",
    "django-stubs",
    "uv",
}
TEST_TOOL_PREFIXES = ("pytest-", "types-")

# Loaded by a setting rather than an import: PostgreSQL (DATABASE_URL), the Redis cache (REDIS_URL),
# the production server and the WSGI adapter for AWS Lambda.
PRODUCTION_DRIVERS = {"psycopg", "psycopg-binary", "redis", "gunicorn", "apig-wsgi"}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_MODULE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(filename: str) -> dict[str, set[str]]:
    """name -> versions pinned in a lock or .in file (a universal lock may pin two, under markers)."""
    found: dict[str, set[str]] = {}
    for line in (ROOT / filename).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found.setdefault(normalize(match[1]), set()).add(match[2])
    return found


@cache
def runtime_lock() -> dict[str, set[str]]:
    return pins("requirements.lock")


def app_roots() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def app_files() -> list[Path]:
    files = [path for root in app_roots() for path in sorted((ROOT / root).rglob("*.py"))]
    return [*files, ROOT / "manage.py"]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST) -> set[str]:
    """Top-level names of the absolute imports that run (those under `if TYPE_CHECKING:` don't),
    `core.lazy.lazy_import("name")` included."""
    names: set[str] = set()
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            nodes.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "lazy_import":
            names.update(arg.value.split(".")[0] for arg in node.args[:1] if isinstance(arg, ast.Constant))
        nodes.extend(ast.iter_child_nodes(node))
    return names


def missing_from_runtime_lock(modules: dict[str, set[str]]) -> list[str]:
    """'module (where): distributions' for each third-party module whose distribution is not locked."""
    distributions = importlib.metadata.packages_distributions()
    local = set(app_roots())
    problems = []
    for module, where in sorted(modules.items()):
        if module in local or module in sys.stdlib_module_names:
            continue
        dists = {normalize(dist) for dist in distributions.get(module, [])}
        if not dists & runtime_lock().keys():
            shown = ", ".join(sorted(where)[:3])
            problems.append(f"{module} ({shown}): {', '.join(sorted(dists)) or 'no installed distribution'}")
    return problems


def test_runtime_lock_has_no_test_or_lint_tool():
    tools = sorted(name for name in runtime_lock() if name in TEST_TOOLS or name.startswith(TEST_TOOL_PREFIXES))

    assert tools == [], f"test or lint tools in requirements.lock (they belong in requirements-dev.in): {tools}"


def test_every_package_the_apps_import_is_in_the_runtime_lock():
    imported: dict[str, set[str]] = {}
    for path in app_files():
        for module in runtime_imports(ast.parse(path.read_text(), filename=str(path))):
            imported.setdefault(module, set()).add(str(path.relative_to(ROOT)))

    assert {"django", "pynamodb", "boto3"} <= imported.keys()  # the scan reads the apps
    assert missing_from_runtime_lock(imported) == []


def test_every_package_the_settings_name_is_in_the_runtime_lock():
    """INSTALLED_APPS, MIDDLEWARE, backends: loaded from strings, so no import shows them."""
    distributions = importlib.metadata.packages_distributions()
    settings = ROOT / "paysite" / "settings.py"
    named: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(settings.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_PATH.match(node.value):
            module = node.value.split(".")[0]
            if module in distributions:
                named.setdefault(module, set()).add(node.value)

    assert {"storages", "whitenoise", "axes", "template_partials"} <= named.keys()
    assert missing_from_runtime_lock(named) == []


def test_production_drivers_are_in_the_runtime_lock():
    assert sorted(PRODUCTION_DRIVERS - runtime_lock().keys()) == []


def test_the_locks_agree_on_every_package_they_share():
    dev = pins("requirements-dev.lock")
    differ = {name: (runtime_lock()[name], dev[name]) for name in runtime_lock().keys() & dev.keys()}

    assert {name: both for name, both in differ.items() if both[0] != both[1]} == {}


@pytest.mark.parametrize(
    ("source", "lock"), [("requirements.in", "requirements.lock"), ("requirements-dev.in", "requirements-dev.lock")]
)
def test_each_lock_holds_the_versions_its_source_asks_for(source, lock):
    wanted, locked = pins(source), pins(lock)

    stale = {
        name: (version, locked.get(name)) for name, (version,) in wanted.items() if version not in locked.get(name, ())
    }
    assert wanted and stale == {}, f"run `make lock`: {source} and {lock} differ on {stale}"
