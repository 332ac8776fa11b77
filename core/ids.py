"""Prefixed, time-sortable ids: `pay_` + ULID. Sorting ids sorts by creation time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ulid import ULID

PREFIXES = frozenset(
    {"pay", "txn", "re", "cus", "mer", "set", "evt", "key", "dis", "req", "seal", "rr", "we", "dp", "file", "inv"}
)


def new_id(prefix: str, at: datetime | None = None) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    ulid = ULID.from_datetime(at) if at is not None else ULID()
    return f"{prefix}_{ulid}"


def new_ids(prefix: str, at: datetime, count: int) -> list[str]:
    """`count` ids of the same moment, in ascending order: the order of the list is the order they
    sort in. One id after another at the same moment need not sort that way when other threads make
    ids of later moments in between (the generator only counts up within its latest millisecond)."""
    return sorted(new_id(prefix, at) for _ in range(count))


def id_time(value: str) -> datetime:
    """The creation time encoded in an id."""
    return ULID.from_str(value.split("_", 1)[1]).datetime


def _ceil_ms(at: datetime) -> datetime:
    whole = at.replace(microsecond=at.microsecond // 1000 * 1000)
    return whole if whole == at else whole + timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _bound(prefix: str, at: datetime, tail: str) -> str:
    # A ULID's time cannot be before 1970: an earlier bound (`created_lt=0`) is the first millisecond.
    at = max(at, _EPOCH)
    return f"{prefix}_{str(ULID.from_datetime(at))[:10]}{tail * 16}"  # 10 chars = 48-bit time


def id_floor(prefix: str, at: datetime) -> str:
    """The smallest id created at or after `at`: a key-condition bound."""
    return _bound(prefix, _ceil_ms(at), "0")


def id_ceiling(prefix: str, before: datetime) -> str:
    """The largest id created strictly before `before`: a key-condition bound."""
    return _bound(prefix, _ceil_ms(before) - timedelta(milliseconds=1), "Z")


def now() -> datetime:
    """The current UTC time at millisecond precision, the precision ids carry, so an object's
    `created` equals the time in its id."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def is_id(value: str, prefix: str) -> bool:
    if not isinstance(value, str) or not value.startswith(prefix + "_"):
        return False
    try:
        ULID.from_str(value[len(prefix) + 1 :])
    except ValueError:
        return False
    return True
