"""The delay sweep: which orders will miss their promise, told once, estimates kept up to date,
constant queries per batch, and the flag cleared when the order is fulfilled."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.choices import Channel, ContactChannel, NotificationStatus, TouchpointKind
from core.models import Notification, Touchpoint
from orders.choices import OrderStatus, RiskReason, ServiceLevel, ShipmentStatus
from orders.models import Order, OrderLine, Shipment, ShipmentLine
from orders.selectors_risk import orders_at_risk
from orders.services import risk
from orders.services.orders import order_lock, order_status_refresh
from orders.services.risk import delay_sweep
from tests.factories import CarrierFactory, CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db

# 09:00 in Amsterdam on Monday 10 March 2025; a standard parcel shipped today arrives on the 13th.
NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
TODAY = date(2025, 3, 10)


def order_with(*, promised=None, line_promises=(None,), customer=None, **fields):
    lines = [
        {"product": ProductFactory(), "quantity": 2, "unit_price": Decimal("50.00"), "promised_date": promise}
        for promise in line_promises
    ]
    return make_order(customer=customer or CustomerFactory(), lines=lines, promised_date=promised, **fields)


def fulfil(line: OrderLine, *, shipped=None, delivered=None):
    """Record shipped / delivered units on a line as the shipment services do, status included."""
    with transaction.atomic():
        order = order_lock(line.order_id)
        changes = {}
        if shipped is not None:
            changes["quantity_shipped"] = shipped
        if delivered is not None:
            changes["quantity_delivered"] = delivered
        OrderLine.objects.filter(pk=line.pk).update(**changes)
        order_status_refresh(order)


def ship(order, *, status=ShipmentStatus.IN_TRANSIT, eta=None, lines=None, service_level=ServiceLevel.STANDARD):
    shipment = Shipment.objects.create(
        order=order,
        carrier=CarrierFactory(code="parcelco"),
        tracking_number=f"T{Shipment.objects.count() + 1:06d}",
        status=status,
        estimated_delivery=eta,
        service_level=service_level,
    )
    for line in lines or order.lines.all():
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=line.quantity)
        fulfil(line, shipped=line.quantity)
    return shipment


def flag_of(order):
    order.refresh_from_db()
    return order.at_risk_reason, order.revised_estimate


# --- (a) not shipped in time --------------------------------------------------------------


def test_unshipped_order_that_cannot_make_its_promise_is_flagged():
    order = order_with(promised=date(2025, 3, 12))
    assert delay_sweep(now=NOW) == 1
    order.refresh_from_db()
    assert (order.at_risk_reason, order.revised_estimate, order.at_risk_since) == (
        RiskReason.NOT_SHIPPED_IN_TIME,
        date(2025, 3, 13),
        NOW,
    )


def test_unshipped_order_that_still_makes_it_when_shipped_today_is_not_flagged():
    order = order_with(promised=date(2025, 3, 13))  # today + 3 days is the promise itself
    assert delay_sweep(now=NOW) == 0
    assert flag_of(order) == ("", None)


@pytest.mark.parametrize(
    ("service_level", "promised", "at_risk", "estimate"),
    [
        (ServiceLevel.EXPRESS, date(2025, 3, 11), False, None),
        (ServiceLevel.EXPRESS, date(2025, 3, 10), True, date(2025, 3, 11)),
        (ServiceLevel.ECONOMY, date(2025, 3, 14), True, date(2025, 3, 15)),
        (ServiceLevel.ECONOMY, date(2025, 3, 15), False, None),
    ],
)
def test_transit_days_follow_the_service_level(service_level, promised, at_risk, estimate):
    order = order_with(promised=promised, service_level=service_level)
    assert delay_sweep(now=NOW) == int(at_risk)
    assert flag_of(order) == ((RiskReason.NOT_SHIPPED_IN_TIME, estimate) if at_risk else ("", None))


def test_today_is_the_customers_date():
    """23:30 UTC on the 9th is already the 10th in Amsterdam, still the 9th in New York."""
    late_evening = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    amsterdam = order_with(promised=date(2025, 3, 12), customer=CustomerFactory(time_zone="Europe/Amsterdam"))
    new_york = order_with(promised=date(2025, 3, 12), customer=CustomerFactory(time_zone="America/New_York"))
    assert delay_sweep(now=late_evening) == 1
    assert flag_of(amsterdam) == (RiskReason.NOT_SHIPPED_IN_TIME, date(2025, 3, 13))
    assert flag_of(new_york) == ("", None)


def test_a_lines_own_promise_overrides_the_orders():
    late_line = order_with(promised=date(2025, 3, 30), line_promises=[date(2025, 3, 11)])
    relaxed_line = order_with(promised=date(2025, 3, 11), line_promises=[date(2025, 3, 30)])
    assert delay_sweep(now=NOW) == 1
    assert flag_of(late_line) == (RiskReason.NOT_SHIPPED_IN_TIME, date(2025, 3, 13))
    assert flag_of(relaxed_line) == ("", None)


def test_line_promises_alone_make_an_order_a_candidate():
    order = order_with(promised=None, line_promises=[None, date(2025, 3, 11)])
    assert list(risk.with_promise(Order.objects.all())) == [order]
    assert delay_sweep(now=NOW) == 1


def test_orders_without_any_promise_are_ignored():
    order = order_with(promised=None, line_promises=[None, None])
    assert list(risk.with_promise(Order.objects.all())) == []
    assert delay_sweep(now=NOW) == 0
    assert flag_of(order) == ("", None)


def test_fully_shipped_line_is_not_late_for_not_shipping():
    order = order_with(promised=date(2025, 3, 11))
    ship(order, eta=datetime(2025, 3, 11, 12, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 0


def test_partly_shipped_line_is_judged_on_its_unshipped_units():
    order = order_with(promised=date(2025, 3, 11))
    line = order.lines.get()
    fulfil(line, shipped=1)
    assert delay_sweep(now=NOW) == 1
    assert flag_of(order) == (RiskReason.NOT_SHIPPED_IN_TIME, date(2025, 3, 13))


def test_delivered_units_are_ignored():
    order = order_with(line_promises=[date(2025, 3, 1), date(2025, 3, 20)])
    done, pending = order.lines.all()
    fulfil(done, shipped=2, delivered=2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_DELIVERED
    assert delay_sweep(now=NOW) == 0  # the late line arrived; the other still makes the 20th
    fulfil(pending, delivered=2)
    assert delay_sweep(now=NOW) == 0


def test_cancelled_units_are_ignored():
    order = order_with(line_promises=[date(2025, 3, 11), date(2025, 3, 20)])
    cancelled = order.lines.first()
    OrderLine.objects.filter(pk=cancelled.pk).update(quantity_cancelled=2)
    assert delay_sweep(now=NOW) == 0


# --- (b) the carrier's estimate is later than the promise ----------------------------------


def test_carrier_estimate_after_the_promise_flags_the_order_with_that_date():
    order = order_with(promised=date(2025, 3, 12))
    # 23:30 UTC on the 12th is already the 13th where the customer lives
    ship(order, eta=datetime(2025, 3, 12, 23, 30, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 1
    assert flag_of(order) == (RiskReason.CARRIER_LATE, date(2025, 3, 13))


def test_carrier_estimate_on_the_promised_day_is_fine():
    order = order_with(promised=date(2025, 3, 12))
    ship(order, eta=datetime(2025, 3, 12, 22, 30, tzinfo=UTC))  # 23:30 on the 12th in Amsterdam
    assert delay_sweep(now=NOW) == 0


def test_carrier_estimate_counts_only_for_the_lines_the_shipment_carries():
    order = order_with(line_promises=[date(2025, 3, 12), date(2025, 3, 30)])
    early, late = order.lines.all()
    ship(order, lines=[late], eta=datetime(2025, 3, 20, 12, tzinfo=UTC))
    ship(order, lines=[early], eta=datetime(2025, 3, 11, 12, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 0


def test_a_delivered_shipments_estimate_does_not_count():
    order = order_with(line_promises=[date(2025, 3, 12), date(2025, 3, 12)])
    first, second = order.lines.all()
    ship(order, lines=[first], status=ShipmentStatus.DELIVERED, eta=datetime(2025, 3, 20, 12, tzinfo=UTC))
    ship(order, lines=[second], eta=datetime(2025, 3, 11, 12, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 0


# --- (c) the carrier reports trouble -------------------------------------------------------


@pytest.mark.parametrize("status", [ShipmentStatus.EXCEPTION, ShipmentStatus.FAILED_ATTEMPT])
def test_troubled_shipment_flags_the_order_even_before_the_promise_is_in_doubt(status):
    order = order_with(promised=date(2025, 3, 20))
    ship(order, status=status)
    assert delay_sweep(now=NOW) == 1
    assert flag_of(order) == (RiskReason.SHIPMENT_TROUBLE, date(2025, 3, 13))


def test_troubled_shipment_uses_the_carriers_new_estimate():
    order = order_with(promised=date(2025, 3, 12))
    ship(order, status=ShipmentStatus.FAILED_ATTEMPT, eta=datetime(2025, 3, 17, 10, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 1
    assert flag_of(order) == (RiskReason.SHIPMENT_TROUBLE, date(2025, 3, 17))
    body = Notification.objects.get(event="order_delayed").body
    assert "reported a problem" in body
    assert "Monday 17 March 2025" in body


def test_troubled_shipment_with_a_stale_estimate_uses_its_own_transit_days():
    order = order_with(promised=date(2025, 3, 20))
    ship(
        order,
        status=ShipmentStatus.EXCEPTION,
        eta=datetime(2025, 3, 9, 10, tzinfo=UTC),
        service_level=ServiceLevel.EXPRESS,
    )
    assert delay_sweep(now=NOW) == 1
    assert flag_of(order) == (RiskReason.SHIPMENT_TROUBLE, date(2025, 3, 11))


def test_troubled_shipment_of_an_order_without_promise_is_ignored():
    order = order_with(promised=None)
    ship(order, status=ShipmentStatus.EXCEPTION)
    assert delay_sweep(now=NOW) == 0


def test_the_latest_estimate_and_the_earliest_promise_speak_for_the_order():
    order = order_with(line_promises=[date(2025, 3, 11), date(2025, 3, 14)])
    _unshipped, second = order.lines.all()
    ship(order, lines=[second], eta=datetime(2025, 3, 18, 12, tzinfo=UTC))
    found = risk.order_risk(risk.with_fulfilment(Order.objects.filter(pk=order.pk)).get(), now=NOW)
    assert found == risk.Risk(RiskReason.CARRIER_LATE, date(2025, 3, 11), date(2025, 3, 18))


# --- telling the customer, once -----------------------------------------------------------


def test_customer_is_told_with_the_promise_the_estimate_and_an_apology():
    customer = CustomerFactory(given_name="Ada", preferred_channel=ContactChannel.EMAIL)
    order = order_with(promised=date(2025, 3, 12), customer=customer)
    delay_sweep(now=NOW)
    (message,) = Notification.objects.filter(customer=customer)
    assert (message.event, message.channel, message.status) == ("order_delayed", "email", NotificationStatus.QUEUED)
    assert message.dedupe_key == f"order-delayed:{order.number}:email"
    assert order.number in message.subject
    assert "Wednesday 12 March 2025" in message.body
    assert "Thursday 13 March 2025" in message.body
    assert "sorry" in message.body.lower()
    warning = Touchpoint.objects.get(customer=customer, kind=TouchpointKind.DELIVERY)
    assert (warning.channel, warning.order_number, warning.subject_id) == (Channel.EMAIL, order.number, order.pk)
    assert "12 Mar 2025" in warning.summary
    assert "13 Mar 2025" in warning.summary


def test_warning_goes_to_the_preferred_channel_and_the_timeline_says_so():
    customer = CustomerFactory(preferred_channel=ContactChannel.SMS, consent_sms=True)
    order_with(promised=date(2025, 3, 12), customer=customer)
    delay_sweep(now=NOW)
    (message,) = Notification.objects.filter(customer=customer)
    assert (message.channel, message.status) == ("sms", NotificationStatus.QUEUED)
    assert "13 Mar" in message.body
    assert Touchpoint.objects.get(customer=customer, kind=TouchpointKind.DELIVERY).channel == Channel.SMS


def test_push_warning_is_on_the_app_timeline():
    customer = CustomerFactory(preferred_channel=ContactChannel.PUSH, consent_push=True)
    order_with(promised=date(2025, 3, 12), customer=customer)
    delay_sweep(now=NOW)
    assert Touchpoint.objects.get(customer=customer, kind=TouchpointKind.DELIVERY).channel == Channel.APP


def test_no_consent_suppresses_the_message_but_the_order_is_still_flagged():
    customer = CustomerFactory(consent_email=False)
    order = order_with(promised=date(2025, 3, 12), customer=customer)
    assert delay_sweep(now=NOW) == 1
    (message,) = Notification.objects.filter(customer=customer)
    assert message.status == NotificationStatus.SUPPRESSED
    assert flag_of(order) == (RiskReason.NOT_SHIPPED_IN_TIME, date(2025, 3, 13))


def test_told_once_even_when_the_estimate_moves():
    order = order_with(promised=date(2025, 3, 12))
    assert delay_sweep(now=NOW) == 1
    assert delay_sweep(now=NOW) == 0  # same findings: nothing to write
    later = NOW + timedelta(days=2)
    assert delay_sweep(now=later) == 0
    order.refresh_from_db()
    assert (order.revised_estimate, order.at_risk_since) == (date(2025, 3, 15), NOW)
    assert Notification.objects.filter(event="order_delayed").count() == 1
    assert Touchpoint.objects.filter(kind=TouchpointKind.DELIVERY).count() == 1


def test_reason_follows_the_new_estimate_without_a_second_message():
    order = order_with(promised=date(2025, 3, 12))
    delay_sweep(now=NOW)
    ship(order, status=ShipmentStatus.EXCEPTION, eta=datetime(2025, 3, 19, 12, tzinfo=UTC))
    assert delay_sweep(now=NOW) == 0
    assert flag_of(order) == (RiskReason.SHIPMENT_TROUBLE, date(2025, 3, 19))
    assert Notification.objects.filter(event="order_delayed").count() == 1


def test_flag_stays_when_the_order_catches_up_until_it_is_fulfilled():
    order = order_with(promised=date(2025, 3, 12))
    delay_sweep(now=NOW)
    ship(order, eta=datetime(2025, 3, 11, 12, tzinfo=UTC))  # shipped, on time after all
    assert delay_sweep(now=NOW) == 0
    assert flag_of(order) == (RiskReason.NOT_SHIPPED_IN_TIME, date(2025, 3, 13))


def test_fulfilled_order_is_unflagged_and_never_warned_again():
    order = order_with(promised=date(2025, 3, 12))
    delay_sweep(now=NOW)
    assert list(orders_at_risk()) == [order]
    line = order.lines.get()
    ship(order, eta=datetime(2025, 3, 13, 12, tzinfo=UTC))
    fulfil(line, delivered=line.quantity)
    order.refresh_from_db()
    assert (order.status, order.at_risk_reason, order.at_risk_since, order.revised_estimate) == (
        OrderStatus.DELIVERED,
        "",
        None,
        None,
    )
    assert list(orders_at_risk()) == []
    assert delay_sweep(now=NOW + timedelta(days=5)) == 0
    assert Notification.objects.filter(event="order_delayed").count() == 1


def test_end_to_end_through_the_shipment_and_tracking_services():
    """Warned before shipping, the estimate follows the carrier's trouble, delivery clears the flag."""
    from orders.services.shipments import shipment_create
    from orders.services.tracking import CarrierEvent, tracking_events_apply

    order = order_with(promised=date(2025, 3, 12))
    assert delay_sweep(now=NOW) == 1
    carrier = CarrierFactory(code="parcelco")
    shipment_create(
        actor=None,
        order=order,
        carrier=carrier,
        tracking_number="E2E-1",
        lines=[(order.lines.get(), 2)],
        estimated_delivery=datetime(2025, 3, 13, 12, tzinfo=UTC),
    )
    trouble = CarrierEvent(
        "ev-1", "E2E-1", ShipmentStatus.EXCEPTION, NOW, estimated_delivery=datetime(2025, 3, 18, 9, tzinfo=UTC)
    )
    tracking_events_apply(carrier=carrier, events=[trouble])
    assert delay_sweep(now=NOW) == 0
    assert flag_of(order) == (RiskReason.SHIPMENT_TROUBLE, date(2025, 3, 18))
    delivered = CarrierEvent("ev-2", "E2E-1", ShipmentStatus.DELIVERED, NOW + timedelta(days=8))
    tracking_events_apply(carrier=carrier, events=[delivered])
    order.refresh_from_db()
    assert (order.status, order.at_risk_since, order.revised_estimate) == (OrderStatus.DELIVERED, None, None)
    assert delay_sweep(now=NOW + timedelta(days=9)) == 0
    assert Notification.objects.filter(event="order_delayed").count() == 1


