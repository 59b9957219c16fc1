"""HubSpot's v3 signature and Standard Webhooks, by the documented algorithms."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from bot.crm.hubspot import request_problem, signature_problem, signature_v1, signature_v3

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"  # the secret of HubSpot's worked examples
BODY = b'{"example_field":"example_value"}'
STAMP = "1564113600000"
AT = datetime.fromtimestamp(int(STAMP) / 1000, UTC)


def test_v3_is_base64_hmac_sha256_of_method_uri_body_and_timestamp() -> None:
    # Computed independently from HubSpot's description (request-validation page): the
    # UTF-8 string POST + URI + body + timestamp, HMAC-SHA256 with the client secret.
    expected = "eT0ip2TKVpsIi1vb5C2Uu42eNdHL+oTE3NRZOF67O2U="
    uri = "https://www.example.com/webhook_uri"
    assert signature_v3(secret=SECRET, method="POST", uri=uri, body=BODY, timestamp=STAMP) == (
        expected
    )
    message = b"POST" + uri.encode() + BODY + STAMP.encode()
    assert base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest()) == (
        expected.encode()
    )


def test_v3_signs_the_uri_with_hubspots_listed_characters_decoded() -> None:
    plain = "https://hooks.example.com/webhooks/hubspot?next=a:b/c@d"
    encoded = "https://hooks.example.com/webhooks/hubspot?next=a%3Ab%2Fc%40d"
    signed = signature_v3(secret=SECRET, method="POST", uri=plain, body=BODY, timestamp=STAMP)
    assert signature_v3(secret=SECRET, method="POST", uri=encoded, body=BODY, timestamp=STAMP) == (
        signed
    )


def test_a_signature_is_refused_when_wrong_missing_or_older_than_five_minutes() -> None:
    uri = "https://www.example.com/webhook_uri"
    good = signature_v3(secret=SECRET, method="POST", uri=uri, body=BODY, timestamp=STAMP)

    def problem(
        signature: str | None, stamp: str | None, now: datetime, body: bytes = BODY
    ) -> str | None:
        return signature_problem(
            secret=SECRET,
            method="POST",
            uri=uri,
            body=body,
            signature=signature,
            timestamp=stamp,
            now=now,
        )

    assert problem(good, STAMP, AT + timedelta(minutes=4)) is None
    assert "5 minutes" in str(problem(good, STAMP, AT + timedelta(minutes=6)))
    assert "does not match" in str(problem(good, STAMP, AT, body=BODY + b" "))
    assert "does not match" in str(problem(good.replace("e", "f", 1), STAMP, AT))
    assert "no X-HubSpot-Signature-v3" in str(problem(None, STAMP, AT))
    assert "milliseconds" in str(problem(good, "yesterday", AT))


def test_standard_webhooks_sign_id_timestamp_and_body_with_the_whsec_key() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signed = b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + b'{"test": 2432232314}'
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    at = datetime.fromtimestamp(1614265330, UTC)
    assert Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, b'{"test": 2432232314}') == (
        expected
    )


def test_v1_is_hubspots_worked_example() -> None:
    """HubSpot's v1 page: SHA-256 of the client secret followed by the body, in hex."""
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert signature_v1(secret=SECRET, body=body) == expected
    headers = {"x-hubspot-signature": expected, "x-hubspot-signature-version": "v1"}
    uri = "https://www.example.com/webhook_uri"
    assert (
        request_problem(secret=SECRET, method="POST", uri=uri, body=body, headers=headers, now=AT)
        is None
    )
    wrong = {**headers, "x-hubspot-signature": expected[::-1]}
    assert "v1 signature does not match" in str(
        request_problem(secret=SECRET, method="POST", uri=uri, body=body, headers=wrong, now=AT)
    )
    # v3 wins when both are sent: a stale v3 is refused whatever v1 says.
    v3 = signature_v3(secret=SECRET, method="POST", uri=uri, body=body, timestamp=STAMP)
    both = {**headers, "x-hubspot-signature-v3": v3, "x-hubspot-request-timestamp": STAMP}
    later = AT + timedelta(minutes=10)
    assert "5 minutes" in str(
        request_problem(secret=SECRET, method="POST", uri=uri, body=body, headers=both, now=later)
    )


def test_a_timestamp_of_other_digits_is_refused_not_a_crash() -> None:
    uri = "https://www.example.com/webhook_uri"
    said = signature_problem(
        secret=SECRET, method="POST", uri=uri, body=BODY, signature="x", timestamp="²", now=AT
    )
    assert "milliseconds" in str(said)
