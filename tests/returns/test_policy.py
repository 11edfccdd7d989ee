"""The return policy: every refusal with its reason, rules as data, and what sends a request to a
person instead of the rules' own approval."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import RuleViolation
from returns.choices import ReturnFlag, ReturnStatus
from returns.models import ReturnPolicy, ReturnRule
from returns.services.returns import return_reject
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_order,
    make_paid_order,
    make_return,
    make_shipment,
)

pytestmark = pytest.mark.django_db


def _refusal(excinfo):
    return [(r["code"], r["detail"]) for r in excinfo.value.extra["refusals"]]


def _age(order, days):
    order.placed_at = timezone.now() - timedelta(days=days)
    order.save(update_fields=["placed_at"])


def test_a_low_value_request_with_no_flag_is_approved_by_the_rules():
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "40.00")]))

    assert request.status == ReturnStatus.APPROVED
    assert request.flags == []
    assert request.decided_by is None and request.decision_reason == "Approved by the return policy"
    assert request.value == Decimal("40.00")


def test_a_request_above_the_auto_approval_limit_waits_for_a_person():
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))

    assert request.status == ReturnStatus.REQUESTED
    assert request.flags == [ReturnFlag.ABOVE_AUTO_APPROVAL_LIMIT]


def test_the_auto_approval_limit_is_data_in_the_policy():
    ReturnPolicy.objects.filter(currency="EUR").update(auto_approve_limit=Decimal("500.00"))

    assert make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")])).status == ReturnStatus.APPROVED


def test_an_order_in_a_currency_without_policy_waits_for_a_person():
    order = make_paid_order(lines=[(ProductFactory(currency="GBP"), 1, "5.00")], currency="GBP")

    request = make_return(order=order)

    assert request.status == ReturnStatus.REQUESTED and request.flags == [ReturnFlag.NO_POLICY]


def test_the_window_is_counted_from_delivery_and_a_closed_window_says_when_it_closed():
    order = make_paid_order(lines=[(ProductFactory(return_window_days=30), 1, "20.00")])
    _age(order, 31)

    with pytest.raises(RuleViolation) as excinfo:
        make_return(order=order)

    ((code, detail),) = _refusal(excinfo)
    assert code == "window_closed"
    assert "30-day return window" in detail and "closed on" in detail


def test_the_window_starts_when_the_parcel_was_delivered_not_when_the_order_was_placed():
    from orders.services.tracking import tracking_event_apply

    product = ProductFactory(return_window_days=14)
    order = make_order(lines=[(product, 1, "20.00")], fulfilment="delivery")
    _age(order, 40)
    shipment = make_shipment(order=order)
    tracking_event_apply(
        carrier=shipment.carrier,
        event_id="delivered-1",
        tracking_number=shipment.tracking_number,
        status="delivered",
        occurred_at=timezone.now() - timedelta(days=2),
    )

    assert make_return(order=order).lines.get().quantity == 1


def test_an_undelivered_line_cannot_be_returned_yet():
    order = make_order(lines=[(ProductFactory(), 1, "20.00")], fulfilment="delivery")

    with pytest.raises(RuleViolation) as excinfo:
        make_return(order=order)

    assert _refusal(excinfo)[0][0] == "not_delivered"


def test_non_returnable_products_and_final_sale_rules_are_refused_with_the_rules_note():
    plain, final, by_category = (
        ProductFactory(returnable=False),
        ProductFactory(),
        ProductFactory(category=CategoryFactory(slug="clearance", name="Clearance")),
    )
    ReturnRule.objects.create(product=final, final_sale=True, note="Sale items are final.")
    ReturnRule.objects.create(category=by_category.category, final_sale=True)
    order = make_paid_order(lines=[(plain, 1, "10.00"), (final, 1, "10.00"), (by_category, 1, "10.00")])

    with pytest.raises(RuleViolation) as excinfo:
        make_return(order=order)

    refusals = _refusal(excinfo)
    assert [code for code, _ in refusals] == ["final_sale"] * 3
    assert "Sale items are final." in refusals[1][1]


def test_a_product_rule_wins_over_its_category_rule_and_overrides_the_window():
    category = CategoryFactory(slug="appliances", name="Appliances")
    product = ProductFactory(category=category, return_window_days=14)
    ReturnRule.objects.create(category=category, final_sale=True)
    ReturnRule.objects.create(product=product, window_days=100)
    order = make_paid_order(lines=[(product, 1, "10.00")])
    _age(order, 60)

    assert make_return(order=order).status == ReturnStatus.APPROVED


def test_units_already_returned_cannot_be_returned_again():
    product = ProductFactory()
    order = make_paid_order(lines=[(product, 3, "10.00")])
    line = order.lines.get()
    make_return(order=order, lines=[{"order_line": line, "quantity": 2, "reason": "doesnt_fit"}])

    with pytest.raises(RuleViolation) as excinfo:
        make_return(order=order, lines=[{"order_line": line, "quantity": 2, "reason": "doesnt_fit"}])

    ((code, detail),) = _refusal(excinfo)
    assert code == "quantity_exceeds_returnable"
    assert "1 of 3 delivered" in detail
    assert make_return(order=order, lines=[{"order_line": line, "quantity": 1, "reason": "doesnt_fit"}])


def test_a_rejected_return_gives_its_units_back_to_the_returnable_count(admin_user):
    order = make_paid_order(lines=[(ProductFactory(), 1, "300.00")])
    first = make_return(order=order)
    return_reject(actor=admin_user, return_request=first, reason="Worn")

    assert make_return(order=order).status == ReturnStatus.REQUESTED


def test_every_refused_line_is_reported_at_once():
    order = make_paid_order(lines=[(ProductFactory(returnable=False), 1, "10.00"), (ProductFactory(), 1, "10.00")])
    lines = list(order.lines.all())

    with pytest.raises(RuleViolation) as excinfo:
        make_return(
            order=order,
            lines=[
                {"order_line": lines[0], "quantity": 1, "reason": "other"},
                {"order_line": lines[1], "quantity": 5, "reason": "other"},
            ],
        )

    assert [code for code, _ in _refusal(excinfo)] == ["final_sale", "quantity_exceeds_returnable"]


def test_a_customer_above_the_return_rate_threshold_waits_for_a_manager():
    customer = CustomerFactory()
    for _ in range(3):
        order = make_paid_order(customer=customer, lines=[(ProductFactory(), 2, "10.00")])
        make_return(order=order)  # 6 units bought, all sent back by choice: 100%
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "10.00")])

    request = make_return(order=order)

    assert request.flags == [ReturnFlag.HIGH_RETURN_RATE]
    assert request.status == ReturnStatus.REQUESTED


def test_returns_for_the_retailers_faults_do_not_count_towards_the_rate():
    customer = CustomerFactory()
    for _ in range(3):
        order = make_paid_order(customer=customer, lines=[(ProductFactory(), 2, "10.00")])
        make_return(order=order, lines=[{"order_line": order.lines.get(), "quantity": 2, "reason": "defective"}])
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "10.00")])

    assert make_return(order=order).status == ReturnStatus.APPROVED


def test_the_rate_needs_enough_units_bought_before_it_counts():
    customer = CustomerFactory()
    make_return(order=make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "10.00")]))

    request = make_return(order=make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "10.00")]))

    assert request.status == ReturnStatus.APPROVED  # 2 units bought, below return_rate_min_units (5)


def test_a_drop_off_needs_a_location_of_the_right_kind():
    order = make_paid_order(lines=[(ProductFactory(), 1, "10.00")])
    warehouse = LocationFactory(kind="warehouse")

    with pytest.raises(RuleViolation, match="does not take returns"):
        make_return(order=order, drop_off_location=warehouse)
    with pytest.raises(RuleViolation, match="Say where"):
        make_return(order=order, method="kiosk_drop_off")
    with pytest.raises(RuleViolation, match="Only drop-off methods"):
        make_return(order=order, method="carrier_label", drop_off_location=LocationFactory())


def test_a_label_free_drop_off_gets_a_secret_code_others_do_not():
    order = make_paid_order(lines=[(ProductFactory(), 2, "10.00")])
    line = order.lines.get()
    kiosk = LocationFactory(kind="kiosk")

    label_free = make_return(
        order=order,
        lines=[{"order_line": line, "quantity": 1, "reason": "other"}],
        method="kiosk_drop_off",
        drop_off_location=kiosk,
    )
    labelled = make_return(
        order=order, lines=[{"order_line": line, "quantity": 1, "reason": "other"}], method="carrier_label"
    )

    assert len(label_free.drop_off_code.replace("-", "")) == 13
    assert labelled.drop_off_code is None
