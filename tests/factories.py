"""Factories for domain objects, built through the services."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from core.actor import Actor
from core.cards import CardInput
from merchants.models import Membership
from merchants.services.api_keys import api_key_create
from merchants.services.merchants import merchant_create
from payments import services

TEST_ACTOR = Actor(type="system", id="tests", ip="127.0.0.1", user_agent="pytest", request_id="req_test")
VISA = "4242424242424242"
_names = itertools.count(1)


def make_merchant(name: str | None = None, currency: str = "usd"):
    return merchant_create(name=name or f"Merchant {next(_names)}", default_currency=currency, actor=TEST_ACTOR)


def make_api_key(merchant_id: str, name: str = "test") -> str:
    return api_key_create(merchant_id=merchant_id, name=name, actor=TEST_ACTOR).secret


def make_user(
    username: str | None = None,
    *,
    merchant_id: str | None = None,
    role: str = "viewer",
    staff: bool = False,
    password: str = "correct horse battery",
):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_names)}", password=password, is_staff=staff
    )
    if merchant_id:
        Membership.objects.create(user=user, merchant_id=merchant_id, role=role)
    return user


def card(number: str = VISA, exp_month: int = 12, exp_year: int = 2034, cvc: str = "123") -> CardInput:
    return CardInput(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


def make_payment(merchant_id: str, amount: int = 2500, currency: str = "usd", **kwargs):
    kwargs.setdefault("card", card())
    return services.payment_create(
        merchant_id=merchant_id, actor=TEST_ACTOR, amount=amount, currency=currency, **kwargs
    )


HTMX = {"HTTP_HX_REQUEST": "true"}  # the header htmx sends: the view answers its fragment
