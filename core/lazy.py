"""Libraries imported when first used: `boto3 = lazy_import("boto3")` at a module's top binds a
stand-in that imports the module at the first attribute read (`boto3.client(...)`) and then passes
every read on to it.

For the heavy libraries only some code paths need (the S3 clients, YAML output, QR codes): a fresh
process, a Lambda function's cold start above all, then answers its first request without importing
them (README "Lambda"). Thread-safe: Python's import lock makes a second thread wait for the first.
The dependency scan of tests/paysite/test_dependencies.py counts these names as imports.
"""

from __future__ import annotations

from functools import partial
from importlib import import_module
from typing import Any

from django.utils.functional import SimpleLazyObject


def lazy_import(name: str) -> Any:
    """The module `name` (dotted names too), imported at the first attribute read."""
    return SimpleLazyObject(partial(import_module, name))
