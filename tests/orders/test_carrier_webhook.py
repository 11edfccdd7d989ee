"""The carriers' webhook: signed, fresh calls only; a bad body applies nothing; every event once,
even when the same batch arrives twice at the same moment."""

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import Notification
from orders.choices import OrderStatus, ShipmentStatus
from orders.models import Shipment, TrackingEvent
from tests.factories import CarrierFactory, make_shipment

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/carriers/{}/"
WHEN = "2026-11-20T10:15:00+01:00"


def _signature(secret: str, timestamp, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def send(carrier, payload=None, *, body=None, secret=None, timestamp=None, signed_body=None, client=None, headers=None):
    """POST as the carrier would: the body signed with its secret and the current time."""
    body = body if body is not None else json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = _signature(secret or carrier.webhook_secret, timestamp, body if signed_body is None else signed_body)
    meta = {"HTTP_X_CARRIER_TIMESTAMP": str(timestamp), "HTTP_X_CARRIER_SIGNATURE": signature}
    meta.update(headers or {})
    return (client or APIClient()).post(URL.format(carrier.code), body, content_type="application/json", **meta)


def one(shipment, status="in_transit", event_id="E-1", **extra):
    return {
        "events": [
            {
                "event_id": event_id,
                "tracking_number": shipment.tracking_number,
                "status": status,
                "occurred_at": WHEN,
                **extra,
            }
        ]
    }


@pytest.fixture
def shipment():
    return make_shipment()


def _problem(response, status_code):
    assert response.status_code == status_code, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_a_signed_batch_is_applied_and_counted(shipment):
    payload = {
        "events": [
            {
                "event_id": "E-1",
                "tracking_number": shipment.tracking_number,
                "status": "out_for_delivery",
                "occurred_at": WHEN,
                "description": "With the driver",
                "place": "Utrecht",
                "estimated_delivery": "2026-11-20T16:00:00+01:00",
                "carrier_specific": {"van": 12},  # carriers add fields; they are ignored
            },
            {"event_id": "E-2", "tracking_number": "NOT-OURS-YET", "status": "in_transit", "occurred_at": WHEN},
            {
                "event_id": "E-1",
                "tracking_number": shipment.tracking_number,
                "status": "in_transit",
                "occurred_at": WHEN,
            },
        ]
    }
    response = send(shipment.carrier, payload)

    assert response.status_code == 200, response.content
    assert response.json() == {"applied": 1, "duplicates": 1, "unmatched": 1}
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert shipment.last_event_at == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
    assert shipment.estimated_delivery == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_a_batch_sent_again_reports_duplicates_whatever_its_idempotency_key(shipment):
    """Dedupe is by event id: the webhook is not an Idempotency-Key endpoint, so a retry with the
    same key is applied again (as duplicates) rather than replayed."""
    key = {"HTTP_IDEMPOTENCY_KEY": "same"}
    assert send(shipment.carrier, one(shipment), headers=key).json() == {"applied": 1, "duplicates": 0, "unmatched": 0}
    assert send(shipment.carrier, one(shipment), headers=key).json() == {"applied": 0, "duplicates": 1, "unmatched": 0}
    assert TrackingEvent.objects.count() == 1


def test_a_delivered_event_through_the_webhook_delivers_the_order(shipment):
    send(shipment.carrier, one(shipment, status="delivered"))
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.order.status == OrderStatus.DELIVERED
    assert Notification.objects.filter(event="shipment_delivered").count() == 1


def test_the_wrong_secret_is_refused_and_nothing_is_applied(shipment):
    body = _problem(send(shipment.carrier, one(shipment), secret="guessed"), 401)
    assert body["code"] == "signature_invalid"
    assert not TrackingEvent.objects.exists()


def test_a_tampered_body_is_refused(shipment):
    signed = json.dumps(one(shipment, status="in_transit")).encode()
    response = send(shipment.carrier, one(shipment, status="delivered"), signed_body=signed)
    _problem(response, 401)
    assert response["WWW-Authenticate"]
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("offset", [-301, 301], ids=["stale", "future"])
def test_a_timestamp_outside_the_allowed_age_is_refused_as_a_replay(offset, shipment):
    body = _problem(send(shipment.carrier, one(shipment), timestamp=int(time.time()) + offset), 401)
    assert body["code"] == "signature_expired"
    assert "Replay refused" in body["detail"] and "300 s" in body["detail"]
    assert not TrackingEvent.objects.exists()


def test_a_timestamp_within_the_allowed_age_is_accepted(shipment):
    assert send(shipment.carrier, one(shipment), timestamp=int(time.time()) - 240).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_CARRIER_SIGNATURE": ""},
        {"HTTP_X_CARRIER_TIMESTAMP": ""},
        {"HTTP_X_CARRIER_TIMESTAMP": "yesterday"},
        {"HTTP_X_CARRIER_TIMESTAMP": "٣٣٣"},  # digits, but not ASCII ones
        {"HTTP_X_CARRIER_SIGNATURE": "md5=abc"},
        {"HTTP_X_CARRIER_SIGNATURE": "sha256=é"},
    ],
    ids=["no signature", "no timestamp", "timestamp text", "timestamp non-ascii", "other scheme", "non-hex"],
)
def test_missing_or_malformed_signature_headers_are_a_401(headers, shipment):
    _problem(send(shipment.carrier, one(shipment), headers=headers), 401)
    assert not TrackingEvent.objects.exists()


