"""Home-delivery appointments: booking, changes until the cut-off, the "what is coming" reminder,
recording at the door (shortfall, damage, refusal) and cancelling."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import Conflict, PreconditionFailed, RuleViolation, TransitionNotAllowed
from core.models import Notification, StateTransition, Touchpoint
from core.workflow import transition_history
from orders.choices import ChargeKind, DeliveryStatus, ExceptionKind, OrderStatus
from orders.models import Charge, Delivery, DeliveryException, DeliveryLine, OrderLine
from orders.services.charges import ledger_of
from orders.services.deliveries import (
    delivery_cancel,
    delivery_change,
    delivery_etag,
    delivery_record,
    delivery_reminders_send,
    delivery_schedule,
)
from orders.services.delivery_exceptions import exception_ship_rest
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    ProductFactory,
    UserFactory,
    make_delivery,
    make_order,
    make_pickup,
    make_shipment,
)

pytestmark = pytest.mark.django_db

# Monday 10 March 2031, 09:00 UTC (10:00 in Amsterdam, CET). The window below opens on Tuesday
# 11:00 CET, so changes close on Monday at 11:00 CET (10:00 UTC), with the 24-hour default.
T0 = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
WINDOW = (datetime(2031, 3, 11, 10, 0, tzinfo=UTC), datetime(2031, 3, 11, 12, 0, tzinfo=UTC))
CUTOFF = datetime(2031, 3, 10, 10, 0, tzinfo=UTC)


class Clock:
    """timezone.now() for the services, set by the test; it ticks a microsecond per call so
    successive saves still get distinct timestamps (and distinct ETags)."""

    def __init__(self, at):
        self.at, self.ticks = at, 0

    def now(self):
        self.ticks += 1
        return self.at + timedelta(microseconds=self.ticks)

    def set(self, at):
        self.at, self.ticks = at, 0


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr(timezone, "now", c.now)
    return c


@pytest.fixture
def shopper(db):
    customer = CustomerFactory(user=UserFactory(), time_zone="Europe/Amsterdam", given_name="Ada")
    CustomerAddressFactory(customer=customer, line1="2 Canal Street", city="Amsterdam", postcode="1012AB")
    return customer


@pytest.fixture
def sofa_set(shopper):
    """A three-piece sofa set: three modules on three lines, 400.00 each, authorised at checkout."""
    pieces = [ProductFactory(name=name) for name in ("Corner module", "Armless module", "Chaise module")]
    return make_order(customer=shopper, lines=[(piece, 1, "400.00") for piece in pieces])


def _lines(order):
    return {line.product.name: line for line in order.lines.select_related("product")}


def _book(order, **kwargs):
    kwargs.setdefault("address", order.customer.addresses.first())
    return delivery_schedule(
        actor=kwargs.pop("actor", None), order=order, window_start=WINDOW[0], window_end=WINDOW[1], **kwargs
    )


def _count(delivery, received=None, condition=None):
    """The count at the door: every planned line, received in full and good unless told otherwise."""
    received, condition = received or {}, condition or {}
    return [
        {
            "order_line": line.order_line_id,
            "quantity_received": received.get(line.order_line.product.name, line.quantity),
            "condition": condition.get(line.order_line.product.name, "good"),
        }
        for line in delivery.lines.select_related("order_line__product")
    ]


def _fresh(delivery):
    return Delivery.objects.get(pk=delivery.pk)


def _messages(event):
    return list(Notification.objects.filter(event=event))


# --- booking ---------------------------------------------------------------------------------


def test_booking_brings_every_unit_still_to_deliver_and_tells_the_window_in_the_customers_zone(clock, sofa_set, agent):
    delivery = _book(sofa_set, actor=agent, instructions="Ring twice", service="assembly")

    assert {line.order_line_id: line.quantity for line in delivery.lines.all()} == {
        line.pk: 1 for line in sofa_set.lines.all()
    }
    assert (delivery.address_line1, delivery.postcode, delivery.city, delivery.country) == (
        "2 Canal Street",
        "1012AB",
        "Amsterdam",
        "NL",
    )
    assert (delivery.customer, delivery.status, delivery.instructions) == (
        sofa_set.customer,
        DeliveryStatus.SCHEDULED,
        "Ring twice",
    )
    (message,) = _messages("delivery_scheduled")
    assert message.subject == f"Your delivery {delivery.number} is booked for Tuesday 11 March 2031, 11:00–13:00 (CET)"
    assert "1 × Chaise module" in message.body
    assert "White glove with assembly" in message.body
    assert "until Monday 10 March 2031 at 11:00 (CET)" in message.body
    touchpoint = Touchpoint.objects.get(kind="delivery", subject_id=delivery.pk)
    assert (touchpoint.order_number, touchpoint.channel, touchpoint.associate) == (sofa_set.number, "phone", agent)


def test_the_address_is_copied_so_later_edits_of_the_customers_address_do_not_move_the_delivery(clock, sofa_set):
    address = sofa_set.customer.addresses.first()
    delivery = _book(sofa_set, address=address)
    address.line1 = "99 Elsewhere"
    address.save()

    assert _fresh(delivery).address_line1 == "2 Canal Street"


def test_another_customers_address_is_refused(clock, sofa_set):
    stranger_address = CustomerAddressFactory(customer=CustomerFactory())

    with pytest.raises(RuleViolation) as refused:
        _book(sofa_set, address=stranger_address)

    assert refused.value.code == "address_not_customers"
    assert not Delivery.objects.exists()


def test_a_typed_address_is_copied_and_must_be_complete(clock, sofa_set):
    typed = {"line1": "5 Dam Square", "line2": "3rd floor", "city": "Amsterdam", "postcode": "1012JS", "country": "NL"}
    delivery = _book(sofa_set, address=typed)
    assert (delivery.address_line1, delivery.address_line2) == ("5 Dam Square", "3rd floor")

    with pytest.raises(RuleViolation) as refused:
        _book(make_order(customer=sofa_set.customer), address={"line1": "5 Dam Square", "country": "NL"})
    assert refused.value.extra["missing"] == ["city", "postcode"]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (T0 - timedelta(hours=1), T0 + timedelta(hours=1), "window_in_past"),
        (T0, T0 + timedelta(hours=2), "window_in_past"),
        (WINDOW[0], WINDOW[0], "window_order"),
        (WINDOW[1], WINDOW[0], "window_order"),
        (WINDOW[0], WINDOW[0] + timedelta(hours=12, seconds=1), "window_too_long"),
    ],
)
def test_the_window_must_be_in_the_future_end_after_it_starts_and_last_hours_not_days(
    clock, sofa_set, start, end, code
):
    with pytest.raises(RuleViolation) as refused:
        delivery_schedule(
            actor=None, order=sofa_set, window_start=start, window_end=end, address=sofa_set.customer.addresses.first()
        )
    assert refused.value.code == code
    assert not Delivery.objects.exists()


def test_a_unit_cannot_be_in_two_scheduled_deliveries(clock, shopper):
    chairs = ProductFactory(name="Dining chair")
    order = make_order(customer=shopper, lines=[(chairs, 3, "80.00")])
    line = order.lines.get()
    first = _book(order, lines=[{"order_line": line, "quantity": 2}])

    with pytest.raises(Conflict) as taken:
        _book(order, lines=[{"order_line": line, "quantity": 2}])
    assert (taken.value.code, taken.value.extra["available"]) == ("units_already_booked", 1)
    second = _book(order)  # by default: what is left
    assert second.lines.get().quantity == 1
    with pytest.raises(RuleViolation) as nothing:
        _book(order)
    assert nothing.value.code == "nothing_to_deliver"

    delivery_cancel(actor=None, delivery=first, reason="Customer is away")
    assert _book(order).lines.get().quantity == 2  # cancelled units are free again


def test_units_waiting_in_a_ready_pickup_are_not_booked_for_home_delivery(clock, shopper):
    pickup = make_pickup(customer=shopper, lines=[(ProductFactory(), 2, "50.00")])
    line = pickup.order.lines.get()

    with pytest.raises(RuleViolation) as nothing:
        _book(pickup.order)
    assert nothing.value.code == "nothing_to_deliver"
    with pytest.raises(Conflict) as taken:
        _book(pickup.order, lines=[{"order_line": line, "quantity": 1}])
    assert taken.value.code == "units_already_booked"


def test_lines_must_be_on_the_order_and_within_what_is_left(clock, sofa_set):
    other_line = make_order(customer=sofa_set.customer).lines.get()
    corner = _lines(sofa_set)["Corner module"]

    for lines, code in [
        ([{"order_line": other_line, "quantity": 1}], "line_not_on_order"),
        ([{"order_line": corner, "quantity": 2}], "quantity_exceeds_line"),
        ([{"order_line": corner, "quantity": 1}, {"order_line": corner, "quantity": 1}], "line_twice"),
        ([], "no_lines"),
    ]:
        with pytest.raises(RuleViolation) as refused:
            _book(sofa_set, lines=lines)
        assert refused.value.code == code
    assert not Delivery.objects.exists()


def test_a_shipment_of_another_order_is_refused(clock, sofa_set):
    with pytest.raises(RuleViolation) as refused:
        _book(sofa_set, shipment=make_shipment())
    assert refused.value.code == "shipment_not_on_order"


# --- changes until the cut-off ---------------------------------------------------------------


def test_instructions_can_change_until_one_second_before_the_cut_off(clock, sofa_set, agent):
    delivery = _book(sofa_set)
    clock.set(CUTOFF - timedelta(seconds=1))

    changed = delivery_change(actor=agent, delivery=delivery, instructions="Leave with the neighbour at 4")

    assert _fresh(changed).instructions == "Leave with the neighbour at 4"
    assert not _messages("delivery_changed")  # instructions only: nothing to announce
    assert Touchpoint.objects.filter(summary__contains="new instructions").count() == 1


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(hours=5)])
def test_at_and_after_the_cut_off_a_change_is_a_409_saying_why_and_when(clock, sofa_set, agent, after):
    delivery = _book(sofa_set)
    clock.set(CUTOFF + after)

    with pytest.raises(Conflict) as refused:
        delivery_change(actor=agent, delivery=delivery, instructions="Too late?")

    assert refused.value.status == 409
    assert refused.value.code == "past_cutoff"
    assert "changes close 24 hours before the window opens" in refused.value.detail
    assert "the cut-off was Monday 10 March 2031 at 11:00 (CET)" in refused.value.detail
    assert refused.value.extra["cutoff"] == CUTOFF.isoformat()
    assert _fresh(delivery).instructions == ""


def test_rescheduling_tells_the_customer_and_asks_for_a_new_reminder(clock, sofa_set, shopper):
    delivery = _book(sofa_set)
    Delivery.objects.filter(pk=delivery.pk).update(reminded_at=T0)
    new_start = datetime(2031, 3, 14, 13, 0, tzinfo=UTC)

    moved = delivery_change(
        actor=shopper.user, delivery=delivery, window_start=new_start, window_end=new_start + timedelta(hours=3)
    )

    moved = _fresh(moved)
    assert (moved.window_start, moved.reminded_at) == (new_start, None)
    (message,) = _messages("delivery_changed")
    assert message.subject == f"Your delivery {delivery.number} moved to Friday 14 March 2031, 14:00–17:00 (CET)"
    assert "from Tuesday 11 March 2031, 11:00–13:00 (CET)" in message.body
    touchpoint = Touchpoint.objects.get(summary__contains="moved to")
    assert (touchpoint.channel, touchpoint.associate) == ("app", None)


def test_a_new_window_must_be_in_the_future_and_end_after_it_starts(clock, sofa_set, agent):
    delivery = _book(sofa_set)
    for start, end in [(WINDOW[0], WINDOW[0] - timedelta(hours=1)), (T0 - timedelta(days=1), T0)]:
        with pytest.raises(RuleViolation):
            delivery_change(actor=agent, delivery=delivery, window_start=start, window_end=end)
    assert _fresh(delivery).window_start == WINDOW[0]


def test_a_stale_etag_is_refused_with_412_and_changes_nothing(clock, sofa_set, agent, shopper):
    delivery = _book(sofa_set)
    etag = delivery_etag(delivery)
    delivery_change(actor=shopper.user, delivery=delivery, instructions="Gate code 1234", if_match=etag)

    with pytest.raises(PreconditionFailed) as stale:
        delivery_change(actor=agent, delivery=delivery, instructions="Back door", if_match=etag)

    assert stale.value.extra["current_etag"] == delivery_etag(_fresh(delivery))
    assert _fresh(delivery).instructions == "Gate code 1234"
    assert delivery_change(actor=agent, delivery=delivery, instructions="x", if_match="*").instructions == "x"


def test_only_a_scheduled_delivery_can_change(clock, sofa_set, agent):
    delivery = _book(sofa_set)
    delivery_cancel(actor=agent, delivery=delivery, reason="Order on hold")

    with pytest.raises(Conflict) as refused:
        delivery_change(actor=agent, delivery=delivery, instructions="Hello")
    assert refused.value.code == "not_scheduled"


def test_only_the_customer_or_staff_may_change_a_delivery(clock, sofa_set):
    delivery = _book(sofa_set)
    for outsider in (CustomerFactory(user=UserFactory()).user, UserFactory()):
        with pytest.raises(PermissionDenied):
            delivery_change(actor=outsider, delivery=delivery, instructions="Mine now")
    assert _fresh(delivery).instructions == ""


# --- the reminder ----------------------------------------------------------------------------


def test_reminders_tell_what_is_coming_once_within_the_reminder_period(clock, sofa_set, shopper):
    due = _book(sofa_set, service="white_glove")  # opens in 25 hours
    later = make_delivery(
        order=make_order(customer=shopper), window_start=datetime(2031, 3, 12, 9, 0, tzinfo=UTC)
    )  # opens in 48 hours
    cancelled = make_delivery(order=make_order(customer=shopper), window_start=WINDOW[0])
    delivery_cancel(actor=None, delivery=cancelled, reason="Duplicate")

    assert delivery_reminders_send(now=datetime(2031, 3, 10, 9, 59, tzinfo=UTC)) == 0  # 24h01 before
    now = datetime(2031, 3, 10, 10, 0, tzinfo=UTC)  # 24 hours before `due`
    assert delivery_reminders_send(now=now) == 1
    assert delivery_reminders_send(now=now + timedelta(minutes=15)) == 0

    (message,) = _messages("delivery_coming")
    assert message.customer == shopper
    assert message.subject == f"Your delivery {due.number} is coming Tuesday 11 March 2031, 11:00–13:00 (CET)"
    for piece in ("Corner module", "Armless module", "Chaise module"):
        assert f"1 × {piece}" in message.body
    assert "White glove (room of choice, packaging taken away)" in message.body
    assert _fresh(due).reminded_at == now
    assert _fresh(later).reminded_at is None


def test_a_window_that_opened_already_gets_no_reminder(clock, sofa_set):
    _book(sofa_set)
    assert delivery_reminders_send(now=WINDOW[0] + timedelta(minutes=1)) == 0
    assert not _messages("delivery_coming")


def test_a_moved_delivery_is_reminded_again_for_its_new_window(clock, sofa_set, agent):
    delivery = _book(sofa_set)
    assert delivery_reminders_send(now=CUTOFF) == 1  # 24 hours before the first window
    new_start = WINDOW[0] + timedelta(days=1)
    delivery_change(actor=agent, delivery=delivery, window_start=new_start, window_end=new_start + timedelta(hours=2))

    assert delivery_reminders_send(now=new_start - timedelta(hours=2)) == 1
    assert len(_messages("delivery_coming")) == 2


def _book_many(shopper, n):
    for _ in range(n):
        make_delivery(
            order=make_order(customer=shopper, lines=[(ProductFactory(), 2, "10.00")]), window_start=WINDOW[0]
        )


def test_reminders_go_in_batches_whose_reads_do_not_grow_with_the_batch(clock, shopper):
    def selects_for(n):
        Delivery.objects.update(reminded_at=timezone.now())
        _book_many(shopper, n)
        with CaptureQueriesContext(connection) as ctx:
            assert delivery_reminders_send(now=T0 + timedelta(hours=2), batch_size=50) == n
        return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]

    small, large = selects_for(2), selects_for(8)
    assert len(small) == len(large), "\n".join(large)

    _book_many(shopper, 5)
    assert delivery_reminders_send(now=T0 + timedelta(hours=2), batch_size=2) == 5
    assert not Delivery.objects.filter(reminded_at__isnull=True).exists()


# --- at the door -----------------------------------------------------------------------------


def test_a_complete_delivery_delivers_every_unit(clock, sofa_set, associate):
    make_shipment(order=sofa_set)
    delivery = _book(sofa_set)

    recorded = delivery_record(actor=associate, delivery=delivery, lines=_count(delivery))

    assert recorded.status == DeliveryStatus.DELIVERED
    assert (recorded.recorded_by, recorded.recorded_at is not None) == (associate, True)
    assert set(sofa_set.lines.values_list("quantity_delivered", "quantity_shipped")) == {(1, 1)}
    sofa_set.refresh_from_db()
    assert sofa_set.status == OrderStatus.DELIVERED
    assert not DeliveryException.objects.exists()
    assert not _messages("delivery_exception")
    (transition,) = transition_history(recorded)
    assert (transition.from_state, transition.to_state, transition.actor) == ("scheduled", "delivered", associate)
    assert set(DeliveryLine.objects.values_list("quantity_received", "condition")) == {(1, "good")}


def test_two_of_three_sofa_pieces_arrive_the_customer_hears_and_the_missing_piece_ships_again(
    clock, sofa_set, associate
):
    shipment = make_shipment(order=sofa_set)  # all three pieces leave the warehouse: 1200.00 captured
    delivery = _book(sofa_set, shipment=shipment)
    charges_before = list(Charge.objects.filter(order=sofa_set).values_list("kind", "amount"))
    pieces = _lines(sofa_set)

    recorded = delivery_record(actor=associate, delivery=delivery, lines=_count(delivery, {"Chaise module": 0}))

    assert recorded.status == DeliveryStatus.PARTIALLY_DELIVERED
    delivered = {name: (line.quantity_delivered, line.quantity_shipped) for name, line in _lines(sofa_set).items()}
    assert delivered == {"Corner module": (1, 1), "Armless module": (1, 1), "Chaise module": (0, 0)}
    sofa_set.refresh_from_db()
    assert sofa_set.status == OrderStatus.PARTIALLY_DELIVERED

    (shortfall,) = DeliveryException.objects.all()
    assert (shortfall.kind, shortfall.status, shortfall.customer, shortfall.order) == (
        ExceptionKind.SHORTFALL,
        "open",
        sofa_set.customer,
        sofa_set,
    )
    assert shortfall.details == [
        {
            "order_line": pieces["Chaise module"].pk,
            "sku": pieces["Chaise module"].product.sku,
            "product": "Chaise module",
            "expected": 1,
            "received": 0,
            "condition": "",
            "missing": 1,
            "damaged": 0,
        }
    ]
    (message,) = _messages("delivery_exception")
    assert "Missing:\n- 1 × Chaise module" in message.body
    assert "Someone on our team is already on it" in message.body
    assert "Damaged" not in message.body
    assert Touchpoint.objects.filter(summary=f"Delivery {delivery.number}: 2 of 3 items delivered, 1 missing").exists()

    # money already captured stays captured; the missing piece can ship again without a new capture
    assert list(Charge.objects.filter(order=sofa_set).values_list("kind", "amount")) == charges_before
    make_shipment(order=sofa_set, lines=[(pieces["Chaise module"], 1)])
    assert OrderLine.objects.get(pk=pieces["Chaise module"].pk).quantity_shipped == 1
    assert ledger_of(sofa_set).past == Decimal("1200.00")


def test_damaged_units_are_not_delivered_and_open_a_damage_exception(clock, sofa_set, associate):
    make_shipment(order=sofa_set)
    delivery = _book(sofa_set)

    recorded = delivery_record(
        actor=associate, delivery=delivery, lines=_count(delivery, condition={"Armless module": "damaged"})
    )

    assert recorded.status == DeliveryStatus.PARTIALLY_DELIVERED
    armless = _lines(sofa_set)["Armless module"]
    assert (armless.quantity_delivered, armless.quantity_shipped) == (0, 0)
    (damage,) = DeliveryException.objects.all()
    assert damage.kind == ExceptionKind.DAMAGE
    assert [(d["product"], d["received"], d["damaged"], d["condition"]) for d in damage.details] == [
        ("Armless module", 1, 1, "damaged")
    ]
    (message,) = _messages("delivery_exception")
    assert "Damaged (not counted as delivered):\n- 1 × Armless module" in message.body


def test_a_shortfall_and_damage_together_open_two_exceptions_and_one_message(clock, sofa_set, associate):
    delivery = _book(sofa_set)
    delivery_record(
        actor=associate,
        delivery=delivery,
        lines=_count(delivery, {"Chaise module": 0}, {"Corner module": "damaged"}),
    )

    assert sorted(DeliveryException.objects.values_list("kind", flat=True)) == ["damage", "shortfall"]
    assert len(_messages("delivery_exception")) == 1


def test_the_customer_may_refuse_a_short_delivery_and_then_nothing_is_delivered(clock, sofa_set, associate):
    make_shipment(order=sofa_set)
    delivery = _book(sofa_set)

    recorded = delivery_record(
        actor=associate, delivery=delivery, lines=_count(delivery, {"Chaise module": 0}), refused=True
    )

    assert recorded.status == DeliveryStatus.REFUSED
    assert set(sofa_set.lines.values_list("quantity_delivered", "quantity_shipped")) == {(0, 0)}
    sofa_set.refresh_from_db()
    assert sofa_set.status == OrderStatus.PLACED  # everything is to ship again
    (refusal,) = DeliveryException.objects.all()
    assert refusal.kind == ExceptionKind.REFUSAL
    assert len(refusal.details) == 3
    (message,) = _messages("delivery_exception")
    assert "You refused delivery" in message.body
    assert ledger_of(sofa_set).past == Decimal("1200.00")  # captured money stays captured


def test_a_complete_delivery_in_good_condition_cannot_be_refused(clock, sofa_set, associate):
    delivery = _book(sofa_set)
    with pytest.raises(RuleViolation) as refused:
        delivery_record(actor=associate, delivery=delivery, lines=_count(delivery), refused=True)
    assert refused.value.code == "nothing_to_refuse"
    assert _fresh(delivery).status == DeliveryStatus.SCHEDULED


def test_a_second_record_is_a_409_naming_the_allowed_transitions_and_changes_nothing(clock, sofa_set, associate):
    delivery = _book(sofa_set)
    delivery_record(actor=associate, delivery=delivery, lines=_count(delivery, {"Chaise module": 0}))
    before = list(OrderLine.objects.values_list("quantity_delivered", "quantity_shipped"))

    with pytest.raises(TransitionNotAllowed) as again:
        delivery_record(actor=associate, delivery=delivery, lines=_count(delivery))

    assert again.value.status == 409
    assert again.value.extra == {"allowed": [], "state": "partially_delivered"}
    assert "allowed: none" in again.value.detail
    assert list(OrderLine.objects.values_list("quantity_delivered", "quantity_shipped")) == before
    assert DeliveryException.objects.count() == 1


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda lines: lines[:2], "lines_not_counted"),
        (lambda lines: [*lines, lines[0]], "line_twice"),
        (lambda lines: [{**lines[0], "quantity_received": 2}, *lines[1:]], "received_exceeds_planned"),
        (lambda lines: [{**lines[0], "quantity_received": -1}, *lines[1:]], "received_exceeds_planned"),
        (lambda lines: [*lines, {"order_line": 10**9, "quantity_received": 1}], "line_not_on_delivery"),
    ],
)
def test_a_count_that_does_not_match_the_plan_is_refused_and_nothing_is_recorded(
    clock, sofa_set, associate, mangle, code
):
    delivery = _book(sofa_set)
    with pytest.raises(RuleViolation) as refused:
        delivery_record(actor=associate, delivery=delivery, lines=mangle(_count(delivery)))
    assert refused.value.code == code
    assert _fresh(delivery).status == DeliveryStatus.SCHEDULED
    assert not StateTransition.objects.exists()


def test_units_delivered_by_our_own_crew_without_a_shipment_are_captured(clock, sofa_set, associate):
    delivery = _book(sofa_set)  # nothing shipped: the whole 1200.00 is still an authorisation

    delivery_record(actor=associate, delivery=delivery, lines=_count(delivery, {"Chaise module": 0}))

    captures = list(Charge.objects.filter(order=sofa_set, kind=ChargeKind.CAPTURE).values_list("amount", flat=True))
    assert captures == [Decimal("800.00")]
    assert ledger_of(sofa_set).hold == Decimal("400.00")  # the chaise is still authorised, not taken


# --- cancelling ------------------------------------------------------------------------------


def test_cancelling_needs_a_reason_records_it_and_tells_the_customer(clock, sofa_set, agent):
    delivery = _book(sofa_set)
    with pytest.raises(RuleViolation):
        delivery_cancel(actor=agent, delivery=delivery, reason="  ")

    cancelled = delivery_cancel(actor=agent, delivery=delivery, reason="Truck broke down")

    assert cancelled.status == DeliveryStatus.CANCELLED
    (transition,) = transition_history(cancelled)
    assert (transition.reason, transition.actor) == ("Truck broke down", agent)
    (message,) = _messages("delivery_changed")
    assert message.subject == f"Your delivery {delivery.number} was cancelled"
    with pytest.raises(TransitionNotAllowed):
        delivery_cancel(actor=agent, delivery=delivery, reason="again")


def test_a_recorded_delivery_cannot_be_cancelled(clock, sofa_set, associate):
    delivery = _book(sofa_set)
    delivery_record(actor=associate, delivery=delivery, lines=_count(delivery))
    with pytest.raises(TransitionNotAllowed):
        delivery_cancel(actor=associate, delivery=delivery, reason="Oops")
    assert _fresh(delivery).status == DeliveryStatus.DELIVERED


# --- the same message on every channel -------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "push"])
def test_every_delivery_message_reads_right_on_sms_and_push(clock, shopper, sofa_set, associate, channel):
    Customer = type(shopper)
    Customer.objects.filter(pk=shopper.pk).update(preferred_channel=channel, consent_sms=True, consent_push=True)
    make_shipment(order=sofa_set)
    delivery = _book(sofa_set)
    new_start = WINDOW[0] + timedelta(days=1)
    delivery_change(
        actor=associate, delivery=delivery, window_start=new_start, window_end=new_start + timedelta(hours=2)
    )
    delivery_reminders_send(now=new_start - timedelta(hours=1))
    delivery_record(actor=associate, delivery=delivery, lines=_count(delivery, {"Chaise module": 0}))
    exception_ship_rest(actor=associate, exception=DeliveryException.objects.get(), new_estimate=date(2031, 3, 20))

    bodies = {row.event: row.body for row in Notification.objects.filter(channel=channel, customer=shopper)}
    new_window = "Wednesday 12 March 2031, 11:00–13:00 (CET)"
    assert "Tuesday 11 March 2031, 11:00–13:00 (CET)" in bodies["delivery_scheduled"]
    assert new_window in bodies["delivery_changed"]
    assert new_window in bodies["delivery_coming"]
    assert "1 × Chaise module" in bodies["delivery_coming"]
    assert ("missing 1 × Chaise module" if channel == "sms" else "missing items") in bodies["delivery_exception"]
    assert "20 March 2031" in bodies["delivery_remedy"]
    assert all("{" not in body and "&#" not in body for body in bodies.values())


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_agents_recording_the_same_delivery_at_once_leave_one_record():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises every write")
    agents = [AssociateProfileFactory(user__roles=["customer_service"]).user for _ in range(2)]
    order = make_order(lines=[(ProductFactory(name=n), 1, "400.00") for n in ("Corner", "Armless", "Chaise")])
    delivery = make_delivery(order=order)
    count = [
        {"order_line": line.order_line_id, "quantity_received": 1 if i else 0, "condition": "good"}
        for i, line in enumerate(delivery.lines.order_by("id"))
    ]
    barrier = threading.Barrier(2)
    outcomes = []

    def record(agent):
        barrier.wait()
        try:
            delivery_record(actor=agent, delivery=delivery, lines=count)
            outcomes.append("recorded")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(agent,)) for agent in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["recorded", "refused"]
    assert sorted(order.lines.values_list("quantity_delivered", flat=True)) == [0, 1, 1]
    assert DeliveryException.objects.filter(delivery=delivery).count() == 1
    assert StateTransition.objects.filter(subject_id=delivery.pk, transition="deliver_partially").count() == 1
    assert Notification.objects.filter(event="delivery_exception").count() == 1
