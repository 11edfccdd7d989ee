"""The charges ledger's invariant: past + pending charges always reconcile with the order's total,
through partial shipments, cancellations, refunds, vouchers and credits; no hold goes negative."""

import random
from decimal import Decimal

import pytest
from django.db import transaction

from core.errors import Conflict, RuleViolation
from orders.choices import ChargeKind, ChargeStatus
from orders.services.charges import (
    charge_settle,
    charges_free_shipping,
    charges_goodwill,
    charges_pay_by_voucher,
    charges_unpay_voucher,
    ledger_of,
    units_value,
)
from orders.services.orders import order_lines_cancel
from orders.services.shipments import shipment_create
from tests.factories import AssociateProfileFactory, CarrierFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


def _reconciles(order) -> None:
    """past + pending == total - value of cancelled units - credits, with the cancelled value taken
    from the lines (not the ledger), and nothing held or paid below zero."""
    order.refresh_from_db()
    ledger = ledger_of(order)
    cancelled = sum(
        (units_value(line, line.quantity_cancelled, order.currency) for line in order.lines.all()), Decimal("0")
    )
    assert ledger.past + ledger.pending == order.total - cancelled - ledger.credits
    assert ledger.hold >= 0 and ledger.paid >= 0


@pytest.fixture
def manager_with_limit():
    return AssociateProfileFactory(user__roles=["manager"], approval_limit=Decimal("100.00")).user


def test_the_sofa_set_through_partial_shipments_a_cancellation_a_voucher_and_credits(manager_with_limit):
    carrier = CarrierFactory()
    sofa, lamp = ProductFactory(name="Sofa module"), ProductFactory(name="Lamp")
    order = make_order(
        lines=[(sofa, 3, "299.00"), (lamp, 1, "49.00")],
        payments=[
            {"kind": "voucher_redemption", "amount": Decimal("50.00"), "reference": "V-42"},
            {"kind": "authorisation", "amount": Decimal("896.00"), "reference": "psp-1"},
        ],
    )
    sofa_line, lamp_line = order.lines.get(product=sofa), order.lines.get(product=lamp)
    _reconciles(order)

    shipment_create(actor=None, order=order, carrier=carrier, tracking_number="T1", lines=[(sofa_line, 2)])
    assert ledger_of(order).past == Decimal("648.00")  # voucher 50 + two modules 598
    _reconciles(order)

    order_lines_cancel(actor=manager_with_limit, order=order, lines=[(lamp_line, 1)], reason="out of stock")
    assert ledger_of(order).hold == Decimal("249.00")
    _reconciles(order)

    shipment_create(actor=None, order=order, carrier=carrier, tracking_number="T2", lines=[(sofa_line, 1)])
    ledger = ledger_of(order)
    assert (ledger.hold, ledger.past, ledger.pending) == (Decimal("0"), Decimal("897.00"), Decimal("0"))
    _reconciles(order)

    credit = charges_goodwill(order=order, amount=Decimal("30"), actor=manager_with_limit, note="missing piece")
    charges_free_shipping(order=order, actor=manager_with_limit, note="sorry")
    _reconciles(order)
    charge_settle(charge=credit, actor=manager_with_limit)
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending, ledger.credits) == (Decimal("867.00"), Decimal("-4.95"), Decimal("34.95"))
    _reconciles(order)


def test_a_capture_never_takes_more_than_is_held():
    order = make_order(
        lines=[(ProductFactory(), 2, "100.00")],
        payments=[
            {"kind": "voucher_redemption", "amount": Decimal("150.00")},
            {"kind": "authorisation", "amount": Decimal("50.00")},
        ],
    )
    shipment_create(
        actor=None, order=order, carrier=CarrierFactory(), tracking_number="T", lines=[(order.lines.get(), 1)]
    )
    captures = order.charges.filter(kind=ChargeKind.CAPTURE)
    assert [c.amount for c in captures] == [Decimal("50.00")]
    assert ledger_of(order).hold == 0
    _reconciles(order)


