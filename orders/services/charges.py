"""The charges ledger: every movement of an order's money is an appended row.

Amounts are signed from the customer's side (see `ChargeKind`). "Past charges" are the settled
rows, "pending charges" the pending ones, both plain sums. Every service here keeps one identity,
checked by the tests through shipments, cancellations, refunds, vouchers and credits:

    past + pending == total - value of cancelled units - goodwill and free-shipping credits
                            - value given back for returned units (refund, store credit, exchange)

Captures take from the authorisation hold (+x settled, -x pending); cancelled units release the
hold first and refund settled money for the rest. All of it runs under the order's row lock, so
no two writers spend the same hold or refund the same payment twice.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.choices import Role
from core.errors import Conflict, RuleViolation
from core.money import quantize
from orders.choices import ChargeKind, ChargeStatus
from orders.models import Charge, Order, OrderLine

CREDIT_KINDS = (ChargeKind.GOODWILL_CREDIT, ChargeKind.FREE_SHIPPING)
# money taken, net of what went back (refunds, store credit, value carried to an exchange)
PAID_KINDS = (
    ChargeKind.CAPTURE,
    ChargeKind.VOUCHER_REDEMPTION,
    ChargeKind.REFUND,
    ChargeKind.STORE_CREDIT,
    ChargeKind.EXCHANGE,
)
ZERO = Decimal("0")


@dataclass(frozen=True)
class Ledger:
    past: Decimal
    pending: Decimal
    hold: Decimal  # what is still authorised and not yet captured or released
    paid: Decimal  # settled money taken (captures, vouchers) net of settled and pending refunds
    credits: Decimal  # goodwill and free-shipping credits given (as a positive figure)


def ledger_from_rows(rows) -> Ledger:
    """The ledger's figures from its rows (an order has a handful; the order detail has them
    prefetched). The one place the sums are defined."""
    past = pending = hold = paid = credits = ZERO
    for row in rows:
        if row.status == ChargeStatus.SETTLED:
            past += row.amount
        else:
            pending += row.amount
        if row.kind == ChargeKind.AUTHORISATION:
            hold += row.amount
        elif row.kind in PAID_KINDS:
            paid += row.amount
        elif row.kind in CREDIT_KINDS:
            credits -= row.amount
    return Ledger(past, pending, hold, paid, credits)


def ledger_of(order: Order) -> Ledger:
    return ledger_from_rows(Charge.objects.filter(order=order).only("kind", "status", "amount"))


def units_value(line: OrderLine, units: int, currency: str) -> Decimal:
    """The value of the first `units` units of a line. Taking differences of this (value(after) -
    value(before)) means partial shipments or cancellations of a line add up to exactly its amount."""
    return quantize(line.amount * units / line.quantity, currency)


def _append(order: Order, kind: str, amount: Decimal, *, settled: bool, actor=None, **fields) -> Charge:
    now = timezone.now()
    return Charge.objects.create(
        order=order,
        kind=kind,
        status=ChargeStatus.SETTLED if settled else ChargeStatus.PENDING,
        amount=amount,
        currency=order.currency,
        actor=actor,
        created_at=now,
        settled_at=now if settled else None,
        **fields,
    )


def charges_capture(*, order: Order, value: Decimal, shipment=None, actor=None, final: bool = False) -> Charge | None:
    """Take payment for goods that shipped: `value` of the hold, or all of it when `final` (nothing
    is left to ship). Caller holds the order's lock. Returns the capture, or None when nothing is held
    (paid at the till, or by voucher)."""
    hold = ledger_of(order).hold
    amount = hold if final else min(value, hold)
    if amount <= 0:
        return None
    _append(order, ChargeKind.AUTHORISATION, -amount, settled=False, shipment=shipment, actor=actor, note="captured")
    return _append(order, ChargeKind.CAPTURE, amount, settled=True, shipment=shipment, actor=actor)


def charges_cancel_units(*, order: Order, value: Decimal, actor=None, note: str = "") -> list[Charge]:
    """Units will not be delivered (cancelled, missing, refused): release `value` from the hold and
    refund whatever part of it was already paid. Caller holds the order's lock."""
    if value <= 0:
        return []
    ledger = ledger_of(order)
    released = min(value, ledger.hold)
    refund = value - released
    if refund > ledger.paid:
        raise RuleViolation(
            f"Cannot give back {refund} {order.currency}: {ledger.paid} {order.currency} was paid.",
            code="refund_exceeds_paid",
        )
    rows = []
    if released:
        rows.append(_append(order, ChargeKind.AUTHORISATION, -released, settled=False, actor=actor, note="released"))
    if refund:
        rows.append(_append(order, ChargeKind.REFUND, -refund, settled=False, actor=actor, note=note[:300]))
    return rows


