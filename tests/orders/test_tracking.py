"""Carrier tracking events: applied once, never backwards, kept until their shipment exists, and
what a delivery, a problem or a pickup point means for the order and the customer."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Notification, Touchpoint
from orders.choices import DeliveryStatus, OrderStatus, ShipmentStatus
from orders.models import Delivery, OrderLine, Shipment, TrackingEvent
from orders.services.tracking import CarrierEvent, Outcome, tracking_event_apply, tracking_events_apply
from tests.factories import CarrierFactory, LocationFactory, ProductFactory, make_order, make_shipment

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
S = ShipmentStatus


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


_ids = iter(range(1, 10**6))


def event(shipment_or_number, status, hours, *, carrier=None, event_id=None, **extra):
    """Apply one event for a shipment (or a bare tracking number with `carrier`)."""
    if isinstance(shipment_or_number, Shipment):
        carrier, number = shipment_or_number.carrier, shipment_or_number.tracking_number
    else:
        number = shipment_or_number
    return tracking_event_apply(
        carrier=carrier,
        event_id=event_id or f"ev-{next(_ids)}",
        tracking_number=number,
        status=status,
        occurred_at=at(hours),
        **extra,
    )


def reloaded(shipment) -> Shipment:
    return Shipment.objects.get(pk=shipment.pk)


@pytest.fixture
def shipment():
    return make_shipment(order=make_order(lines=[(ProductFactory(name="Sofa"), 2, "300.00")]))


def test_an_event_moves_the_shipment_forward_and_records_when(shipment):
    assert event(shipment, S.IN_TRANSIT, 1) == Outcome.APPLIED
    shipment = reloaded(shipment)
    assert (shipment.status, shipment.last_event_at) == (S.IN_TRANSIT, at(1))


def test_the_same_carrier_event_is_applied_once(shipment):
    assert event(shipment, S.IN_TRANSIT, 1, event_id="E-1") == Outcome.APPLIED
    assert event(shipment, S.OUT_FOR_DELIVERY, 2, event_id="E-1") == Outcome.DUPLICATE
    assert reloaded(shipment).status == S.IN_TRANSIT
    assert TrackingEvent.objects.filter(event_id="E-1").count() == 1


def test_event_ids_are_per_carrier():
    first, second = make_shipment(), make_shipment()
    assert event(first, S.IN_TRANSIT, 1, event_id="E-1") == Outcome.APPLIED
    assert event(second, S.IN_TRANSIT, 1, event_id="E-1") == Outcome.APPLIED


def test_a_copy_of_an_event_in_the_same_batch_counts_as_a_duplicate(shipment):
    copy = CarrierEvent("E-9", shipment.tracking_number, S.IN_TRANSIT, at(1))
    result = tracking_events_apply(carrier=shipment.carrier, events=[copy, copy])
    assert result.outcomes == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert (result.applied, result.duplicates, result.unmatched) == (1, 1, 0)


def test_a_late_lower_rank_event_is_kept_but_does_not_move_the_shipment_back(shipment):
    event(shipment, S.OUT_FOR_DELIVERY, 10)
    assert event(shipment, S.IN_TRANSIT, 9) == Outcome.APPLIED
    shipment = reloaded(shipment)
    assert (shipment.status, shipment.last_event_at) == (S.OUT_FOR_DELIVERY, at(10))
    assert list(shipment.events.values_list("status", flat=True)) == [S.OUT_FOR_DELIVERY, S.IN_TRANSIT]


def test_an_equal_rank_changes_the_status_only_when_it_is_newer(shipment):
    event(shipment, S.FAILED_ATTEMPT, 12)
    event(shipment, S.OUT_FOR_DELIVERY, 11)  # sent before the failed attempt, arrived after it
    assert reloaded(shipment).status == S.FAILED_ATTEMPT
    event(shipment, S.OUT_FOR_DELIVERY, 13)  # the second attempt
    assert reloaded(shipment).status == S.OUT_FOR_DELIVERY


def test_a_final_status_never_changes(shipment):
    event(shipment, S.DELIVERED, 10)
    event(shipment, S.RETURNED_TO_SENDER, 12)  # same rank and newer: still refused
    event(shipment, S.EXCEPTION, 13)
    shipment = reloaded(shipment)
    assert (shipment.status, shipment.delivered_at) == (S.DELIVERED, at(10))
    assert shipment.events.count() == 3


def test_a_batch_applies_its_events_in_the_order_they_happened(shipment):
    events = [
        CarrierEvent("b-3", shipment.tracking_number, S.OUT_FOR_DELIVERY, at(3)),
        CarrierEvent("b-1", shipment.tracking_number, S.IN_TRANSIT, at(1)),
        CarrierEvent("b-2", shipment.tracking_number, S.IN_TRANSIT, at(2)),
    ]
    tracking_events_apply(carrier=shipment.carrier, events=events)
    shipment = reloaded(shipment)
    assert (shipment.status, shipment.last_event_at) == (S.OUT_FOR_DELIVERY, at(3))


def test_the_estimate_comes_from_the_newest_event_that_carries_one(shipment):
    event(shipment, S.IN_TRANSIT, 1, estimated_delivery=at(48))
    event(shipment, S.IN_TRANSIT, 3, estimated_delivery=at(50))
    event(shipment, S.IN_TRANSIT, 2, estimated_delivery=at(30))  # late: older than the 50 h estimate's event
    assert reloaded(shipment).estimated_delivery == at(50)
    event(shipment, S.OUT_FOR_DELIVERY, 5)  # carries none: the estimate stays
    assert reloaded(shipment).estimated_delivery == at(50)
    event(shipment, S.IN_TRANSIT, 4, estimated_delivery=at(26))  # late, but the newest carrying one
    assert reloaded(shipment).estimated_delivery == at(26)


def test_an_event_for_an_unknown_parcel_waits_for_its_shipment():
    carrier = CarrierFactory()
    order = make_order(lines=[(ProductFactory(name="Lamp"), 1, "40.00")])

    assert event("PARCEL-1", S.IN_TRANSIT, 1, carrier=carrier, estimated_delivery=at(30)) == Outcome.UNMATCHED
    assert event("PARCEL-1", S.INFO_RECEIVED, 0, carrier=carrier) == Outcome.UNMATCHED
    assert event("PARCEL-1", S.DELIVERED, 1, carrier=CarrierFactory()) == Outcome.UNMATCHED  # another carrier's
    assert TrackingEvent.objects.filter(shipment__isnull=True).count() == 3

    shipment = make_shipment(order=order, carrier=carrier, tracking_number="PARCEL-1")

    shipment = reloaded(shipment)
    assert (shipment.status, shipment.last_event_at, shipment.estimated_delivery) == (S.IN_TRANSIT, at(1), at(30))
    assert shipment.events.count() == 2
    assert TrackingEvent.objects.filter(shipment__isnull=True).count() == 1
    shipped = Notification.objects.get(event="order_shipped")
    assert "Saturday 21 November 2026" in shipped.body  # the carrier's estimate, in the customer's zone


def test_a_delivery_reported_before_the_shipment_existed_counts_once_it_does():
    carrier = CarrierFactory()
    order = make_order(lines=[(ProductFactory(), 1, "40.00")])
    event("PARCEL-2", S.DELIVERED, 5, carrier=carrier)

    make_shipment(order=order, carrier=carrier, tracking_number="PARCEL-2")

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.lines.get().quantity_delivered == 1
    messages = list(Notification.objects.filter(customer=order.customer).order_by("id").values_list("event", flat=True))
    assert messages == ["order_shipped", "shipment_delivered"]  # "on its way" first, then "delivered"


def test_an_event_stored_unmatched_while_its_shipment_was_being_created_is_adopted_by_the_next(shipment):
    # Created concurrently with the shipment, neither transaction saw the other's row.
    TrackingEvent.objects.create(
        carrier=shipment.carrier,
        event_id="raced",
        tracking_number=shipment.tracking_number,
        status=S.OUT_FOR_DELIVERY,
        occurred_at=at(10),
    )
    event(shipment, S.IN_TRANSIT, 9)
    shipment = reloaded(shipment)
    assert shipment.status == S.OUT_FOR_DELIVERY
    assert shipment.events.filter(event_id="raced").exists()


def test_delivered_marks_the_shipped_lines_delivered_and_the_order_follows():
    sofa, lamp = ProductFactory(name="Sofa"), ProductFactory(name="Lamp")
    order = make_order(lines=[(sofa, 1, "300.00"), (lamp, 2, "20.00")])
    sofa_line, lamp_line = order.lines.order_by("id")
    first = make_shipment(order=order, lines=[(sofa_line, 1), (lamp_line, 1)])
    make_shipment(order=order, lines=[(lamp_line, 1)])

    event(first, S.DELIVERED, 30, place="Front door")

    assert [line.quantity_delivered for line in order.lines.order_by("id")] == [1, 1]
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    assert reloaded(first).delivered_at == at(30)
    touchpoint = Touchpoint.objects.get(summary__contains="delivered")
    assert (touchpoint.kind, touchpoint.subject_id, touchpoint.order_number) == ("delivery", first.pk, order.number)
    message = Notification.objects.get(event="shipment_delivered")
    assert "1 × Sofa, 1 × Lamp" in message.body and "Front door" in message.body


def test_delivered_never_counts_more_than_the_units_still_ordered(shipment):
    OrderLine.objects.filter(order=shipment.order).update(quantity_delivered=1)  # one counted already
    event(shipment, S.DELIVERED, 30)
    assert shipment.order.lines.get().quantity_delivered == 2
    assert Shipment.objects.get(pk=shipment.pk).order.status == OrderStatus.DELIVERED


def _appointment(shipment) -> Delivery:
    order = shipment.order
    return Delivery.objects.create(
        order=order,
        customer=order.customer,
        shipment=shipment,
        window_start=at(24),
        window_end=at(28),
        address_line1="2 Canal Street",
        city="Amsterdam",
        postcode="1012AB",
        country="NL",
    )


def test_a_shipment_an_appointment_delivers_is_counted_by_the_appointment_not_the_carrier(shipment):
    _appointment(shipment)
    event(shipment, S.DELIVERED, 26)

    assert reloaded(shipment).status == S.DELIVERED
    assert shipment.order.lines.get().quantity_delivered == 0
    assert Shipment.objects.get(pk=shipment.pk).order.status == OrderStatus.SHIPPED
    assert not Notification.objects.filter(event="shipment_delivered").exists()


def test_a_cancelled_appointment_leaves_the_delivery_to_the_carrier(shipment):
    appointment = _appointment(shipment)
    Delivery.objects.filter(pk=appointment.pk).update(status=DeliveryStatus.CANCELLED)
    event(shipment, S.DELIVERED, 26)
    assert shipment.order.lines.get().quantity_delivered == 2
    assert Notification.objects.filter(event="shipment_delivered").count() == 1


def test_a_problem_is_told_once_per_shipment_and_status(shipment):
    event(shipment, S.EXCEPTION, 5, description="Address not found", place="Depot Utrecht")
    event(shipment, S.EXCEPTION, 6, description="Still looking")  # same status again: not news
    event(shipment, S.FAILED_ATTEMPT, 8, description="Nobody home")
    event(shipment, S.OUT_FOR_DELIVERY, 20)
    event(shipment, S.FAILED_ATTEMPT, 21)

    problems = Notification.objects.filter(event="shipment_problem").order_by("id")
    assert len(problems) == 2
    assert "Address not found" in problems[0].body and "Nobody home" in problems[1].body
    touchpoints = Touchpoint.objects.filter(kind="delivery", subject_id=shipment.pk, summary__contains="parcel")
    assert touchpoints.count() == 2


def test_only_the_status_a_batch_ends_in_speaks_to_the_customer(shipment):
    events = [
        CarrierEvent("x-1", shipment.tracking_number, S.FAILED_ATTEMPT, at(10)),
        CarrierEvent("x-2", shipment.tracking_number, S.DELIVERED, at(30)),
    ]
    tracking_events_apply(carrier=shipment.carrier, events=events)
    assert list(Notification.objects.filter(event__startswith="shipment_").values_list("event", flat=True)) == [
        "shipment_delivered"
    ]


def test_a_parcel_at_a_pickup_point_is_announced_with_the_place(shipment):
    kiosk = LocationFactory(name="Kiosk Centraal", address_line1="Stationsplein 1")
    to_kiosk = make_shipment(pickup_location=kiosk)
    event(to_kiosk, S.AVAILABLE_FOR_PICKUP, 30)
    event(shipment, S.AVAILABLE_FOR_PICKUP, 30, place="Tabak & Post, Utrecht")

    kiosk_message, shop_message = Notification.objects.filter(event="shipment_at_pickup_point").order_by("id")
    assert "Kiosk Centraal, Stationsplein 1" in kiosk_message.body
    assert "Tabak & Post, Utrecht" in shop_message.body  # no HTML escaping in a text message


def test_a_batch_costs_the_same_queries_whatever_its_size():
    carrier = CarrierFactory()
    shipments = [make_shipment(carrier=carrier) for _ in range(30)]

    def apply(batch, tag):
        events = [CarrierEvent(f"{tag}-{s.pk}", s.tracking_number, S.IN_TRANSIT, at(1)) for s in batch]
        with CaptureQueriesContext(connection) as ctx:
            result = tracking_events_apply(carrier=carrier, events=events)
        assert result.applied == len(batch)
        return len(ctx)

    assert apply(shipments[:2], "a") == apply(shipments[2:], "b")


def test_a_parcel_shipped_with_goods_of_value_keeps_its_capture_when_tracked(shipment):
    """Tracking never touches the ledger: the capture happened when the goods shipped."""
    before = list(shipment.order.charges.values_list("kind", "amount"))
    event(shipment, S.DELIVERED, 30)
    assert list(shipment.order.charges.values_list("kind", "amount")) == before
    assert ("capture", Decimal("600.00")) in before