def test_cancelled_order_is_unflagged():
    order = order_with(promised=date(2025, 3, 12))
    delay_sweep(now=NOW)
    with transaction.atomic():
        OrderLine.objects.filter(order=order).update(quantity_cancelled=2)
        order_status_refresh(order_lock(order.pk))
    assert flag_of(order) == ("", None)
    assert delay_sweep(now=NOW) == 0


def test_orders_at_risk_lists_the_longest_flagged_first_with_their_customers():
    second = order_with(promised=date(2025, 3, 14))
    first = order_with(promised=date(2025, 3, 12))
    order_with(promised=date(2025, 3, 30))
    delay_sweep(now=NOW)
    delay_sweep(now=NOW + timedelta(days=2))
    with CaptureQueriesContext(connection) as ctx:
        rows = [(order, order.customer.number) for order in orders_at_risk()]
    assert [order for order, _ in rows] == [first, second]
    assert len(ctx) == 1


# --- batches and queries ------------------------------------------------------------------


def _sweep_queries(now=NOW):
    with CaptureQueriesContext(connection) as ctx:
        delay_sweep(now=now)
    return len(ctx), ctx


def _order_with_history(promised):
    order = order_with(promised=promised, line_promises=[None, None])
    ship(order, lines=[order.lines.first()], eta=datetime(2025, 3, 11, 12, tzinfo=UTC))
    return order