def charges_pay_by_voucher(*, order: Order, amount: Decimal, reference: str, actor=None) -> Charge:
    """A credit voucher pays `amount` of the order: that much of the pending hold is released and
    a settled voucher redemption takes its place, so what the customer owes is unchanged and the
    card is charged less. Refused when less than `amount` is held. Caller holds the order's lock
    (the voucher's service locks the voucher first)."""
    hold = ledger_of(order).hold
    if amount <= 0:
        raise RuleViolation("A voucher pays a positive amount.", code="amount")
    if amount > hold:
        raise RuleViolation(
            f"Order {order.number} has {hold} {order.currency} left to pay; a voucher cannot pay {amount}.",
            code="voucher_exceeds_hold",
            held=str(hold),
        )
    _append(order, ChargeKind.AUTHORISATION, -amount, settled=False, actor=actor, note="paid by voucher")
    return _append(order, ChargeKind.VOUCHER_REDEMPTION, amount, settled=True, actor=actor, reference=reference)


def charges_unpay_voucher(*, order: Order, amount: Decimal, reference: str, actor=None, note: str = "") -> Charge:
    """Undo `charges_pay_by_voucher` (the voucher redemption was reversed): the redemption is
    taken back and the hold restored, so the order is owed by its card again. Refused when the
    order's payments were refunded meanwhile (giving the voucher its money back too would pay the
    customer twice), and when everything has shipped (no capture would ever take the restored
    hold). Caller holds the order's lock."""
    paid_by_voucher = sum(
        order.charges.filter(kind=ChargeKind.VOUCHER_REDEMPTION, reference=reference).values_list("amount", flat=True),
        ZERO,
    )
    if paid_by_voucher < amount:
        raise RuleViolation(
            f"Order {order.number} holds {paid_by_voucher} {order.currency} from this voucher payment.",
            code="voucher_payment_not_found",
        )
    if ledger_of(order).paid < amount:
        raise RuleViolation(
            f"Order {order.number}'s payments were refunded already; the voucher payment cannot be reversed.",
            code="refund_exceeds_paid",
        )
    if all(line.quantity_shipped >= line.active_quantity for line in order.lines.all()):
        # the hold would be restored on an order with nothing left to capture: a debt nobody collects
        raise Conflict(
            f"Everything on order {order.number} has shipped and been charged; the voucher payment stands.",
            code="order_fully_captured",
        )
    note = (note or "voucher redemption reversed")[:300]
    row = _append(
        order, ChargeKind.VOUCHER_REDEMPTION, -amount, settled=True, actor=actor, reference=reference, note=note
    )
    _append(order, ChargeKind.AUTHORISATION, amount, settled=False, actor=actor, note="voucher redemption reversed")
    return row


def check_approval_limit(actor, amount: Decimal, currency: str) -> None:
    """Money decisions above the actor's approval limit need someone with a higher one (admins: none)."""
    if actor.has_role(Role.ADMIN):
        return
    profile = getattr(actor, "associate", None)
    if profile is None or profile.approval_currency != currency or amount > profile.approval_limit:
        limit = f"{profile.approval_limit} {profile.approval_currency}" if profile else "none"
        raise RuleViolation(
            f"{amount} {currency} is above your approval limit ({limit}); ask a manager.",
            code="above_approval_limit",
        )


