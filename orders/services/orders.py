"""Creating orders (from the API, POS / e-commerce pushes and file imports) and keeping their
derived status."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation
from core.money import quantize
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from orders.choices import ChargeKind, ChargeStatus, OrderSource, OrderStatus
from orders.models import Charge, Order, OrderLine

# What an order may arrive with: money already taken at the till or online, and holds.
PAYMENT_KINDS = (ChargeKind.AUTHORISATION, ChargeKind.CAPTURE, ChargeKind.VOUCHER_REDEMPTION)


@dataclass(frozen=True)
class UpsertResult:
    order: Order
    created: bool


def line_amount(*, quantity: int, unit_price: Decimal, discount: Decimal, tax: Decimal, currency: str) -> Decimal:
    return quantize(quantity * unit_price - discount + tax, currency)


def check_lines(lines: list[dict], currency: str) -> Decimal:
    if not lines:
        raise RuleViolation("An order needs at least one line.", code="no_lines")
    total = Decimal("0")
    for number, line in enumerate(lines, start=1):
        amount = line_amount(
            quantity=line["quantity"],
            unit_price=line["unit_price"],
            discount=line.get("discount", Decimal("0")),
            tax=line.get("tax", Decimal("0")),
            currency=currency,
        )
        if amount < 0:
            raise RuleViolation(f"Line {number}: the discount is larger than the line.", code="discount_too_large")
        total += amount
    return quantize(total, currency)


def check_payments(payments: list[dict], total: Decimal, currency: str, kinds=PAYMENT_KINDS) -> list[dict]:
    """Payments must cover the total exactly; with none, the whole total waits as a pending charge."""
    if not payments:
        return [{"kind": ChargeKind.AUTHORISATION, "amount": total, "reference": ""}] if total else []
    paid = Decimal("0")
    for payment in payments:
        if payment["kind"] not in kinds:
            raise RuleViolation(f"An order cannot arrive with a {payment['kind']}.", code="payment_kind")
        if payment["amount"] <= 0:
            raise RuleViolation("Payment amounts are positive.", code="payment_amount")
        paid += quantize(payment["amount"], currency)
    if paid != total:
        raise RuleViolation(
            f"Payments add up to {paid} {currency}, the lines to {total} {currency}.",
            code="payments_do_not_reconcile",
            payments=str(paid),
            total=str(total),
        )
    return payments


def opening_charges(*, currency: str, placed_at, payments: list[dict], actor_id, now) -> list[dict]:
    """The ledger entries an order opens with, as field values: money taken is settled, holds pending."""
    rows = []
    for payment in payments:
        settled = payment["kind"] != ChargeKind.AUTHORISATION
        rows.append(
            {
                "kind": payment["kind"],
                "status": ChargeStatus.SETTLED if settled else ChargeStatus.PENDING,
                "amount": quantize(payment["amount"], currency),
                "currency": currency,
                "reference": payment.get("reference", ""),
                "actor_id": actor_id,
                "created_at": placed_at,
                "settled_at": now if settled else None,
            }
        )
    return rows


def order_create(
    *, actor, customer, lines: list[dict], payments: list[dict] = (), payment_kinds=PAYMENT_KINDS, **fields
) -> Order:
    """Record a sale: the order, its lines, its opening ledger entries and the purchase touchpoint.

    `lines`: dicts of product, quantity, unit_price, discount, tax, promised_date.
    `payments`: what was taken or held (authorisation, capture, voucher_redemption) and must add up
    to the total; without them the total is pending. `payment_kinds`: what clients may send; the
    returns app adds the exchange credit that a replacement order opens with."""
    currency = fields.get("currency", "EUR")
    total = check_lines(lines, currency)
    payments = check_payments(list(payments), total, currency, payment_kinds)
    with transaction.atomic():
        order = Order(customer=customer, total=total, **fields)
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError as exc:
            if fields.get("external_id"):
                raise Conflict(
                    f"An order from {fields.get('source')} with id {fields['external_id']} exists already.",
                    code="duplicate_external_id",
                ) from exc
            raise
        OrderLine.objects.bulk_create(OrderLine(order=order, **line) for line in lines)
        opening = opening_charges(
            currency=order.currency,
            placed_at=order.placed_at,
            payments=payments,
            actor_id=getattr(actor, "pk", None),
            now=timezone.now(),
        )
        Charge.objects.bulk_create(Charge(order=order, **values) for values in opening)
        _purchase_touchpoint(order, lines)
    return order


def purchase_summary(*, number: str, total: Decimal, currency: str, items: int) -> str:
    return f"Bought {items} item{'s' if items != 1 else ''} for {total} {currency} ({number})"


def _purchase_touchpoint(order: Order, lines: list[dict]) -> None:
    touchpoint_record(
        customer=order.customer,
        kind=TouchpointKind.PURCHASE,
        channel=order.channel,
        summary=purchase_summary(
            number=order.number,
            total=order.total,
            currency=order.currency,
            items=sum(line["quantity"] for line in lines),
        ),
        associate=order.associate,
        location=order.location,
        product=lines[0]["product"] if len(lines) == 1 else None,
        order_number=order.number,
        subject=order,
        occurred_at=order.placed_at,
    )


# What a later push of the same external order may change: what the selling system owns and our
# fulfilment has not made stale. Lines and money are settled here once the order exists.
UPSERT_MUTABLE = ("promised_date", "service_level", "fulfilment")


def order_upsert(*, actor, source: str, external_id: str, customer, lines, payments=(), **fields) -> UpsertResult:
    """Create the order a selling system pushes, or, when it was pushed before, apply what it may
    still change. Safe to repeat: the same push twice leaves one order."""
    existing = Order.objects.filter(source=source, external_id=external_id).first()
    if existing is None:
        try:
            order = order_create(
                actor=actor,
                customer=customer,
                lines=lines,
                payments=payments,
                source=source,
                external_id=external_id,
                **fields,
            )
            return UpsertResult(order, True)
        except Conflict:  # a concurrent push created it first
            existing = Order.objects.get(source=source, external_id=external_id)
    if existing.customer_id != customer.pk:
        raise Conflict("This external order belongs to another customer.", code="external_id_customer")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=existing.pk)
        changed = [name for name in UPSERT_MUTABLE if name in fields and getattr(order, name) != fields[name]]
        for name in changed:
            setattr(order, name, fields[name])
        if changed:
            order.save(update_fields=[*changed, "updated_at"])
    return UpsertResult(order, False)


def derived_status(lines) -> str:
    """An order's status from its lines: cancelled when nothing is left to fulfil, delivered when
    every remaining unit arrived, then partially delivered / shipped / partially shipped / placed."""
    active = [line for line in lines if line.active_quantity > 0]
    if not active:
        return OrderStatus.CANCELLED
    if all(line.quantity_delivered >= line.active_quantity for line in active):
        return OrderStatus.DELIVERED
    if any(line.quantity_delivered for line in active):
        return OrderStatus.PARTIALLY_DELIVERED
    if all(line.quantity_shipped >= line.active_quantity for line in active):
        return OrderStatus.SHIPPED
    if any(line.quantity_shipped for line in active):
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.PLACED


def order_status_refresh(order: Order) -> Order:
    """Recompute the status after a change to the lines' fulfilment (caller holds the order's lock).
    A fulfilled or cancelled order is no longer at risk."""
    status = derived_status(list(order.lines.all()))
    fields = []
    if status != order.status:
        order.status = status
        fields.append("status")
    if status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED) and order.at_risk_since:
        order.at_risk_since, order.at_risk_reason, order.revised_estimate = None, "", None
        fields += ["at_risk_since", "at_risk_reason", "revised_estimate"]
    if fields:
        order.save(update_fields=[*fields, "updated_at"])
    return order


def check_not_service_order(order: Order) -> None:
    """A service's fee order (an alteration's, say) is changed only by its work order's service:
    cancelling its line or making it ready here would leave the work order without its fee or
    its pickup."""
    if order.source == OrderSource.SERVICE:
        raise RuleViolation(
            f"Order {order.number} is a service's fee; change it through its work order.", code="service_order"
        )


def order_lock(order_id: int) -> Order:
    """The order row, locked: every change to an order's lines or ledger takes this lock first."""
    return Order.objects.select_for_update().get(pk=order_id)


