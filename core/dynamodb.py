"""The one place that builds DynamoDB connection settings.

Every pynamodb model takes its `Meta` from `model_meta()`, and every transaction takes its
connection from `connection()`, so endpoint, region, table prefix, retry mode and timeouts are
decided here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Protocol, cast

from django.apps import apps
from django.conf import settings
from pynamodb import attributes as pynamodb_attributes
from pynamodb.attributes import Attribute, NumberAttribute, TTLAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.constants import NULL
from pynamodb.exceptions import AttributeDeserializationError, DoesNotExist
from pynamodb.indexes import AllProjection
from pynamodb.models import MetaProtocol, Model

from core import retry
from core.ids import is_id

# What every new DynamoDB client gets installed on it (the costs app meters consumed capacity this way).
_client_hooks: list[Callable[[Any], None]] = []


def _config() -> dict[str, Any]:
    return settings.DYNAMODB


def table_name(base: str) -> str:
    return f"{_config()['TABLE_PREFIX']}{base}"


def _retry_configuration() -> dict[str, Any]:
    return {"mode": "standard", "total_max_attempts": _config()["MAX_ATTEMPTS"]}


class TableMeta(MetaProtocol, Protocol):
    """What `meta()` makes (for the type checker only): pynamodb's `Meta`, plus the table's name
    without `TABLE_PREFIX`."""

    base_name: str


def meta(base: str) -> TableMeta:
    """A model's `Meta` class for table `base`: `Meta = dynamodb.meta("payments")`."""
    config = _config()
    attrs = {
        "table_name": table_name(base),
        "base_name": base,
        "host": config["ENDPOINT"],
        "region": config["REGION"],
        "connect_timeout_seconds": config["CONNECT_TIMEOUT"],
        "read_timeout_seconds": config["READ_TIMEOUT"],
        "max_pool_connections": config["MAX_POOL_CONNECTIONS"],
        "retry_configuration": _retry_configuration(),
        "billing_mode": "PAY_PER_REQUEST",
    }
    return cast("TableMeta", type("Meta", (), attrs))


def models() -> list[type[TableModel]]:
    """Every table of the installed apps: the `TableModel`s defined in each app's `models.py`, which
    Django's app registry has imported, in the order of `INSTALLED_APPS` and then of definition."""
    found: list[type[TableModel]] = []
    for app in apps.get_app_configs():
        module = app.models_module
        if module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, TableModel)
                and value.__module__ == module.__name__
                and hasattr(value.Meta, "base_name")
            ):
                found.append(value)
    return found


def on_new_client(hook: Callable[[Any], None]) -> None:
    """Run `hook(client)` on every DynamoDB client made from now on (an app's `ready()` calls this)."""
    if hook not in _client_hooks:
        _client_hooks.append(hook)


class _HookedConnection(Connection):
    """A connection whose botocore client has the deadline of `core.retry` and the hooks of
    `on_new_client` installed, once per client."""

    @property
    def client(self) -> Any:
        client: Any = super().client
        if not getattr(client, "_paysite_hooked", False):
            retry.install(client)
            for hook in _client_hooks:
                hook(client)
            client._paysite_hooked = True
        return client


@cache
def _connection(host: str | None, region: str) -> Connection:
    config = _config()
    return _HookedConnection(
        region=region,
        host=host,
        connect_timeout_seconds=config["CONNECT_TIMEOUT"],
        read_timeout_seconds=config["READ_TIMEOUT"],
        max_pool_connections=config["MAX_POOL_CONNECTIONS"],
        retry_configuration=_retry_configuration(),
    )


def connection() -> Connection:
    """The connection transactions and batch calls use."""
    config = _config()
    return _connection(config["ENDPOINT"], config["REGION"])


def reconfigure(*, endpoint: str | None, prefix: str | None = None, region: str | None = None) -> None:
    """Point every model at another engine (tests switch between moto and DynamoDB Local)."""
    config = _config()
    config["ENDPOINT"] = endpoint
    if prefix is not None:
        config["TABLE_PREFIX"] = prefix
    if region is not None:
        config["REGION"] = region
    _connection.cache_clear()
    for model in models():
        model.Meta.host = config["ENDPOINT"]
        model.Meta.region = config["REGION"]
        model.Meta.table_name = table_name(model.Meta.base_name)
        model._connection = None


def index_meta(name: str, projection: Any = None) -> type:
    """A GSI's `Meta` class; the whole item is projected unless told otherwise."""
    return type("Meta", (), {"index_name": name, "projection": projection or AllProjection()})


def _number(text: str) -> Any:
    """`NumberAttribute.deserialize` (`json.loads`) for DynamoDB's canonical numbers, integers first."""
    try:
        return int(text)
    except ValueError:
        return json.loads(text)


def _map_value(attribute: Attribute[Any]) -> Callable[[Any], Any]:
    kind = type(attribute)
    return lambda value: kind(**value) if isinstance(value, Mapping) else value


