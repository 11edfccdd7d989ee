"""Orders as selling systems and agents create them: totals, opening ledger, upsert, derived status,
cancelling what has not shipped."""

from decimal import Decimal

import pytest

from core.errors import Conflict, RuleViolation
from core.models import Notification, Touchpoint
from orders.choices import ChargeKind, ChargeStatus, OrderStatus
from orders.models import Order, OrderLine
from orders.services.charges import ledger_of
from orders.services.orders import derived_status, order_lines_cancel, order_upsert
from tests.factories import CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


def _lines(*specs):
    return [{"product": ProductFactory(), "quantity": q, "unit_price": Decimal(p)} for q, p in specs]


def test_total_is_the_sum_of_lines_after_discount_and_tax_and_waits_as_a_pending_charge():
    order = make_order(
        lines=[
            {"product": ProductFactory(), "quantity": 2, "unit_price": Decimal("10.00"), "discount": Decimal("1.50")},
            {"product": ProductFactory(), "quantity": 1, "unit_price": Decimal("5.00"), "tax": Decimal("1.05")},
        ]
    )
    assert order.total == Decimal("24.55")
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending, ledger.hold) == (Decimal("0"), Decimal("24.55"), Decimal("24.55"))
    assert Touchpoint.objects.get(order_number=order.number).kind == "purchase"


def test_payments_must_add_up_to_the_total():
    with pytest.raises(RuleViolation) as error:
        make_order(lines=[(ProductFactory(), 1, "100.00")], payments=[{"kind": "capture", "amount": Decimal("90")}])
    assert error.value.code == "payments_do_not_reconcile"
    assert not Order.objects.exists()


def test_paid_at_the_till_and_by_voucher_is_settled_and_nothing_is_pending():
    order = make_order(
        lines=[(ProductFactory(), 1, "100.00")],
        payments=[
            {"kind": "voucher_redemption", "amount": Decimal("30"), "reference": "V-1"},
            {"kind": "capture", "amount": Decimal("70"), "reference": "till-9"},
        ],
    )
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending) == (Decimal("100.00"), Decimal("0"))
    assert set(order.charges.values_list("status", flat=True)) == {ChargeStatus.SETTLED}


def test_an_order_may_not_arrive_with_a_refund_or_a_discount_larger_than_its_line():
    with pytest.raises(RuleViolation):
        make_order(payments=[{"kind": "refund", "amount": Decimal("300")}])
    with pytest.raises(RuleViolation) as error:
        make_order(
            lines=[{"product": ProductFactory(), "quantity": 1, "unit_price": Decimal("5"), "discount": Decimal("6")}]
        )
    assert error.value.code == "discount_too_large"


def test_upsert_creates_once_and_a_repeat_changes_only_what_the_seller_may_change():
    customer = CustomerFactory()
    lines = _lines((1, "50.00"))
    first = order_upsert(actor=None, source="pos", external_id="T-1", customer=customer, lines=lines, channel="store")
    again = order_upsert(
        actor=None,
        source="pos",
        external_id="T-1",
        customer=customer,
        lines=_lines((9, "1.00")),
        channel="store",
        promised_date="2026-12-24",
    )
    assert first.created and not again.created
    assert again.order.pk == first.order.pk
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    first.order.refresh_from_db()
    assert str(first.order.promised_date) == "2026-12-24"
    assert first.order.total == Decimal("50.00")


def test_upsert_refuses_an_external_order_of_another_customer():
    lines = _lines((1, "5.00"))
    order_upsert(
        actor=None, source="ecommerce", external_id="W-1", customer=CustomerFactory(), lines=lines, channel="web"
    )
    with pytest.raises(Conflict):
        order_upsert(
            actor=None, source="ecommerce", external_id="W-1", customer=CustomerFactory(), lines=lines, channel="web"
        )


class _Line:
    def __init__(self, quantity, shipped=0, delivered=0, cancelled=0):
        self.quantity, self.quantity_shipped = quantity, shipped
        self.quantity_delivered, self.quantity_cancelled = delivered, cancelled

    @property
    def active_quantity(self):
        return self.quantity - self.quantity_cancelled


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([_Line(2)], OrderStatus.PLACED),
        ([_Line(2, shipped=1)], OrderStatus.PARTIALLY_SHIPPED),
        ([_Line(2, shipped=2), _Line(1, cancelled=1)], OrderStatus.SHIPPED),
        ([_Line(2, shipped=2, delivered=1)], OrderStatus.PARTIALLY_DELIVERED),
        ([_Line(2, shipped=2, delivered=2), _Line(3, cancelled=3)], OrderStatus.DELIVERED),
        ([_Line(2, cancelled=2)], OrderStatus.CANCELLED),
    ],
)
def test_status_is_derived_from_the_lines_fulfilment(lines, expected):
    assert derived_status(lines) == expected


def test_cancelling_unshipped_units_releases_the_hold_and_tells_the_customer(agent):
    order = make_order(lines=[(ProductFactory(name="Lamp"), 3, "20.00"), (ProductFactory(), 1, "40.00")])
    lamp = order.lines.get(quantity=3)

    order_lines_cancel(actor=agent, order=order, lines=[(lamp, 2)], reason="changed their mind")

    lamp.refresh_from_db()
    order.refresh_from_db()
    assert lamp.quantity_cancelled == 2
    ledger = ledger_of(order)
    assert ledger.pending == Decimal("60.00") and ledger.hold == Decimal("60.00")
    assert order.status == OrderStatus.PLACED
    message = Notification.objects.get(event="order_lines_cancelled")
    assert message.order_number == order.number and "2 × Lamp" in message.body


def test_cancelling_what_was_paid_at_the_till_refunds_it_pending_the_processor(agent):
    order = make_order(lines=[(ProductFactory(), 2, "25.00")], payments=[{"kind": "capture", "amount": Decimal("50")}])
    order_lines_cancel(actor=agent, order=order, lines=[(order.lines.get(), 1)], reason="faulty")
    refund = order.charges.get(kind=ChargeKind.REFUND)
    assert (refund.amount, refund.status) == (Decimal("-25.00"), ChargeStatus.PENDING)
    ledger = ledger_of(order)
    assert ledger.past + ledger.pending == Decimal("25.00")


def test_cannot_cancel_more_than_is_left_and_nothing_changes(agent):
    order = make_order(lines=[(ProductFactory(), 1, "10.00")])
    with pytest.raises(RuleViolation):
        order_lines_cancel(actor=agent, order=order, lines=[(order.lines.get(), 2)], reason="x")
    assert order.lines.get().quantity_cancelled == 0
    assert order.charges.count() == 1


def test_cancelling_everything_cancels_the_order(agent):
    order = make_order(lines=[(ProductFactory(), 1, "10.00")])
    order_lines_cancel(actor=agent, order=order, lines=[(order.lines.get(), 1)], reason="out of stock")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert ledger_of(order).pending == 0
