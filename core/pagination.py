"""One page type for every list, in the API and on the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from ninja import Schema
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from core.ids import is_id

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


def query_error(code: str, message: str) -> PydanticCustomError:
    """A query parameter refused with its own problem code (`invalid_limit`, `invalid_cursor`)."""
    return PydanticCustomError(code, message, {"code": code})


class PageQuery(Schema):
    """`limit` and `starting_after` of an API list, checked alike everywhere: a subclass names the id
    prefix its cursor carries (`cursor_prefix`, `cursor_noun`) and may redeclare `starting_after`
    for its own description."""

    cursor_prefix: ClassVar[str]
    cursor_noun: ClassVar[str]

    limit: int = Field(20, description="1 to 100.")
    starting_after: str | None = Field(None, description="An id (`next_cursor`): the page after it.")

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise query_error("invalid_limit", "`limit` must be 1 to 100.")
        return value

    @field_validator("starting_after")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None and not is_id(value, cls.cursor_prefix):
            raise query_error(
                "invalid_cursor",
                f"`starting_after` must be {cls.cursor_noun} id (`{cls.cursor_prefix}_...`), as in `next_cursor`.",
            )
        return value