def test_an_unknown_or_inactive_carrier_is_a_404():
    ghost = CarrierFactory.build(code="ghost", webhook_secret="s")
    assert _problem(send(ghost, {"events": []}), 404)
    retired = CarrierFactory(is_active=False)
    assert _problem(send(retired, {"events": []}), 404)


def test_malformed_json_is_a_400_even_when_signed(shipment):
    _problem(send(shipment.carrier, body=b'{"events": [ {"event_id": '), 400)
    _problem(send(shipment.carrier, body=b"\xff\xfe not utf-8"), 400)
    _problem(send(shipment.carrier, body=b"[" * 100_000), 400)


def _event(shipment, **override):
    return {
        "event_id": "ok",
        "tracking_number": shipment.tracking_number,
        "status": "in_transit",
        "occurred_at": WHEN,
    } | override


BAD_BODIES = {
    "not an object": lambda s: [],
    "no events": lambda s: {"events": []},
    "events not a list": lambda s: {"events": "all"},
    "event not an object": lambda s: {"events": [42]},
    "unknown status": lambda s: {"events": [_event(s, status="lost_in_space")]},
    "status of the wrong type": lambda s: {"events": [_event(s, status=5)]},
    "time without offset": lambda s: {"events": [_event(s, occurred_at="2026-11-20T10:15:00")]},
    "time of the wrong type": lambda s: {"events": [_event(s, occurred_at=1763630100)]},
    "missing event id": lambda s: {"events": [{k: v for k, v in _event(s).items() if k != "event_id"}]},
    "event id too long": lambda s: {"events": [_event(s, event_id="x" * 101)]},
    "NUL in tracking number": lambda s: {"events": [_event(s, tracking_number="a\x00b")]},
    "null description": lambda s: {"events": [_event(s, description=None)]},
    "bad estimate": lambda s: {"events": [_event(s, estimated_delivery="tomorrow")]},
    "501 events": lambda s: {"events": [_event(s, event_id=str(i)) for i in range(501)]},
}


@pytest.mark.parametrize("build", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_body_is_a_400_with_field_errors_and_applies_nothing(build, shipment):
    payload = build(shipment)
    if isinstance(payload, dict) and isinstance(payload.get("events"), list) and 0 < len(payload["events"]) < 10:
        payload["events"].insert(0, _event(shipment, event_id="good-one"))  # a valid event next to the bad one
    body = _problem(send(shipment.carrier, payload), 400)
    assert body["errors"]
    assert not TrackingEvent.objects.exists()
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.INFO_RECEIVED


def test_field_errors_name_the_event_and_field(shipment):
    payload = {"events": [_event(shipment), _event(shipment, event_id="b", status="lost")]}
    errors = _problem(send(shipment.carrier, payload), 400)["errors"]
    assert [e["field"] for e in errors] == ["events[1].status"]


def test_500_events_are_accepted(shipment):
    payload = {"events": [_event(shipment, event_id=f"e{i}") for i in range(500)]}
    assert send(shipment.carrier, payload).json() == {"applied": 500, "duplicates": 0, "unmatched": 0}


def test_the_webhook_is_not_throttled_like_anonymous_callers(shipment, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "2/min"}}
    responses = [send(shipment.carrier, one(shipment, event_id=f"t{i}")) for i in range(5)]
    assert [r.status_code for r in responses] == [200] * 5


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent requests need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("known", [True, False], ids=["with its shipment", "unmatched only"])
def test_the_same_batch_sent_concurrently_is_applied_once(known):
    """With a known parcel the shipment's row lock queues the copies; without one, they race to
    insert and the losers' savepoints turn the unique violation into a duplicate."""
    shipment = make_shipment()
    events = [{"event_id": "c-2", "tracking_number": "UNKNOWN-YET", "status": "in_transit", "occurred_at": WHEN}]
    if known:
        events.insert(0, _event(shipment, event_id="c-1", status="delivered"))
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results = []

    def post():
        try:
            barrier.wait()
            response = send(shipment.carrier, {"events": events})
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [code for code, _ in results] == [200] * threads_count, results
    totals = {key: sum(body[key] for _, body in results) for key in ("applied", "duplicates", "unmatched")}
    applied = 1 if known else 0
    assert totals == {"applied": applied, "duplicates": len(events) * (threads_count - 1), "unmatched": 1}
    assert TrackingEvent.objects.count() == len(events)
    assert Notification.objects.filter(event="shipment_delivered").count() == applied
    assert shipment.order.lines.get().quantity_delivered == applied
