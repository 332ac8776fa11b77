"""A stored object rendered through its API schema without being validated again.

`schema.model_validate(obj)` reads every field through django-ninja's getter (a resolver, or the
attribute, then ninja's conversions) and has pydantic validate it: for a page of 100 payments that
was most of the time the answer took after the Query. `construct` reads the same fields the same way
and builds the schema with `model_construct`, so `model_dump_json()` writes the same JSON from the
one definition (the schema and its resolvers). It is for objects Paysite stored itself, whose types
the models already fix; the tests compare it with `model_validate` over varied payments."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from ninja import Schema
from pynamodb.attributes import AttributeContainer

S = TypeVar("S", bound=Schema)

_MISSING = object()


@dataclass(frozen=True)
class _Field:
    name: str
    resolve: Any  # the schema's static `resolve_<name>`, or None
    one: type[Schema] | None  # a nested schema
    many: type[Schema] | None  # a list of a nested schema
    default: Any  # `_MISSING` when the field is required


def _schema_of(annotation: Any) -> type[Schema] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, Schema) else None


def _nested(annotation: Any) -> tuple[type[Schema] | None, type[Schema] | None]:
    """(the nested schema, the schema of a list's items) of a field's annotation."""
    one = _schema_of(annotation)
    if one is None and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        one = _schema_of(members[0]) if len(members) == 1 else None
    many = None
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        many = _schema_of(item)
    return one, many


_plans: dict[type[Schema], list[_Field]] = {}


def _plan(schema: type[Schema]) -> list[_Field]:
    plan = _plans.get(schema)
    if plan is None:
        resolvers = schema._ninja_resolvers
        plan = []
        for name, field in schema.model_fields.items():
            resolver = resolvers.get(name)
            if resolver is not None and not resolver._static:
                raise TypeError(f"{schema.__name__}.resolve_{name}: only static resolvers are rendered")
            default = field.get_default(call_default_factory=True) if not field.is_required() else _MISSING
            one, many = _nested(field.annotation)
            plan.append(_Field(name, resolver._func if resolver is not None else None, one, many, default))
        _plans[schema] = plan
    return plan


def _reader(obj: Any) -> Any:
    """How to read a field of `obj` by name: a dict's key, a pynamodb item's stored value (its
    `attribute_values`, what the attribute's descriptor returns), else the attribute."""
    if isinstance(obj, dict):
        return lambda name: obj.get(name, _MISSING)
    if isinstance(obj, AttributeContainer):
        values, attributes = obj.attribute_values, obj.get_attributes()
        return lambda name: values.get(name) if name in attributes else getattr(obj, name, _MISSING)
    return lambda name: getattr(obj, name, _MISSING)


def construct(schema: type[S], obj: Any) -> S:
    """`schema` filled from `obj` as `schema.model_validate(obj)` fills it, without validation."""
    read = _reader(obj)
    values: dict[str, Any] = {}
    for field in _plan(schema):
        value = field.resolve(obj) if field.resolve is not None else read(field.name)
        if value is _MISSING:
            if field.default is _MISSING:
                raise AttributeError(f"{type(obj).__name__} has no {field.name!r} for {schema.__name__}")
            value = field.default
        elif callable(value):
            value = value()  # as ninja's getter does
        if field.one is not None and value is not None:
            value = construct(field.one, value)
        elif field.many is not None and value is not None:
            value = [construct(field.many, item) for item in value]
        values[field.name] = value
    return schema.model_construct(**values)


def render_json(schema: type[Schema], obj: Any) -> str:
    """`schema.model_validate(obj).model_dump_json()` for an object Paysite stored itself."""
    return construct(schema, obj).model_dump_json()