def _assert_same(one, many):
    (n_one, _), (n_many, ctx) = one, many
    if n_one != n_many:
        pytest.fail(
            f"{n_one} queries for 1 order, {n_many} for many:\n" + "\n".join(q["sql"] for q in ctx.captured_queries)
        )


def test_evaluating_orders_runs_the_same_queries_for_one_or_many():
    _order_with_history(date(2025, 3, 30))
    one = _sweep_queries()
    for _ in range(12):
        _order_with_history(date(2025, 3, 30))
    _assert_same(one, _sweep_queries())
    assert one[0] == 5  # candidate ids, then orders + customers, lines, shipments, shipment lines


def test_already_flagged_orders_with_the_same_estimate_cost_no_writes():
    _order_with_history(date(2025, 3, 12))
    delay_sweep(now=NOW)
    one = _sweep_queries()
    for _ in range(12):
        _order_with_history(date(2025, 3, 12))
    delay_sweep(now=NOW)
    _assert_same(one, _sweep_queries())
    assert Notification.objects.filter(event="order_delayed").count() == 13


def test_orders_are_walked_in_batches(monkeypatch):
    monkeypatch.setattr(risk, "BATCH_SIZE", 2)
    orders = [_order_with_history(date(2025, 3, 30)) for _ in range(5)]
    count, _ = _sweep_queries()
    assert count == 1 + 3 * 4
    for order in orders:
        Order.objects.filter(pk=order.pk).update(promised_date=date(2025, 3, 12))
    assert delay_sweep(now=NOW) == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_order_locked_by_another_writer_is_left_for_the_next_sweep():
    if connection.vendor != "postgresql":
        pytest.skip("row locks (skip_locked) need PostgreSQL; SQLite serialises writers instead")
    order = order_with(promised=date(2025, 3, 12))
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with transaction.atomic():
                order_lock(order.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert delay_sweep(now=NOW) == 0
        assert flag_of(order) == ("", None)
    finally:
        release.set()
        holder.join()
    assert delay_sweep(now=NOW) == 1
    assert Notification.objects.filter(event="order_delayed").count() == 1