# For each attribute of a model or map: its Python name, stored name and DynamoDB type, how its stored
# value is read (None: kept as it is), its default, and what its setter does to a value (None: nothing).
PlanEntry = tuple[str, str, str, Callable[[Any], Any] | None, Any, Callable[[Any], Any] | None]
ReadPlan = list[PlanEntry]


# What an attribute's `__set__` does to a value before storing it, for the setters pynamodb has; an
# attribute with any other setter leaves its model on pynamodb's own path (`_read_plan`).
_SETTERS: dict[Any, Callable[[Attribute[Any]], Callable[[Any], Any] | None]] = {
    Attribute.__set__: lambda attribute: None,
    VersionAttribute.__set__: lambda attribute: int,
    TTLAttribute.__set__: lambda attribute: attribute._normalize,  # type: ignore[attr-defined]
    pynamodb_attributes.MapAttribute.__set__: _map_value,
}


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return first if second is None else (lambda value: second(first(value)))


def _version(text: str) -> int:
    return int(_number(text))


def _plan_entry(name: str, attribute: Attribute[Any]) -> PlanEntry:
    """How an attribute is read: its stored value deserialized (an integer with `int`, not
    `json.loads`) and then what its setter does; its default goes through the same setter."""
    store = _SETTERS[type(attribute).__set__](attribute)
    kind = type(attribute)
    read: Callable[[Any], Any] | None
    if kind is UnicodeAttribute:
        read = None
    elif kind is NumberAttribute:
        read = _number
    elif kind is VersionAttribute:
        read = _version
    else:
        read = _then(attribute.deserialize, store)
    return name, attribute.attr_name, attribute.attr_type, read, attribute.default, store


def _read_plan(container: type) -> ReadPlan | None:
    """Built once per class; None for a class with an attribute whose setter is not one of pynamodb's
    known ones (a discriminator, say): pynamodb's own path then."""
    plan: ReadPlan | None | bool = container.__dict__.get("_paysite_read_plan", False)
    if plan is False:
        attributes = container.get_attributes()  # type: ignore[attr-defined]
        plan = (
            [_plan_entry(name, attribute) for name, attribute in attributes.items()]
            if all(type(attribute).__set__ in _SETTERS for attribute in attributes.values())
            else None
        )
        container._paysite_read_plan = plan  # type: ignore[attr-defined]
    return cast(ReadPlan | None, plan)


def _read_values(plan: ReadPlan, stored_values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `attribute_values` pynamodb's `_container_deserialize` makes of a stored item or map:
    every stored value deserialized, defaults for the absent ones, keyed by Python name."""
    values: dict[str, Any] = {}
    for name, stored_name, attr_type, read, default, store in plan:
        stored = stored_values.get(stored_name)
        if stored and NULL not in stored:
            if attr_type not in stored:
                raise AttributeDeserializationError(stored_name, attr_type)
            value = stored[attr_type]
            values[name] = value if read is None else read(value)
        elif default is not None:
            value = default() if callable(default) else default
            if value is not None:
                values[name] = value if store is None else store(value)
    return values


class MapAttribute(pynamodb_attributes.MapAttribute[str, Any]):
    """pynamodb's typed `MapAttribute`, read from DynamoDB like `TableModel` (`_read_values`)."""

    @classmethod
    def _instantiate(cls, attribute_values: dict[str, dict[str, Any]]) -> Any:
        plan = _read_plan(cls)
        if plan is None:
            return super()._instantiate(attribute_values)
        instance = cls(_user_instantiated=False)
        instance.attribute_values = _read_values(plan, attribute_values)
        return instance


class TableModel(Model):
    """Base of every Paysite table: all tables share one botocore client (one connection pool and
    one client start-up, instead of one per table), and items are read into models without
    pynamodb's per-attribute descriptors (`_instantiate`)."""

    Meta: TableMeta  # an annotation only: each table sets `Meta = meta(...)`

    @classmethod
    def _instantiate(cls, attribute_values: dict[str, dict[str, Any]]) -> Any:
        """A model from a stored item, with the very `attribute_values` pynamodb's own
        `_instantiate` makes, in half the time: a page of 100 payments took 10 ms through the
        descriptors and a `json.loads` per number (docs/DECISIONS.md "The API's hot path")."""
        plan = _read_plan(cls)
        if plan is None:
            return super()._instantiate(attribute_values)
        instance = cls.__new__(cls)
        instance.attribute_values = _read_values(plan, attribute_values)
        return instance

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        shared = connection()
        if table.connection is not shared:
            name = cls.Meta.table_name
            if name not in shared._tables:
                shared.add_meta_table(table.connection.get_meta_table(name))
            table.connection = shared
        return table


def item_of_merchant(model: type[Model], item_id: str, *, prefix: str, merchant_id: str) -> Any:
    """The item whose key is `item_id` (a `prefix_` id) when it belongs to `merchant_id`, else None:
    strongly consistent, and another merchant's item is indistinguishable from a missing one."""

    if not is_id(item_id, prefix):
        return None
    try:
        item: Any = model.get(item_id, consistent_read=True)
    except DoesNotExist:
        return None
    return item if item.merchant_id == merchant_id else None
