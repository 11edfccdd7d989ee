"""What may come back: the return policy applied to a request, with a reason for every refusal.

The terms of a unit come from, in order: a `ReturnRule` for its product, a rule for its category,
then the product's own `returnable` flag and `return_window_days`. The window runs from the day
the line was delivered (the latest parcel, delivery or pickup that brought its units; the sale
itself for goods taken home at the till). The customer's history is the `ReturnPolicy` of the
order's currency: above its return-rate threshold a request waits for a manager.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import RuleViolation
from orders.choices import DeliveryStatus, FulfilmentMethod, PickupStatus
from orders.models import DeliveryLine, Order, OrderLine, PickupLine, ShipmentLine
from orders.services.charges import units_value
from returns.choices import (
    ACTIVE_RETURN_STATUSES,
    RETAILER_FAULT_REASONS,
    ReturnFlag,
    ReturnStatus,
)
from returns.models import ReturnLine, ReturnPolicy, ReturnRule

# Once received, what counts as returned is what arrived, not what was announced.
COUNTED_STATUSES = (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.RESOLVED)


@dataclass(frozen=True)
class Terms:
    returnable: bool
    window_days: int
    note: str = ""


@dataclass
class Assessment:
    """A request that passed the policy: per line its value, and why a person must look at it."""

    values: dict[int, Decimal]
    value: Decimal
    flags: list[str] = field(default_factory=list)
    return_rate: Decimal | None = None


def policy_for(currency: str) -> ReturnPolicy | None:
    return ReturnPolicy.objects.filter(currency=currency).first()


def terms_for(products) -> dict[int, Terms]:
    """The return terms of each product, from its own rule, its category's, or itself."""
    products = list(products)
    rules = ReturnRule.objects.filter(
        Q(product__in=[p.pk for p in products]) | Q(category__in={p.category_id for p in products})
    )
    by_product = {r.product_id: r for r in rules if r.product_id}
    by_category = {r.category_id: r for r in rules if r.category_id}
    terms = {}
    for product in products:
        rule = by_product.get(product.pk) or by_category.get(product.category_id)
        if rule is None:
            terms[product.pk] = Terms(product.returnable, product.return_window_days)
        else:
            terms[product.pk] = Terms(
                product.returnable and not rule.final_sale,
                rule.window_days if rule.window_days is not None else product.return_window_days,
                rule.note,
            )
    return terms


def delivered_on(order: Order, line_ids) -> dict[int, datetime]:
    """When each line's units last arrived: parcels delivered, home deliveries recorded, pickups
    collected. Goods taken home at the till arrived with the sale."""
    line_ids = list(line_ids)
    if order.fulfilment == FulfilmentMethod.CARRY_OUT:
        return dict.fromkeys(line_ids, order.placed_at)
    found: dict[int, datetime] = {}
    sources = (
        ShipmentLine.objects.filter(order_line__in=line_ids, shipment__delivered_at__isnull=False).values_list(
            "order_line", "shipment__delivered_at"
        ),
        DeliveryLine.objects.filter(
            order_line__in=line_ids,
            delivery__status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.PARTIALLY_DELIVERED],
            quantity_received__gt=0,
        ).values_list("order_line", "delivery__recorded_at"),
        PickupLine.objects.filter(order_line__in=line_ids, pickup__status=PickupStatus.COLLECTED).values_list(
            "order_line", "pickup__collected_at"
        ),
    )
    for rows in sources:
        for line_id, at in rows:
            if at is not None and (line_id not in found or at > found[line_id]):
                found[line_id] = at
    return found


def units_delivered(order: Order, line: OrderLine) -> int:
    if order.fulfilment == FulfilmentMethod.CARRY_OUT:
        return line.active_quantity
    return line.quantity_delivered


def units_returned(line_ids, *, exclude_return=None) -> dict[int, int]:
    """Units of each order line already in a return that is not rejected or cancelled: what arrived
    for returns that were received, what was announced for those still on their way."""
    rows = ReturnLine.objects.filter(order_line__in=list(line_ids), return_request__status__in=ACTIVE_RETURN_STATUSES)
    if exclude_return is not None:
        rows = rows.exclude(return_request=exclude_return)
    counted = (
        rows.values("order_line")
        .annotate(
            units=Sum(
                Coalesce("quantity_received", "quantity"),
                filter=Q(return_request__status__in=COUNTED_STATUSES),
                default=0,
            )
            + Sum("quantity", filter=~Q(return_request__status__in=COUNTED_STATUSES), default=0)
        )
        .values_list("order_line", "units")
    )
    return dict(counted)


def units_given_back(line_ids, *, exclude_return=None) -> dict[int, int]:
    """Units of each order line that resolved returns have already given money back for."""
    rows = ReturnLine.objects.filter(order_line__in=list(line_ids), return_request__status=ReturnStatus.RESOLVED)
    if exclude_return is not None:
        rows = rows.exclude(return_request=exclude_return)
    return dict(
        rows.values("order_line").annotate(units=Sum("quantity_received", default=0)).values_list("order_line", "units")
    )


