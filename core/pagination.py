"""One page type for every list, in the API and on the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Up to `limit` items in the list's order, whether more follow, and the cursor that asks for them
    (`starting_after`): the key attribute `cursor_attribute` of the last item."""

    items: list[T]
    has_more: bool
    cursor_attribute: str

    @property
    def next_cursor(self) -> str | None:
        last: Any = self.items[-1] if self.items else None
        return getattr(last, self.cursor_attribute) if self.has_more and last is not None else None
