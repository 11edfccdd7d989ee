"""Delivery exceptions: the remedies at hand (ship the rest, goodwill credit, free shipping,
escalate), their ledger rows, the approval limit, and the queue and day lists associates read."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Notification, StateTransition, Touchpoint
from core.workflow import transition_history
from orders.choices import ChargeKind, ChargeStatus, ExceptionStatus, Remedy
from orders.models import Charge, DeliveryException, Order, OrderLine
from orders.selectors_deliveries import deliveries_on_day, exception_queue, remedies_at_hand
from orders.services.deliveries import delivery_record
from orders.services.delivery_exceptions import (
    exception_escalate,
    exception_free_shipping,
    exception_goodwill,
    exception_ship_rest,
)
from tests.factories import (
    AssociateProfileFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_delivery,
    make_order,
    make_shipment,
)

pytestmark = pytest.mark.django_db


def make_exception(*, customer=None, missing=("Chaise module",), damaged=(), actor=None, **order_fields):
    """A sofa set (three pieces of 400.00), shipped, delivered with `missing` pieces left behind and
    `damaged` ones broken: returns the first exception it opened."""
    names = ("Corner module", "Armless module", "Chaise module")
    order = make_order(
        customer=customer or CustomerFactory(time_zone="Europe/Amsterdam"),
        lines=[(ProductFactory(name=name), 1, "400.00") for name in names],
        **order_fields,
    )
    make_shipment(order=order)
    delivery = make_delivery(order=order)
    lines = [
        {
            "order_line": line.order_line_id,
            "quantity_received": 0 if line.order_line.product.name in missing else 1,
            "condition": "damaged" if line.order_line.product.name in damaged else "good",
        }
        for line in delivery.lines.select_related("order_line__product")
    ]
    delivery_record(actor=actor, delivery=delivery, lines=lines)
    return DeliveryException.objects.filter(delivery=delivery).order_by("id").first()


def _fresh(exception):
    return DeliveryException.objects.get(pk=exception.pk)


def _remedy_messages():
    return list(Notification.objects.filter(event="delivery_remedy"))


# --- ship the rest ---------------------------------------------------------------------------


def test_ship_rest_gives_the_missing_piece_a_new_estimate_and_tells_the_customer(associate):
    exception = make_exception()
    estimate = timezone.localdate() + timedelta(days=5)

    resolved = exception_ship_rest(actor=associate, exception=exception, new_estimate=estimate)

    assert (resolved.status, resolved.remedy, resolved.resolved_at is not None) == ("resolved", "ship_rest", True)
    lines = {line.product.name: line.promised_date for line in OrderLine.objects.select_related("product")}
    assert lines == {"Corner module": None, "Armless module": None, "Chaise module": estimate}
    assert Order.objects.get(pk=exception.order_id).revised_estimate == estimate
    (message,) = _remedy_messages()
    assert f"You can now expect it by {estimate:%A} {estimate.day} {estimate:%B %Y}" in message.body
    (transition,) = transition_history(resolved)
    assert (transition.from_state, transition.to_state, transition.actor) == ("open", "resolved", associate)
    (touchpoint,) = Touchpoint.objects.filter(
        subject_type=ContentType.objects.get_for_model(DeliveryException), subject_id=exception.pk
    )
    assert (touchpoint.kind, touchpoint.associate, touchpoint.order_number) == (
        "delivery",
        associate,
        resolved.order.number,
    )
    assert "the rest ships again" in touchpoint.summary


def test_ship_rest_with_an_estimate_in_the_past_is_refused(associate):
    exception = make_exception()
    with pytest.raises(RuleViolation) as refused:
        exception_ship_rest(actor=associate, exception=exception, new_estimate=date(2020, 1, 1))
    assert refused.value.code == "estimate_in_past"
    assert _fresh(exception).status == ExceptionStatus.OPEN


# --- goodwill --------------------------------------------------------------------------------


def test_goodwill_within_the_limit_is_a_pending_credit_in_the_ledger(associate):
    exception = make_exception()

    resolved = exception_goodwill(actor=associate, exception=exception, amount=Decimal("50"), note="Sorry, Ada")

    (credit,) = Charge.objects.filter(order_id=exception.order_id, kind=ChargeKind.GOODWILL_CREDIT)
    assert (credit.amount, credit.status, credit.actor, credit.note) == (
        Decimal("-50.00"),
        ChargeStatus.PENDING,
        associate,
        "Sorry, Ada",
    )
    assert (resolved.remedy, resolved.resolution_note) == (Remedy.GOODWILL_CREDIT, "Sorry, Ada")
    (message,) = _remedy_messages()
    assert "We are crediting 50.00 EUR" in message.body


def test_goodwill_above_the_approval_limit_is_422_and_changes_nothing(associate):
    exception = make_exception()  # the associate's limit is 100.00 EUR
    charges = Charge.objects.count()

    with pytest.raises(RuleViolation) as refused:
        exception_goodwill(actor=associate, exception=exception, amount=Decimal("100.01"), note="Big apology")

    assert (refused.value.status, refused.value.code) == (422, "above_approval_limit")
    assert "above your approval limit (100.00 EUR)" in refused.value.detail
    assert _fresh(exception).status == ExceptionStatus.OPEN
    assert Charge.objects.count() == charges
    assert not StateTransition.objects.filter(subject_id=exception.pk, transition="resolve").exists()
    assert not _remedy_messages()


def test_an_admin_is_not_held_to_an_approval_limit(admin_user):
    exception = make_exception()
    exception_goodwill(actor=admin_user, exception=exception, amount=Decimal("500"), note="On the house")
    assert Charge.objects.get(kind=ChargeKind.GOODWILL_CREDIT).amount == Decimal("-500.00")


# --- free shipping ---------------------------------------------------------------------------


def test_free_shipping_is_a_credit_of_the_shipping_fee_once_per_order(associate, settings):
    settings.ORDERS_SHIPPING_FEE = Decimal("4.95")
    shortfall = make_exception(damaged=("Corner module",))
    damage = DeliveryException.objects.get(delivery=shortfall.delivery, kind="damage")

    exception_free_shipping(actor=associate, exception=shortfall, note="Next one is on us")

    (credit,) = Charge.objects.filter(kind=ChargeKind.FREE_SHIPPING)
    assert (credit.amount, credit.status, credit.order_id) == (Decimal("-4.95"), "pending", shortfall.order_id)
    assert _fresh(shortfall).remedy == Remedy.FREE_SHIPPING
    with pytest.raises(Conflict) as twice:
        exception_free_shipping(actor=associate, exception=damage, note="And again")
    assert twice.value.code == "free_shipping_given"
    assert _fresh(damage).status == ExceptionStatus.OPEN  # the resolution rolled back with the charge
    assert Charge.objects.filter(kind=ChargeKind.FREE_SHIPPING).count() == 1


# --- escalation and the workflow -------------------------------------------------------------


def test_escalation_keeps_the_note_and_an_escalated_exception_can_still_be_resolved(agent, manager):
    exception = make_exception()

    escalated = exception_escalate(actor=agent, exception=exception, note="Customer wants a manager")
    assert escalated.status == ExceptionStatus.ESCALATED
    assert transition_history(escalated).get().reason == "Customer wants a manager"
    with pytest.raises(TransitionNotAllowed):
        exception_escalate(actor=agent, exception=exception, note="Again")

    exception_goodwill(actor=manager, exception=exception, amount=Decimal("80"), note="Manager's apology")
    assert _fresh(exception).status == ExceptionStatus.RESOLVED


def test_a_resolved_exception_takes_no_second_remedy(associate):
    exception = make_exception()
    exception_goodwill(actor=associate, exception=exception, amount=Decimal("20"), note="Sorry")

    for remedy in (
        lambda: exception_goodwill(actor=associate, exception=exception, amount=Decimal("20"), note="Again"),
        lambda: exception_free_shipping(actor=associate, exception=exception, note="Again"),
        lambda: exception_ship_rest(
            actor=associate, exception=exception, new_estimate=timezone.localdate() + timedelta(days=2)
        ),
        lambda: exception_escalate(actor=associate, exception=exception, note="Again"),
    ):
        with pytest.raises(TransitionNotAllowed) as refused:
            remedy()
        assert refused.value.status == 409
    assert Charge.objects.filter(kind__in=[ChargeKind.GOODWILL_CREDIT, ChargeKind.FREE_SHIPPING]).count() == 1
    assert len(_remedy_messages()) == 1


@pytest.mark.parametrize("service", [exception_goodwill, exception_free_shipping, exception_escalate])
def test_remedies_need_a_note(associate, service):
    exception = make_exception()
    kwargs = {"amount": Decimal("5")} if service is exception_goodwill else {}
    with pytest.raises(RuleViolation) as refused:
        service(actor=associate, exception=exception, note=" ", **kwargs)
    assert refused.value.code == "note_required"
    assert _fresh(exception).status == ExceptionStatus.OPEN


# --- what an associate sees ------------------------------------------------------------------


def test_remedies_at_hand_follow_the_approval_limit_the_role_and_what_was_given(associate, admin_user):
    exception = make_exception()
    no_limit = AssociateProfileFactory(user__roles=["associate"], approval_limit=Decimal("0")).user
    admin_user.associate.approval_limit = Decimal("0")
    admin_user.associate.save()

    assert remedies_at_hand(exception, associate) == ["ship_rest", "goodwill_credit", "free_shipping"]
    assert remedies_at_hand(exception, no_limit) == ["ship_rest", "free_shipping"]
    assert remedies_at_hand(exception, admin_user) == ["ship_rest", "goodwill_credit", "free_shipping"]

    other = DeliveryException.objects.create(
        delivery=exception.delivery, order=exception.order, customer=exception.customer, kind="damage"
    )
    exception_free_shipping(actor=associate, exception=exception, note="Sorry")
    assert remedies_at_hand(_fresh(exception), associate) == []
    assert remedies_at_hand(other, associate) == ["ship_rest", "goodwill_credit"]


def test_the_queue_is_open_and_escalated_oldest_first_in_constant_queries(associate):
    first, second, third = make_exception(), make_exception(), make_exception()
    DeliveryException.objects.filter(pk=first.pk).update(opened_at=timezone.now() - timedelta(days=2))
    DeliveryException.objects.filter(pk=third.pk).update(opened_at=timezone.now() - timedelta(days=1))
    exception_escalate(actor=associate, exception=third, note="Stuck")
    exception_goodwill(actor=associate, exception=second, amount=Decimal("5"), note="Sorry")

    def read(queue):
        with CaptureQueriesContext(connection) as ctx:
            rows = [
                (
                    e.pk,
                    e.delivery.number,
                    e.order.number,
                    e.customer.number,
                    [line.quantity for line in e.delivery.lines.all()],
                    remedies_at_hand(e, associate),
                )
                for e in queue
            ]
        return rows, len(ctx)

    rows, queries = read(exception_queue())
    assert [row[0] for row in rows] == [first.pk, third.pk]
    assert rows[0][4] == [1, 1, 1]
    for _ in range(3):
        make_exception()
    more_rows, more_queries = read(exception_queue())
    assert len(more_rows) == 5
    assert more_queries == queries


def test_deliveries_of_a_day_are_read_in_the_locations_or_the_customers_time_zone():
    tokyo_store = LocationFactory(time_zone="Asia/Tokyo")
    customer = CustomerFactory(time_zone="America/New_York")
    # 20:00 UTC on 10 March 2031 is 5:00 on the 11th in Tokyo and 16:00 on the 10th in New York
    evening = datetime(2031, 3, 10, 20, 0, tzinfo=UTC)
    sold_in_tokyo = make_delivery(order=make_order(customer=customer, location=tokyo_store), window_start=evening)
    elsewhere = make_delivery(order=make_order(customer=customer), window_start=evening + timedelta(hours=1))

    assert list(deliveries_on_day(date(2031, 3, 11), location=tokyo_store)) == [sold_in_tokyo]
    assert list(deliveries_on_day(date(2031, 3, 10), location=tokyo_store)) == []
    assert list(deliveries_on_day(date(2031, 3, 10), customer=customer)) == [sold_in_tokyo, elsewhere]
    assert list(deliveries_on_day(date(2031, 3, 11), customer=customer)) == []
