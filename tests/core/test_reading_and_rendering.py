"""Stored items read into models (`TableModel._instantiate`, `dynamodb.MapAttribute`) exactly as
pynamodb reads them, and stored payments rendered through their schema (`core.rendering`) exactly as
`model_validate` renders them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ninja import Schema
from pynamodb.attributes import AttributeContainer
from pynamodb.exceptions import AttributeDeserializationError

from core import dynamodb
from core.rendering import construct, render_json
from payments.models import CardAttribute, Payment
from payments.schemas import PaymentListOut, PaymentOut
from reconciliation.models import Settlement
from webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.pure

_text = st.text(min_size=1, max_size=20)
_times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


@st.composite
def _payments(draw) -> Payment:
    amount = draw(st.integers(min_value=1, max_value=10**12))
    payment = Payment(
        payment_id="pay_" + draw(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26)),
        merchant_id="mer_1",
        merchant_status="mer_1#succeeded",
        status=draw(st.sampled_from(["succeeded", "requires_capture", "refunded", "failed", "processing"])),
        amount=amount,
        currency=draw(st.sampled_from(["EUR", "USD", "JPY"])),
        amount_captured=draw(st.integers(min_value=0, max_value=amount)),
        customer_id=draw(st.none() | _text),
        description=draw(st.none() | st.text(max_size=60)),
        metadata=draw(st.dictionaries(_text, st.text(max_size=20), max_size=4)),
        card=CardAttribute(
            brand="visa", last4="4242", exp_month=draw(st.integers(1, 12)), exp_year=2030, fingerprint="f"
        ),
        failure_code=draw(st.none() | _text),
        settlement_id=draw(st.none() | _text),
        settlement_line=draw(st.none() | st.integers(min_value=1, max_value=10**6)),
        capture_requested=draw(st.none() | st.booleans()),
        disputed=draw(st.none() | st.booleans()),
        amount_pending_refund=draw(st.none() | st.integers(min_value=0, max_value=10**6)),
        created=draw(_times),
        updated=draw(_times),
    )
    payment.version = draw(st.integers(min_value=1, max_value=50))
    return payment


def _pynamodb_read(model: type, item: dict):
    """The model as pynamodb's own `_instantiate` reads the item."""
    instance = model(_user_instantiated=False)
    AttributeContainer._container_deserialize(instance, item)
    return instance


def _plain(values: dict) -> dict:
    return {name: _plain(v.attribute_values) if hasattr(v, "attribute_values") else v for name, v in values.items()}


def _stored(payment: Payment, *, without: tuple[str, ...] = ()) -> dict:
    """The item as DynamoDB returns it, less `without` (attributes older items do not have)."""
    item = payment.serialize(null_check=False)
    for name in without:
        item.pop(name, None)
    return item


@settings(max_examples=150, deadline=None)
@given(_payments(), st.sampled_from([(), ("amount_refunded",), ("amount_captured", "metadata")]))
def test_a_stored_payment_is_read_into_the_same_values_as_pynamodb_reads_it(payment, without):
    item = _stored(payment, without=without)

    read = Payment.from_raw_data(item)

    assert type(read) is Payment and type(read.card) is CardAttribute
    assert _plain(read.attribute_values) == _plain(_pynamodb_read(Payment, item).attribute_values)
    assert read.amount_refunded == (0 if "amount_refunded" in without else payment.amount_refunded)
    assert read.payment_id == payment.payment_id and read.created == payment.created


def test_numbers_keep_their_kind_and_a_null_or_absent_attribute_takes_its_default():
    item = _stored(Payment(payment_id="pay_1", amount=5, card=CardAttribute(exp_month=1)))
    item["amount"] = {"N": "12.5"}
    item["settlement_line"] = {"N": "-3"}
    item["metadata"] = {"NULL": True}
    item.pop("amount_captured", None)

    read = Payment.from_raw_data(item)

    assert read.amount == 12.5 and read.settlement_line == -3 and type(read.settlement_line) is int
    assert read.metadata == {} and read.amount_captured == 0 and read.description is None
    assert _plain(read.attribute_values) == _plain(_pynamodb_read(Payment, item).attribute_values)


def test_a_value_stored_with_another_type_is_refused_as_pynamodb_refuses_it():
    item = _stored(Payment(payment_id="pay_1", amount=5))
    item["amount"] = {"S": "5"}

    with pytest.raises(AttributeDeserializationError):
        Payment.from_raw_data(item)
    with pytest.raises(AttributeDeserializationError):
        _pynamodb_read(Payment, item)


