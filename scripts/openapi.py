#!/usr/bin/env python
"""`make openapi`: write the served OpenAPI document to docs/openapi.json (the contract test's copy)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()
response = Client().get("/api/v1/openapi.json")
if response.status_code != 200:
    sys.exit(f"paysite: /api/v1/openapi.json answered {response.status_code}.")
target = ROOT / "docs" / "openapi.json"
changed = not target.exists() or target.read_bytes() != response.content
target.write_bytes(response.content)
print(f"Wrote {target.relative_to(ROOT)} ({len(response.content)} bytes, {'changed' if changed else 'unchanged'}).")
