"""Alteration work orders: taken for a purchased item, measured, worked, checked by someone else,
made ready for pickup, collected with the code; the fee goes through its own order's ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Inventory, Notification, Touchpoint
from core.timezones import zone_or_utc
from core.workflow import transition_history
from installations.choices import AlterationStatus
from installations.models import Alteration
from installations.services_alterations import (
    alteration_assign,
    alteration_cancel,
    alteration_collect,
    alteration_measure,
    alteration_pickup_renew,
    alteration_quality_check,
    alteration_request,
    alteration_start,
    alteration_submit,
)
from orders.choices import ChargeKind, ChargeStatus, PickupStatus
from orders.models import Pickup
from orders.services.charges import ledger_of
from orders.services.pickups import pickup_hand_over, pickups_sweep
from tests.factories import AssociateProfileFactory, CategoryFactory, make_paid_order
from tests.installations.conftest import FEE


def _request(shop, **overrides):
    fields = {
        "actor": shop["checker"].user,
        "order_line": shop["line"],
        "kind": shop["kind"],
        "location": shop["store"],
        "specification": "Shorten by 4 cm, blind hem",
        **overrides,
    }
    return alteration_request(**fields)


def _to_quality_check(shop, alteration):
    tailor = shop["tailor"].user
    alteration = alteration_measure(actor=tailor, alteration=alteration, measurements={"inside leg": "78 cm"})
    alteration = alteration_assign(actor=tailor, alteration=alteration, associate=shop["tailor"])
    alteration = alteration_start(actor=tailor, alteration=alteration)
    return alteration_submit(actor=tailor, alteration=alteration)


def _ready(shop):
    alteration = _to_quality_check(shop, _request(shop))
    return alteration_quality_check(actor=shop["checker"].user, alteration=alteration, passed=True, note="Even hem")


def _balanced(order) -> bool:
    ledger = ledger_of(order)
    cancelled = sum((line.unit_amount * line.quantity_cancelled for line in order.lines.all()), Decimal("0"))
    return ledger.past + ledger.pending == order.total - cancelled


# --- the request ------------------------------------------------------------------------------


def test_a_request_is_due_after_the_turnaround_and_sells_the_fee_on_an_order_of_its_own(shop):
    alteration = _request(shop)

    today = timezone.localdate(timezone.now(), zone_or_utc("Europe/Amsterdam"))
    assert alteration.status == AlterationStatus.REQUESTED
    assert alteration.due_on == today + timedelta(days=3)
    assert (alteration.fee, alteration.currency) == (FEE, "EUR")
    fee_order = alteration.service_order
    assert fee_order.customer_id == shop["line"].order.customer_id
    assert fee_order.fulfilment == "pickup" and fee_order.location == shop["store"]
    assert [(line.product.sku, line.quantity, line.unit_price) for line in fee_order.lines.all()] == [
        ("SVC-HEM", 1, FEE)
    ]
    charges = list(fee_order.charges.values_list("kind", "status", "amount"))
    assert charges == [(ChargeKind.AUTHORISATION, ChargeStatus.PENDING, FEE)]  # owed until collected
    assert _balanced(fee_order)
    touchpoint = Touchpoint.objects.get(kind=TouchpointKind.ALTERATION)
    assert alteration.number in touchpoint.summary and touchpoint.order_number == shop["line"].order.number
    message = Notification.objects.get(event="alteration_requested")
    assert "ready by" in message.subject and alteration.number in message.body


def test_a_free_alteration_opens_an_order_with_nothing_owed(shop):
    shop["kind"].fee = Decimal("0.00")
    shop["kind"].save()

    alteration = _request(shop)

    assert alteration.fee == 0 and not alteration.service_order.charges.exists()


@pytest.mark.parametrize(
    "change, code",
    [
        ({"specification": "  "}, "specification_required"),
        ({"kind_inactive": True}, "kind_inactive"),
        ({"not_alterable": True}, "kind_not_for_product"),
        ({"other_category": True}, "kind_not_for_product"),
        ({"warehouse": True}, "not_a_store"),
        ({"unskilled_assignee": True}, "assignee_not_qualified"),
        ({"assignee_elsewhere": True}, "assignee_elsewhere"),
    ],
)
def test_a_request_is_refused_when_a_rule_says_no_and_nothing_is_written(shop, change, code):
    overrides = {}
    if "specification" in change:
        overrides["specification"] = change["specification"]
    if change.get("kind_inactive"):
        shop["kind"].is_active = False
        shop["kind"].save()
    if change.get("not_alterable"):
        shop["line"].product.alterable = False
        shop["line"].product.save()
    if change.get("other_category"):
        shop["kind"].category = CategoryFactory(slug="shoes", name="Shoes")
        shop["kind"].save()
    if change.get("warehouse"):
        shop["store"].kind = "warehouse"
        shop["store"].save()
    if change.get("unskilled_assignee"):
        overrides["assigned_to"] = shop["checker"]
    if change.get("assignee_elsewhere"):
        elsewhere = AssociateProfileFactory()
        elsewhere.skills.add(shop["sewing"])
        overrides["assigned_to"] = elsewhere
    orders_before = shop["line"].order.customer.orders.count()

    with pytest.raises(RuleViolation) as refused:
        _request(shop, **overrides)

    assert refused.value.code == code
    assert not Alteration.objects.exists()
    assert shop["line"].order.customer.orders.count() == orders_before


def test_an_associate_of_another_store_does_not_take_the_order(shop):
    stranger = AssociateProfileFactory(user__roles=["associate"])

    with pytest.raises(PermissionDenied):
        _request(shop, actor=stranger.user)


def test_one_order_per_unit_bought_until_one_is_cancelled(shop):
    first = _request(shop)
    with pytest.raises(RuleViolation) as refused:
        _request(shop)
    assert refused.value.code == "units_already_ordered"

    alteration_cancel(actor=shop["checker"].user, alteration=first, reason="Customer changed her mind")

    assert _request(shop).status == AlterationStatus.REQUESTED


# --- the steps --------------------------------------------------------------------------------


def test_the_work_is_checked_by_someone_else_and_waits_for_pickup_without_holding_stock(shop):
    alteration = _to_quality_check(shop, _request(shop))
    assert alteration.status == AlterationStatus.QUALITY_CHECK

    with pytest.raises(RuleViolation) as own:
        alteration_quality_check(actor=shop["tailor"].user, alteration=alteration, passed=True)
    assert own.value.code == "own_work"

    ready = alteration_quality_check(actor=shop["checker"].user, alteration=alteration, passed=True, note="Even hem")

    assert ready.status == AlterationStatus.READY and ready.ready_at is not None
    pickup = ready.pickup
    assert pickup.status == PickupStatus.READY and pickup.location == shop["store"]
    assert pickup.order_id == ready.service_order_id
    assert not Inventory.objects.exists()  # the fee is not stock, the trousers are the customer's
    message = Notification.objects.get(event="pickup_ready")
    assert pickup.code in message.body
    steps = [row.transition for row in transition_history(ready)]
    assert steps == ["measure", "start", "submit", "approve"]


def test_a_failed_check_sends_the_work_back_saying_what_to_fix(shop):
    alteration = _to_quality_check(shop, _request(shop))
    checker = shop["checker"].user

    with pytest.raises(RuleViolation) as silent:
        alteration_quality_check(actor=checker, alteration=alteration, passed=False)
    assert silent.value.code == "note_required"

    back = alteration_quality_check(actor=checker, alteration=alteration, passed=False, note="Left leg 5 mm longer")

    assert back.status == AlterationStatus.IN_PROGRESS and back.quality_note == "Left leg 5 mm longer"
    assert back.pickup is None
    assert transition_history(back).last().reason == "Left leg 5 mm longer"


def test_work_starts_only_once_assigned(shop):
    alteration = _request(shop)
    alteration = alteration_measure(actor=shop["tailor"].user, alteration=alteration, measurements={"waist": 72})

    with pytest.raises(RuleViolation) as refused:
        alteration_start(actor=shop["tailor"].user, alteration=alteration)

    assert refused.value.code == "unassigned"
    assert alteration.measurements == {"waist": "72"}


def test_steps_out_of_order_are_refused_naming_the_allowed_ones(shop):
    alteration = _request(shop)

    with pytest.raises(TransitionNotAllowed) as refused:
        alteration_submit(actor=shop["tailor"].user, alteration=alteration)

    assert set(refused.value.extra["allowed"]) == {"measure", "cancel"}


@pytest.mark.parametrize(
    "measurements", [{}, [], {"waist": ""}, {"": "72"}, {"waist": None}, {"waist": True}, {"w" * 61: "1"}]
)
def test_measurements_are_names_with_values(shop, measurements):
    alteration = _request(shop)

    with pytest.raises(RuleViolation):
        alteration_measure(actor=shop["tailor"].user, alteration=alteration, measurements=measurements)

    alteration = Alteration.objects.get(pk=alteration.pk)
    assert alteration.status == AlterationStatus.REQUESTED and alteration.measurements == {}


def test_the_assignee_must_work_at_the_store_with_the_skills(shop):
    alteration = _request(shop)

    with pytest.raises(RuleViolation) as refused:
        alteration_assign(actor=shop["tailor"].user, alteration=alteration, associate=shop["checker"])

    assert refused.value.code == "assignee_not_qualified"


# --- collection and the fee -------------------------------------------------------------------


def test_collecting_with_the_code_captures_the_fee(shop):
    alteration = _ready(shop)
    checker = shop["checker"].user

    with pytest.raises(RuleViolation):
        alteration_collect(actor=checker, alteration=alteration, code="WRONG-CODE")
    alteration = Alteration.objects.get(pk=alteration.pk)
    assert alteration.status == AlterationStatus.READY

    collected = alteration_collect(actor=checker, alteration=alteration, code=alteration.pickup.code)

    assert collected.status == AlterationStatus.COLLECTED and collected.closed_at is not None
    assert Pickup.objects.get(pk=collected.pickup_id).status == PickupStatus.COLLECTED
    ledger = ledger_of(collected.service_order)
    assert (ledger.past, ledger.pending, ledger.hold) == (FEE, 0, 0)
    assert _balanced(collected.service_order)


def test_a_pickup_handed_over_on_the_pickups_page_closes_the_alteration(shop, django_capture_on_commit_callbacks):
    alteration = _ready(shop)

    with django_capture_on_commit_callbacks(execute=True):
        pickup_hand_over(actor=shop["checker"].user, pickup=alteration.pickup, code=alteration.pickup.code)

    alteration = Alteration.objects.get(pk=alteration.pk)
    assert alteration.status == AlterationStatus.COLLECTED


def test_not_collected_in_time_keeps_the_item_and_the_fee_owed_until_a_new_pickup(shop):
    alteration = _ready(shop)
    first = alteration.pickup

    result = pickups_sweep(now=first.expires_at + timedelta(minutes=1))

    assert result["expired"] == 1
    assert Pickup.objects.get(pk=first.pk).status == PickupStatus.EXPIRED
    fee_line = alteration.service_order.lines.get()
    assert fee_line.quantity_cancelled == 0  # the work is done; the fee is still owed
    assert ledger_of(alteration.service_order).pending == FEE
    message = Notification.objects.get(event="pickup_expired")
    assert "kept" in message.body and "cancelled these items" not in message.body

    renewed = alteration_pickup_renew(actor=shop["checker"].user, alteration=alteration)

    assert renewed.pickup_id != first.pk and renewed.pickup.status == PickupStatus.READY
    assert renewed.pickup.code != first.code
    with pytest.raises(Conflict) as open_pickup:
        alteration_pickup_renew(actor=shop["checker"].user, alteration=renewed)
    assert open_pickup.value.code == "pickup_open"
    collected = alteration_collect(actor=shop["checker"].user, alteration=renewed, code=renewed.pickup.code)
    assert ledger_of(collected.service_order).past == FEE


def test_cancelling_before_the_work_starts_releases_the_fee(shop):
    alteration = _request(shop)

    cancelled = alteration_cancel(actor=shop["checker"].user, alteration=alteration, reason="Fits after all")

    assert cancelled.status == AlterationStatus.CANCELLED
    order = cancelled.service_order
    assert order.lines.get().quantity_cancelled == 1
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending, ledger.hold) == (0, 0, 0)
    assert _balanced(order)
    assert Touchpoint.objects.filter(kind=TouchpointKind.ALTERATION, summary__contains="cancelled").exists()


def test_work_once_started_is_not_cancelled(shop):
    alteration = _to_quality_check(shop, _request(shop))

    with pytest.raises(TransitionNotAllowed):
        alteration_cancel(actor=shop["checker"].user, alteration=alteration, reason="Too late")

    with pytest.raises(RuleViolation):
        alteration_cancel(
            actor=shop["checker"].user, alteration=_request(shop, order_line=_second_line(shop)), reason=""
        )


def _second_line(shop):
    return make_paid_order(lines=[(shop["line"].product, 1, "79.95")]).lines.get()
