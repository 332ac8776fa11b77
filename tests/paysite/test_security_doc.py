"""docs/SECURITY.md names a test for every control: each named test must exist, so a renamed or
deleted test cannot leave the threat model pointing at nothing."""

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SECURITY.md"
CODE = re.compile(r"`([^`]+)`")


def _references() -> list[tuple[str, str | None]]:
    """(test file, test name or None) for every test the document names, in order."""
    found: list[tuple[str, str | None]] = []
    for line in DOC.read_text().splitlines():
        current = None
        for text in CODE.findall(line):
            path, _, name = text.partition("::")
            if path.endswith(".py") and "/test_" in f"/{path}":
                current = path
                found.append((current, name or None))
            elif not path and name.startswith("test_") and current:
                found.append((current, name))
    return found


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_control_row_names_a_test():
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ") and "---" not in line]
    controls = [row for row in rows if row.count("|") >= 5 and not row.startswith("| STRIDE")]
    assert len(controls) >= 40
    assert [row for row in controls if "test_" not in row and "Asset" not in row and "**" not in row] == []


@pytest.mark.parametrize("path, name", _references())
def test_each_named_test_exists(path, name):
    source = ROOT / "tests" / path
    assert source.exists(), f"{path} is named in docs/SECURITY.md but does not exist"
    if name is not None:
        assert name in _test_names(source), f"{path}::{name} is named in docs/SECURITY.md but does not exist"