def order_lines_cancel(*, actor, order: Order, lines: list[tuple], reason: str) -> Order:
    """Cancel units that have not shipped (the customer changed their mind, the item is gone):
    `lines` are (order line or its id, quantity). Their value is released from the hold or
    refunded through the ledger, and the customer is told."""
    from orders.services.charges import charges_cancel_units, units_value

    with transaction.atomic():
        order = order_lock(order.pk)
        by_id = {line.pk: line for line in order.lines.select_related("product")}
        value, changed = Decimal("0"), {}
        for ref, quantity in lines:
            line = changed.get(getattr(ref, "pk", ref)) or by_id.get(getattr(ref, "pk", ref))
            if line is None:
                raise RuleViolation(f"Line {getattr(ref, 'pk', ref)} is not on order {order.number}.", code="line")
            open_units = line.active_quantity - line.quantity_shipped
            if not 0 < quantity <= open_units:
                raise RuleViolation(
                    f"{line.product.name}: {open_units} unit(s) can still be cancelled, not {quantity}.",
                    code="quantity",
                )
            before = line.quantity_cancelled
            line.quantity_cancelled += quantity
            value += units_value(line, line.quantity_cancelled, order.currency) - units_value(
                line, before, order.currency
            )
            changed[line.pk] = line
        OrderLine.objects.bulk_update(changed.values(), ["quantity_cancelled"])
        charges_cancel_units(order=order, value=value, actor=actor, note=reason)
        order_status_refresh(order)
        items = ", ".join(f"{qty} × {by_id[getattr(ref, 'pk', ref)].product.name}" for ref, qty in lines)
        touchpoint_record(
            customer=order.customer,
            kind=TouchpointKind.PURCHASE,
            channel=order.channel,
            summary=f"Cancelled {items} ({order.number}); {value} {order.currency} back",
            associate=actor if getattr(actor, "is_staff_member", False) else None,
            order_number=order.number,
            subject=order,
        )
        notify(
            customer=order.customer,
            event="order_lines_cancelled",
            # one message per cancellation: the count of cancelled units tells them apart
            dedupe_key=f"order-lines-cancelled:{order.number}:{sum(x.quantity_cancelled for x in by_id.values())}",
            context={"order": order, "items": items, "amount": value, "reason": reason},
        )
    return order
