"""Authentication events and security-relevant account changes, whatever the entry point (PCI DSS
10.2.1.2, 10.2.1.4, 10.2.1.5).

Every sign-in passes through `django.contrib.auth.login()` and `authenticate()`, on the app's sign-in
page, the admin's `/admin/login/` or anything added later; every change to an account, a group, a
permission or an OTP device is a model save, whether made in the admin, a page, a command or a shell.
So these events come from Django's signals, the one exception to "call things explicitly"
(docs/DECISIONS.md):

- `user_logged_in` / `user_login_failed` / `user_logged_out`: `auth.login`, `auth.login_failed`,
  `auth.logout` in the platform partition.
- `audit_model_watch(Model, ...)`: `<name>.create`, `<name>.update` (only when a watched field
  changed), `<name>.delete` with the watched fields before and after; `<name>.<field>_change` when a
  secret field changed (the password hash, a device key: never their values); `<name>.<relation>.add`
  / `.remove` for many-to-many changes (groups, permissions), from either side of the relation.

The actor of a model change is the user of the request being answered (`core.middleware
.request_current()`), or `manage.py` outside a request. `auth_events_connect()` runs in
`AuditConfig.ready()`; an app above this one watches its own models from its own `ready()`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django_otp.models import Device

from audit.services import audit_record
from core.actor import CLI_ACTOR, Actor, actor_from_request
from core.middleware import request_current

logger = logging.getLogger(__name__)

_BEFORE = "_audit_before"  # the watched state read before a save, kept on the instance until post_save
_CLEARED = "_audit_cleared"  # the related objects a `clear()` is about to remove


def _request_actor(request: Any) -> Actor:
    """The request's actor when it came through the middleware (it has a request id); the command
    line's for a session made in code (the test client's `force_login`, a shell)."""
    if request is None or not hasattr(request, "request_id"):
        return CLI_ACTOR
    return actor_from_request(request)


def _change_actor() -> Actor:
    return _request_actor(request_current())


# --- sign-in and sign-out ----------------------------------------------------------------------


def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    actor = _request_actor(request)
    if actor is not CLI_ACTOR:  # the person who signed in, whatever `request.user` still says
        actor = dataclasses.replace(actor, type="user", id=user.get_username())
    audit_record(merchant_id=None, actor=actor, action="auth.login", entity_type="user", entity_id=user.get_username())


def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")[:150]
    audit_record(
        merchant_id=None,
        actor=_request_actor(request),
        action="auth.login_failed",
        entity_type="user",
        entity_id=username or "-",
        outcome="failure",
    )


def _on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:  # nobody was signed in
        return
    audit_record(
        merchant_id=None,
        actor=_request_actor(request),
        action="auth.logout",
        entity_type="user",
        entity_id=user.get_username(),
        detail=getattr(request, "sign_out_reason", None),
    )


# --- model changes -----------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _label(obj: Any) -> str:
    """How a related object is named in an event: a permission as `has_perm` spells it, others by
    their natural key (a group's name, a user's username)."""
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    natural_key = getattr(obj, "natural_key", None)
    if callable(natural_key):
        return ".".join(str(part) for part in natural_key())
    return str(obj.pk)


def _password_rehash(instance: Any, name: str, update_fields: Any) -> bool:
    """Django's `check_password` stores a new hash of the same password when the hasher's settings
    changed, saving only `password` after clearing the raw password that `set_password` keeps."""
    return (
        name == "password"
        and update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(instance, "_password", "") is None
    )


@dataclasses.dataclass(frozen=True)
class _Watch:
    model: type[models.Model]
    name: str
    fields: tuple[str, ...]
    secrets: tuple[str, ...]
    entity_id: Callable[[Any], str]
    merchant_id: Callable[[Any], str | None]

    def state(self, instance: Any) -> dict[str, Any]:
        out = {}
        for name in self.fields:
            field = self.model._meta.get_field(name)
            if field.is_relation:  # the related object's name, not its database id
                try:
                    related = getattr(instance, name)
                except models.ObjectDoesNotExist:
                    related = None
                out[name] = _label(related) if related is not None else None
            else:
                out[name] = _json(getattr(instance, name))
        return out

    def secret_values(self, instance: Any) -> dict[str, Any]:
        return {name: getattr(instance, name) for name in self.secrets}

    def record(self, instance: Any, action: str, **fields: Any) -> None:
        audit_record(
            merchant_id=self.merchant_id(instance),
            actor=_change_actor(),
            action=f"{self.name}.{action}",
            entity_type=self.name,
            entity_id=self.entity_id(instance),
            **fields,
        )

    # receivers

    def pre_save(self, sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
        if instance._state.adding or instance.pk is None:
            return
        if update_fields is not None and not set(update_fields) & {*self.fields, *self.secrets}:
            return  # e.g. `last_login` after each sign-in: nothing watched can change
        old = type(instance)._default_manager.filter(pk=instance.pk).first()
        if old is not None:
            setattr(instance, _BEFORE, (self.state(old), self.secret_values(old)))

    def post_save(self, sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
        before = instance.__dict__.pop(_BEFORE, None)
        if created or before is None:
            if created:
                self.record(instance, "create", after=self.state(instance))
            return
        state, secrets = before
        changed = [name for name in self.secrets if secrets[name] != getattr(instance, name)]
        for name in changed:  # that it changed, never the value
            if _password_rehash(instance, name, update_fields):
                self.record(instance, "password_rehash", detail="hash upgraded at sign-in; the password is the same")
            else:
                self.record(instance, f"{name}_change", detail=f"{name} changed")
        after = self.state(instance)
        if after != state:
            self.record(instance, "update", before=state, after=after)

    def post_delete(self, sender: Any, instance: Any, **kwargs: Any) -> None:
        self.record(instance, "delete", before=self.state(instance))


@dataclasses.dataclass(frozen=True)
class _WatchRelation:
    watch: _Watch
    relation: str

    def m2m_changed(
        self, sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
    ) -> None:
        owner_model = self.watch.model
        if action == "pre_clear":
            if reverse:  # e.g. `group.user_set.clear()`: every user loses this group
                owners = list(owner_model._default_manager.filter(**{self.relation: instance}))
                setattr(instance, _CLEARED, [(owner, [_label(instance)]) for owner in owners])
            else:
                setattr(instance, _CLEARED, [(instance, [_label(o) for o in getattr(instance, self.relation).all()])])
            return
        if action == "post_clear":
            changes = instance.__dict__.pop(_CLEARED, [])
            verb = "remove"
        elif action in ("post_add", "post_remove") and pk_set:
            others = list(model._default_manager.filter(pk__in=pk_set))
            if reverse:  # `instance` is the related object; the watched owners are in pk_set
                changes = [(owner, [_label(instance)]) for owner in others]
            else:
                changes = [(instance, sorted(_label(o) for o in others))]
            verb = "add" if action == "post_add" else "remove"
        else:
            return
        for owner, labels in changes:
            if labels:
                key = "after" if verb == "add" else "before"
                self.watch.record(owner, f"{self.relation}.{verb}", **{key: {self.relation: labels}})


_connected: list[Any] = []  # the receivers (signals keep weak references only)


def audit_model_watch(
    model: type[models.Model],
    *,
    name: str,
    fields: tuple[str, ...],
    entity_id: Callable[[Any], str],
    merchant_id: Callable[[Any], str | None] | None = None,
    secrets: tuple[str, ...] = (),
    relations: tuple[str, ...] = (),
) -> None:
    """Audit every change to `model`'s rows: creation, deletion, a change of one of `fields` (recorded
    before and after), of one of `secrets` (recorded as changed, never the value), and additions to and
    removals from the many-to-many `relations`. Events go to `merchant_id(instance)`'s partition, the
    platform's by default."""
    watch = _Watch(
        model=model,
        name=name,
        fields=fields,
        secrets=secrets,
        entity_id=entity_id,
        merchant_id=merchant_id or (lambda instance: None),
    )
    uid = f"audit:{model._meta.label}"
    pre_save.connect(watch.pre_save, sender=model, dispatch_uid=uid)
    post_save.connect(watch.post_save, sender=model, dispatch_uid=uid)
    post_delete.connect(watch.post_delete, sender=model, dispatch_uid=uid)
    _connected.append(watch)
    for relation in relations:
        through = getattr(model, relation).through  # the many-to-many descriptor's intermediate model
        receiver = _WatchRelation(watch=watch, relation=relation)
        m2m_changed.connect(receiver.m2m_changed, sender=through, dispatch_uid=f"{uid}.{relation}")
        _connected.append(receiver)


def _otp_device_models() -> list[type[models.Model]]:
    """The installed django-otp device models (TOTP, static recovery codes, and any plugin added)."""
    return [m for m in apps.get_models() if issubclass(m, Device) and not m._meta.abstract]


def auth_events_connect() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="audit:auth.login")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit:auth.login_failed")
    user_logged_out.connect(_on_logged_out, dispatch_uid="audit:auth.logout")

    user_model = get_user_model()
    audit_model_watch(
        user_model,
        name="user",
        fields=(user_model.USERNAME_FIELD, "is_active", "is_staff", "is_superuser"),
        secrets=("password",),
        relations=("groups", "user_permissions"),
        entity_id=lambda user: user.get_username(),
    )
    audit_model_watch(
        Group, name="group", fields=("name",), relations=("permissions",), entity_id=lambda group: group.name
    )
    for device_model in _otp_device_models():
        audit_model_watch(
            device_model,
            name="otp_device",
            fields=("user", "name", "confirmed"),
            secrets=tuple(f.name for f in device_model._meta.concrete_fields if f.name == "key"),
            entity_id=lambda device: device.persistent_id,
        )