def test_a_voucher_pays_part_of_the_hold_and_its_reversal_gives_the_hold_back():
    order = make_order(lines=[(ProductFactory(), 2, "100.00")])  # all 200.00 held on the card
    reference = "voucher-transaction:1"

    charges_pay_by_voucher(order=order, amount=Decimal("60.00"), reference=reference)
    ledger = ledger_of(order)
    assert (ledger.hold, ledger.paid, ledger.past) == (Decimal("140.00"), Decimal("60.00"), Decimal("60.00"))
    _reconciles(order)

    shipment_create(
        actor=None, order=order, carrier=CarrierFactory(), tracking_number="T", lines=[(order.lines.get(), 1)]
    )
    assert ledger_of(order).hold == Decimal("40.00")
    with pytest.raises(RuleViolation) as refused:
        charges_pay_by_voucher(order=order, amount=Decimal("40.01"), reference="voucher-transaction:2")
    assert refused.value.code == "voucher_exceeds_hold"
    _reconciles(order)

    charges_unpay_voucher(order=order, amount=Decimal("60.00"), reference=reference)
    ledger = ledger_of(order)
    assert (ledger.hold, ledger.paid) == (Decimal("100.00"), Decimal("100.00"))
    _reconciles(order)
    with pytest.raises(RuleViolation) as twice:
        charges_unpay_voucher(order=order, amount=Decimal("60.00"), reference=reference)
    assert twice.value.code == "voucher_payment_not_found"
    _reconciles(order)


def test_a_credit_cannot_exceed_what_the_order_is_still_worth(manager_with_limit):
    order = make_order(lines=[(ProductFactory(), 1, "20.00")], payments=[{"kind": "capture", "amount": Decimal("20")}])
    with pytest.raises(RuleViolation):
        charges_goodwill(order=order, amount=Decimal("20.01"), actor=manager_with_limit, note="too much")
    assert not order.charges.filter(kind=ChargeKind.GOODWILL_CREDIT).exists()


def test_a_credit_above_the_actors_approval_limit_is_refused():
    clerk = AssociateProfileFactory(user__roles=["associate"], approval_limit=Decimal("10.00")).user
    order = make_order()
    with pytest.raises(RuleViolation) as error:
        charges_goodwill(order=order, amount=Decimal("10.01"), actor=clerk, note="sorry")
    assert error.value.code == "above_approval_limit"
    assert charges_goodwill(order=order, amount=Decimal("10.00"), actor=clerk, note="sorry").status == (
        ChargeStatus.PENDING
    )


@pytest.mark.parametrize("seed", range(12))
def test_any_sequence_of_shipments_and_cancellations_reconciles(seed):
    """Random orders (odd prices, discounts, vouchers) shipped and cancelled in random steps."""
    rng = random.Random(seed)
    carrier = CarrierFactory()
    lines = [
        {
            "product": ProductFactory(),
            "quantity": rng.randint(1, 5),
            "unit_price": Decimal(rng.randint(100, 99_999)) / 100,
            "discount": Decimal(rng.randint(0, 99)) / 100,
            "tax": Decimal(rng.randint(0, 999)) / 100,
        }
        for _ in range(rng.randint(1, 4))
    ]
    total = sum(
        (line["quantity"] * line["unit_price"] - line["discount"] + line["tax"] for line in lines), Decimal("0")
    )
    voucher = (total * Decimal(rng.choice((0, 10, 50, 90))) / 100).quantize(Decimal("0.01"))
    payments = [{"kind": "voucher_redemption", "amount": voucher}] if voucher else []
    payments.append({"kind": "authorisation", "amount": total - voucher})
    order = make_order(lines=lines, payments=payments)
    for step in range(20):
        open_lines = [
            line for line in order.lines.all() if line.quantity - line.quantity_cancelled - line.quantity_shipped > 0
        ]
        if not open_lines:
            break
        line = rng.choice(open_lines)
        quantity = rng.randint(1, line.quantity - line.quantity_cancelled - line.quantity_shipped)
        if rng.random() < 0.7:
            shipment_create(
                actor=None, order=order, carrier=carrier, tracking_number=f"S{seed}-{step}", lines=[(line, quantity)]
            )
        else:
            order_lines_cancel(actor=None, order=order, lines=[(line, quantity)], reason="random")
        _reconciles(order)
    if all(line.quantity_shipped + line.quantity_cancelled == line.quantity for line in order.lines.all()):
        assert ledger_of(order).hold == 0  # nothing left to ship: nothing may stay held


def test_a_voucher_payment_is_not_reversed_once_everything_shipped_and_was_charged():
    from orders.services.charges import charges_pay_by_voucher, charges_unpay_voucher
    from orders.services.orders import order_lock

    order = make_order(lines=[(ProductFactory(), 1, "100.00")])
    with transaction.atomic():
        charges_pay_by_voucher(order=order_lock(order.pk), amount=Decimal("40.00"), reference="voucher-transaction:1")
    shipment_create(
        actor=None, order=order, carrier=CarrierFactory(), tracking_number="T-1", lines=[(order.lines.get(), 1)]
    )

    with pytest.raises(Conflict, match="has shipped and been charged"), transaction.atomic():
        charges_unpay_voucher(order=order_lock(order.pk), amount=Decimal("40.00"), reference="voucher-transaction:1")
    _reconciles(order)
    assert ledger_of(order).hold == 0
