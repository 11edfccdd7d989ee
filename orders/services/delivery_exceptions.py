"""What an associate can do about a delivery that went wrong: ship the rest with a new estimate,
apologise with a goodwill credit or free shipping on the next order, or escalate.

Each remedy runs in one transaction under the order's lock (then the exception's, through
`transition_apply`): the ledger row, the new promise and the resolution commit together or not at
all, and a second remedy on the same exception is a 409.
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.choices import Channel, Role, TouchpointKind
from core.errors import RuleViolation
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from core.workflow import transition_apply
from orders.choices import Remedy
from orders.models import DeliveryException, OrderLine
from orders.services.charges import charges_free_shipping, charges_goodwill
from orders.services.orders import order_lock

NOTE_MAX = DeliveryException._meta.get_field("resolution_note").max_length


def affected_line_ids(exception: DeliveryException) -> list[int]:
    """The order lines the exception is about (from its details)."""
    return [item["order_line"] for item in exception.details]


def _require_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise RuleViolation("Add a note: the next person to read this exception needs it.", code="note_required")
    return note


def _resolve(exception: DeliveryException, *, actor, remedy: str, note: str) -> DeliveryException:
    return transition_apply(
        exception,
        "resolve",
        actor=actor,
        reason=note,
        extra_fields=("remedy", "resolution_note", "resolved_at"),
        remedy=remedy,
        note=note[:NOTE_MAX],
        at=timezone.now(),
    )


def _tell(exception: DeliveryException, actor, summary: str, context: dict) -> None:
    """The timeline row and the customer's message for a remedy."""
    exception = DeliveryException.objects.select_related("customer", "order__location", "delivery").get(pk=exception.pk)
    is_staff = actor is not None and actor.has_role(*Role.values)
    touchpoint_record(
        customer=exception.customer,
        kind=TouchpointKind.DELIVERY,
        channel=Channel.PHONE if actor is not None and actor.has_role(Role.CUSTOMER_SERVICE) else Channel.STORE,
        summary=summary,
        associate=actor if is_staff else None,
        location=exception.order.location,
        order_number=exception.order.number,
        subject=exception,
    )
    notify(
        customer=exception.customer,
        event="delivery_remedy",
        dedupe_key=f"delivery-remedy:{exception.pk}",
        context={"exception": exception, "delivery": exception.delivery, "order": exception.order, **context},
    )


def exception_ship_rest(*, actor, exception: DeliveryException, new_estimate: date) -> DeliveryException:
    """The units that did not arrive ship again: their lines (and the order) get a new estimate,
    which the customer is told. The estimate is a day in the customer's calendar, today or later."""
    today = timezone.localdate(timezone.now(), zone_or_utc(exception.customer.time_zone))
    if new_estimate < today:
        raise RuleViolation(f"The new estimate must be today ({today}) or later.", code="estimate_in_past")
    with transaction.atomic():
        order = order_lock(exception.order_id)
        resolved = _resolve(
            exception, actor=actor, remedy=Remedy.SHIP_REST, note=f"Shipping the rest; new estimate {new_estimate}"
        )
        OrderLine.objects.filter(order=order, pk__in=affected_line_ids(resolved)).update(promised_date=new_estimate)
        order.revised_estimate = new_estimate
        order.save(update_fields=["revised_estimate", "updated_at"])
        _tell(
            resolved,
            actor,
            f"Delivery problem on {order.number}: the rest ships again, expected {new_estimate:%d %B %Y}",
            {"remedy": Remedy.SHIP_REST, "new_estimate": new_estimate},
        )
    return resolved


def exception_goodwill(*, actor, exception: DeliveryException, amount: Decimal, note: str) -> DeliveryException:
    """A goodwill credit, within the actor's approval limit (checked by `charges_goodwill`)."""
    note = _require_note(note)
    with transaction.atomic():
        order = order_lock(exception.order_id)
        resolved = _resolve(exception, actor=actor, remedy=Remedy.GOODWILL_CREDIT, note=note)
        charge = charges_goodwill(order=order, amount=amount, actor=actor, note=note)
        _tell(
            resolved,
            actor,
            f"Delivery problem on {order.number}: goodwill credit of {-charge.amount} {charge.currency}",
            {"remedy": Remedy.GOODWILL_CREDIT, "amount": -charge.amount, "currency": charge.currency},
        )
    return resolved


def exception_free_shipping(*, actor, exception: DeliveryException, note: str) -> DeliveryException:
    """Free shipping on the customer's next order (once per order, see `charges_free_shipping`)."""
    note = _require_note(note)
    with transaction.atomic():
        order = order_lock(exception.order_id)
        resolved = _resolve(exception, actor=actor, remedy=Remedy.FREE_SHIPPING, note=note)
        charges_free_shipping(order=order, actor=actor, note=note)
        _tell(
            resolved,
            actor,
            f"Delivery problem on {order.number}: free shipping on the next order",
            {"remedy": Remedy.FREE_SHIPPING},
        )
    return resolved


def exception_escalate(*, actor, exception: DeliveryException, note: str) -> DeliveryException:
    """Hand the exception to someone who can do more (a manager); the note says why. Internal:
    no message to the customer, who was told when the exception opened that someone is on it."""
    note = _require_note(note)
    with transaction.atomic():
        order_lock(exception.order_id)
        return transition_apply(exception, "escalate", actor=actor, reason=note)
