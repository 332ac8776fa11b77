import pytest

from webhooks.signing import SignatureVerificationError, webhook_signature_header, webhook_signature_verify

SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","object":"event"}'
NOW = 1_800_000_000


def test_a_signed_body_verifies_and_returns_its_timestamp():
    header = webhook_signature_header(secret=SECRET, body=BODY, timestamp=NOW)

    assert header.startswith(f"t={NOW},v1=") and len(header.split("v1=")[1]) == 64
    assert webhook_signature_verify(secret=SECRET, body=BODY, header=header, now=NOW + 10) == NOW
    assert webhook_signature_verify(secret=SECRET, body=BODY.decode(), header=header, now=NOW) == NOW


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert webhook_signature_header(secret=SECRET, body=BODY, timestamp=NOW) == f"t={NOW},v1={expected}"


@pytest.mark.parametrize(
    ("body", "secret", "now"),
    [
        (BODY + b" ", SECRET, NOW),  # the body changed
        (BODY, "whsec_other", NOW),  # another secret
        (BODY, SECRET, NOW + 301),  # too late: a replay
        (BODY, SECRET, NOW - 301),  # from the future
    ],
)
def test_tampering_another_secret_or_an_old_timestamp_fails(body, secret, now):
    header = webhook_signature_header(secret=SECRET, body=BODY, timestamp=NOW)

    with pytest.raises(SignatureVerificationError):
        webhook_signature_verify(secret=secret, body=body, header=header, now=now)


def test_the_tolerance_is_configurable_and_can_be_turned_off():
    header = webhook_signature_header(secret=SECRET, body=BODY, timestamp=NOW)

    assert webhook_signature_verify(secret=SECRET, body=BODY, header=header, now=NOW + 3600, tolerance_seconds=0) == NOW
    with pytest.raises(SignatureVerificationError):
        webhook_signature_verify(secret=SECRET, body=BODY, header=header, now=NOW + 61, tolerance_seconds=60)


def test_any_of_several_v1_signatures_may_match():
    good = webhook_signature_header(secret=SECRET, body=BODY, timestamp=NOW).split(",")[1]

    header = f"t={NOW},v1={'0' * 64},{good}"

    assert webhook_signature_verify(secret=SECRET, body=BODY, header=header, now=NOW) == NOW


@pytest.mark.parametrize("header", [None, "", "garbage", f"t={NOW}", "v1=abc", f"t=soon,v1={'a' * 64}"])
def test_a_missing_or_malformed_header_fails(header):
    with pytest.raises(SignatureVerificationError):
        webhook_signature_verify(secret=SECRET, body=BODY, header=header, now=NOW)