def returned_units_value(line: OrderLine, units: int, *, given_back: int, currency: str) -> Decimal:
    """What `units` more returned units of `line` are worth. Cancelled units took the line's first
    units' value (`orders.services.charges.units_value`), earlier resolved returns the next ones;
    these units come after both, so a line cancelled and returned in parts gives back exactly its
    amount and never a cent more."""
    start = line.quantity_cancelled + given_back
    return units_value(line, start + units, currency) - units_value(line, start, currency)


def return_rate(customer, policy: ReturnPolicy, now=None) -> tuple[Decimal, int]:
    """Percent of the units the customer received in the policy's window that they sent back of
    their own choice (faults of the retailer do not count), and how many units they received."""
    since = (now or timezone.now()) - timedelta(days=policy.return_rate_window_days)
    bought = OrderLine.objects.filter(order__customer=customer, order__placed_at__gte=since).aggregate(
        delivered=Sum("quantity_delivered", default=0),
        carried=Sum("quantity", filter=Q(order__fulfilment=FulfilmentMethod.CARRY_OUT), default=0),
        carried_cancelled=Sum("quantity_cancelled", filter=Q(order__fulfilment=FulfilmentMethod.CARRY_OUT), default=0),
    )
    received = bought["delivered"] + bought["carried"] - bought["carried_cancelled"]
    returned = (
        ReturnLine.objects.filter(
            return_request__customer=customer,
            return_request__created_at__gte=since,
            return_request__status__in=ACTIVE_RETURN_STATUSES,
        )
        .exclude(reason__in=RETAILER_FAULT_REASONS)
        .aggregate(units=Sum(Coalesce("quantity_received", "quantity"), default=0))["units"]
    )
    if not received:
        return Decimal("0"), 0
    return (Decimal(returned) * 100 / received).quantize(Decimal("0.01")), received


def assess(*, order: Order, lines: list[dict], now=None, exclude_return=None) -> Assessment:
    """Hold a request for `lines` ([{"order_line": OrderLine, "quantity": n, ...}]) to the policy.

    Raises RuleViolation listing every refused line with its reason (`refusals`), so the customer
    learns everything that is wrong at once. Returns the values and the review flags otherwise."""
    now = now or timezone.now()
    order_lines = [item["order_line"] for item in lines]
    terms = terms_for(line.product for line in order_lines)
    arrived = delivered_on(order, [line.pk for line in order_lines])
    returned = units_returned([line.pk for line in order_lines], exclude_return=exclude_return)
    given_back = units_given_back([line.pk for line in order_lines], exclude_return=exclude_return)
    refusals, values = [], {}
    for item in lines:
        line, quantity = item["order_line"], item["quantity"]
        product = line.product
        term = terms[product.pk]

        def refuse(code, detail, line=line):
            refusals.append({"order_line": line.pk, "sku": line.product.sku, "code": code, "detail": detail})

        delivered = units_delivered(order, line)
        if not term.returnable:
            refuse("final_sale", f"{product.name} is final sale and cannot be returned. {term.note}".strip())
            continue
        if delivered <= 0 or line.pk not in arrived:
            refuse("not_delivered", f"{product.name} has not been delivered yet; a return starts once it has.")
            continue
        deadline = arrived[line.pk] + timedelta(days=term.window_days)
        if now > deadline:
            refuse(
                "window_closed",
                f"The {term.window_days}-day return window for {product.name} closed on "
                f"{timezone.localtime(deadline, timezone.get_current_timezone()):%d %B %Y}.",
            )
            continue
        left = delivered - returned.get(line.pk, 0)
        if quantity > left:
            refuse(
                "quantity_exceeds_returnable",
                f"{left} of {delivered} delivered {product.name} can still be returned, not {quantity}"
                f" ({returned.get(line.pk, 0)} already returned or on their way back).",
            )
            continue
        values[line.pk] = returned_units_value(
            line, quantity, given_back=given_back.get(line.pk, 0), currency=order.currency
        )
    if refusals:
        raise RuleViolation(
            "This return cannot be accepted: " + " ".join(r["detail"] for r in refusals),
            code="return_refused",
            refusals=refusals,
        )
    assessment = Assessment(values=values, value=sum(values.values(), Decimal("0")))
    policy = policy_for(order.currency)
    if policy is None:
        assessment.flags.append(ReturnFlag.NO_POLICY)
        return assessment
    if assessment.value > policy.auto_approve_limit:
        assessment.flags.append(ReturnFlag.ABOVE_AUTO_APPROVAL_LIMIT)
    rate, received = return_rate(order.customer, policy, now)
    assessment.return_rate = rate
    if received >= policy.return_rate_min_units and rate > policy.return_rate_threshold:
        assessment.flags.append(ReturnFlag.HIGH_RETURN_RATE)
    return assessment
