"""The wire format of the API: compact JSON bytes and RFC 3339 UTC times (milliseconds where the time has
any)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{value.microsecond // 1000:03d}Z" if value.microsecond else "Z")


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