def charges_goodwill(*, order: Order, amount: Decimal, actor, note: str) -> Charge:
    """An apology in money, up to the actor's approval limit and never more than the order is worth
    after earlier credits. Pending until the payment processor confirms it (`charge_settle`)."""
    amount = quantize(amount, order.currency)
    if amount <= 0:
        raise RuleViolation("A goodwill credit is a positive amount.", code="amount")
    check_approval_limit(actor, amount, order.currency)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        ledger = ledger_of(order)
        if ledger.past + ledger.pending - amount < 0:
            raise RuleViolation(
                f"The order's remaining value is {ledger.past + ledger.pending} {order.currency}.",
                code="credit_exceeds_order",
            )
        return _append(order, ChargeKind.GOODWILL_CREDIT, -amount, settled=False, actor=actor, note=note[:300])


RETURN_KINDS = {
    # refunds wait for the payment processor; store credit and exchange value move at once
    ChargeKind.REFUND: False,
    ChargeKind.STORE_CREDIT: True,
    ChargeKind.EXCHANGE: True,
}


def charges_return(*, order: Order, kind: str, amount: Decimal, actor, note: str) -> Charge:
    """Money going back for returned goods: a refund to the original payment, store credit (the
    voucher holds it) or value carried to an exchange's replacement order. Never more than was
    paid for the order net of what went back before. Caller holds the order's lock."""
    if kind not in RETURN_KINDS:
        raise ValueError(f"{kind} is not a way money goes back for a return")
    amount = quantize(amount, order.currency)
    if amount <= 0:
        raise RuleViolation("Money given back for a return is a positive amount.", code="amount")
    paid = ledger_of(order).paid
    if amount > paid:
        raise RuleViolation(
            f"Cannot give back {amount} {order.currency}: {paid} {order.currency} was paid and not yet given back.",
            code="refund_exceeds_paid",
        )
    return _append(order, kind, -amount, settled=RETURN_KINDS[kind], actor=actor, note=note[:300])


def voucher_share_left(order: Order) -> Decimal:
    """What credit vouchers paid for the order and no return has given back as store credit yet.
    Returns give this share back first, as store credit: voucher money never leaves as cash."""
    rows = Charge.objects.filter(order=order, kind__in=[ChargeKind.VOUCHER_REDEMPTION, ChargeKind.STORE_CREDIT])
    return max(sum(rows.values_list("amount", flat=True), ZERO), ZERO)


def charges_free_shipping(*, order: Order, actor, note: str) -> Charge:
    """Free shipping on the customer's next order, owed until then: one per order."""
    fee = quantize(settings.ORDERS_SHIPPING_FEE, order.currency)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.charges.filter(kind=ChargeKind.FREE_SHIPPING).exists():
            raise Conflict("Free shipping was already offered on this order.", code="free_shipping_given")
        return _append(order, ChargeKind.FREE_SHIPPING, -fee, settled=False, actor=actor, note=note[:300])


def charge_settle(*, charge: Charge, actor, reference: str = "") -> Charge:
    """The processor confirmed a pending refund or credit. Holds are not settled: captures consume them."""
    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=charge.pk)
        if charge.kind == ChargeKind.AUTHORISATION:
            raise Conflict("An authorisation is settled by capturing it.", code="settle_authorisation")
        if charge.status == ChargeStatus.SETTLED:
            raise Conflict("This charge is settled already.", code="already_settled")
        charge.status, charge.settled_at = ChargeStatus.SETTLED, timezone.now()
        charge.reference = reference or charge.reference
        charge.save(update_fields=["status", "settled_at", "reference"])
        return charge