def test_a_model_with_a_list_of_maps_reads_as_pynamodb_reads_it():
    item = WebhookDelivery(
        merchant_id="mer_1",
        event_id="evt_1",
        event_type="payment.succeeded",
        entity_id="pay_1",
        url="https://hooks.test/paysite",
        payload="{}",
        attempts=[
            WebhookAttempt(at=datetime(2026, 11, 30, 10, tzinfo=UTC), status_code=500, duration_ms=12),
            WebhookAttempt(at=datetime(2026, 11, 30, 11, tzinfo=UTC), error="timed out"),
        ],
        created=datetime(2026, 11, 30, 9, tzinfo=UTC),
    ).serialize()

    read = WebhookDelivery.from_raw_data(item)

    assert [type(a) for a in read.attempts] == [WebhookAttempt, WebhookAttempt]
    assert [a.status_code for a in read.attempts] == [500, None] and read.attempts[1].error == "timed out"
    assert read.status == "pending" and read.attempt_count == 0  # defaults of absent attributes
    reference = _pynamodb_read(WebhookDelivery, item)
    assert [_plain(a.attribute_values) for a in read.attempts] == [
        _plain(a.attribute_values) for a in reference.attempts
    ]
    assert _plain({k: v for k, v in read.attribute_values.items() if k != "attempts"}) == _plain(
        {k: v for k, v in reference.attribute_values.items() if k != "attempts"}
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_payments(), max_size=5), st.booleans())
def test_a_page_renders_to_the_json_model_validate_gives(payments, has_more):
    stored = [Payment.from_raw_data(_stored(p)) for p in payments]
    listed = {"object": "list", "data": stored, "has_more": has_more, "next_cursor": "pay_x" if has_more else None}

    assert render_json(PaymentListOut, listed) == PaymentListOut.model_validate(listed).model_dump_json()
    for payment in stored:
        assert render_json(PaymentOut, payment) == PaymentOut.model_validate(payment).model_dump_json()


class _Inner(Schema):
    n: int


class _Outer(Schema):
    kind: str = "outer"
    label: str
    inner: _Inner | None
    items: list[_Inner] = []
    size: int

    @staticmethod
    def resolve_size(obj) -> int:
        return len(obj["items"]) if isinstance(obj, dict) else 0


def test_defaults_nested_schemas_and_resolvers_follow_the_schema():
    made = construct(_Outer, {"label": "a", "inner": {"n": 1}, "items": [{"n": 2}, {"n": 3}]})

    assert made.model_dump() == {
        "kind": "outer",
        "label": "a",
        "inner": {"n": 1},
        "items": [{"n": 2}, {"n": 3}],
        "size": 2,
    }
    assert construct(_Outer, {"label": "b", "inner": None, "items": []}).model_dump_json() == (
        _Outer.model_validate({"label": "b", "inner": None, "items": []}).model_dump_json()
    )


def test_a_required_field_the_object_lacks_is_an_error():
    with pytest.raises(AttributeError, match="label"):
        construct(_Outer, {"inner": None})


def _key_value(attribute) -> dict:
    return {attribute.attr_type: "1" if attribute.attr_type == "N" else "key-1"}


@pytest.mark.parametrize("model", dynamodb.models(), ids=lambda model: model.__name__)
def test_every_model_reads_an_item_of_its_keys_alone_as_pynamodb_reads_it(model):
    """Every attribute absent: each default as pynamodb sets it (through the attribute's setter)."""
    item = {attr.attr_name: _key_value(attr) for attr in model.get_attributes().values() if attr.is_hash_key}
    item |= {attr.attr_name: _key_value(attr) for attr in model.get_attributes().values() if attr.is_range_key}

    assert _plain(model.from_raw_data(item).attribute_values) == _plain(_pynamodb_read(model, item).attribute_values)


def test_an_untyped_map_and_a_ttl_are_stored_as_their_setters_store_them():
    item = {
        "settlement_id": {"S": "set_1"},
        "resolved_counts": {"M": {"amount_mismatch": {"N": "2"}, "missing_in_file": {"N": "0"}}},
    }
    read = Settlement.from_raw_data(item)
    assert read.resolved_counts.as_dict() == {"amount_mismatch": 2, "missing_in_file": 0}
    assert _plain(read.attribute_values) == _plain(_pynamodb_read(Settlement, item).attribute_values)

    delivery = {"merchant_id": {"S": "mer_1"}, "event_id": {"S": "evt_1"}, "expires_at": {"N": "1796000000.75"}}
    expires = WebhookDelivery.from_raw_data(delivery).expires_at
    assert expires == _pynamodb_read(WebhookDelivery, delivery).expires_at == datetime.fromtimestamp(1796000000, UTC)
