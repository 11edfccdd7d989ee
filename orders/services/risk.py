"""Proactive delay warnings: find open orders that will miss their promise before they do, and
tell the customer once, with the new estimate.

A unit is at risk (`order_risk`) when its line still has undelivered units and a promise (the
line's own `promised_date`, else the order's), and:

- NOT_SHIPPED_IN_TIME: some units are not shipped yet and even shipping them today would land
  them after the promise (today + TRANSIT_DAYS of the order's service level);
- CARRIER_LATE: a shipment carrying the line has a carrier estimate (as a date in the customer's
  time zone) after the promise;
- SHIPMENT_TROUBLE: a shipment carrying the line reports an exception or a failed attempt. The
  new estimate is the carrier's, when it is still ahead of today (an earlier one is stale), else
  today + the shipment's transit days.

"Today" is the customer's date, like the promise they were given. An order has one reason and
one estimate: the latest estimate of its findings (the order is complete when its last unit
arrives), with the earliest promise among them as "what we promised" in the message.

The flag stays until the order is fulfilled or cancelled (`order_status_refresh` clears it): it
records that the customer was warned. A later sweep only moves `revised_estimate` (and the
reason that goes with it); the message is sent once per order, ever (its dedupe key).

Which orders, efficiently: first the ids of all open orders, in one query whose `status IN
(open)` condition is the predicate of the partial index `order_open_promise`, so PostgreSQL reads
only the open orders from it, never the history of delivered ones. Then batches of BATCH_SIZE
ids: four reads per batch (orders with their customers, lines, shipments, shipment lines), where
the orders query keeps those with a promise of their own or a line with one (`with_promise`).
That line test is an EXISTS probe per order of the batch on the order lines' foreign-key index;
asked of all open orders at once, PostgreSQL hashes every line with a promise in the table
instead (a sequential scan of all lines ever sold), which is why the filter is per batch. The
findings are computed in Python, without locks. Only the orders whose flag must change are read
again under `select_for_update(skip_locked=True)` (an order another writer holds is left for the
next run), re-checked and written: safe to run twice or concurrently.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from core.choices import TouchpointKind
from core.services.notifications import TIMELINE_CHANNEL, notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from orders.choices import (
    FINAL_SHIPMENT_STATUSES,
    OPEN_ORDER_STATUSES,
    TRANSIT_DAYS,
    TROUBLED_SHIPMENT_STATUSES,
    RiskReason,
)
from orders.models import Order, OrderLine, Shipment

BATCH_SIZE = 200
EVENT = "order_delayed"
# When two findings give the same estimate, the more specific explanation wins.
REASON_WEIGHT = {
    RiskReason.NOT_SHIPPED_IN_TIME: 0,
    RiskReason.CARRIER_LATE: 1,
    RiskReason.SHIPMENT_TROUBLE: 2,
}


@dataclass(frozen=True)
class Risk:
    reason: str
    promised: date
    estimate: date


def _local_date(moment: datetime | None, zone) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _line_findings(order: Order, line: OrderLine, shipments: list[Shipment], today: date, zone) -> list[Risk]:
    promise = line.promised_date or order.promised_date
    if promise is None or line.active_quantity - line.quantity_delivered <= 0:
        return []
    findings = []
    unshipped = line.active_quantity - max(line.quantity_shipped, line.quantity_delivered)
    arrival = today + timedelta(days=TRANSIT_DAYS[order.service_level])
    if unshipped > 0 and arrival > promise:
        findings.append(Risk(RiskReason.NOT_SHIPPED_IN_TIME, promise, arrival))
    for shipment in shipments:
        if shipment.status in FINAL_SHIPMENT_STATUSES:
            continue
        carrier_date = _local_date(shipment.estimated_delivery, zone)
        if shipment.status in TROUBLED_SHIPMENT_STATUSES:
            if carrier_date is None or carrier_date <= today:
                carrier_date = today + timedelta(days=TRANSIT_DAYS[shipment.service_level])
            findings.append(Risk(RiskReason.SHIPMENT_TROUBLE, promise, carrier_date))
        elif carrier_date is not None and carrier_date > promise:
            findings.append(Risk(RiskReason.CARRIER_LATE, promise, carrier_date))
    return findings


def order_risk(order: Order, *, now: datetime) -> Risk | None:
    """Why and until when `order` will be late, or None. Reads `order.customer`, `order.lines`
    and `order.shipments` with their lines: prefetch them (`with_fulfilment`)."""
    zone = zone_or_utc(order.customer.time_zone)
    today = now.astimezone(zone).date()
    shipments_of_line = defaultdict(list)
    for shipment in order.shipments.all():
        for shipment_line in shipment.lines.all():
            shipments_of_line[shipment_line.order_line_id].append(shipment)
    findings = [
        finding
        for line in order.lines.all()
        for finding in _line_findings(order, line, shipments_of_line[line.pk], today, zone)
    ]
    if not findings:
        return None
    worst = max(findings, key=lambda risk: (risk.estimate, REASON_WEIGHT[risk.reason]))
    return Risk(worst.reason, min(risk.promised for risk in findings), worst.estimate)


def with_fulfilment(orders: QuerySet[Order]) -> QuerySet[Order]:
    """What `order_risk` reads, in a fixed number of queries whatever the number of orders."""
    return orders.select_related("customer").prefetch_related(
        "lines", Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines"))
    )


def with_promise(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The orders carrying a promise, their own or a line's (see the module docstring)."""
    line_promise = OrderLine.objects.filter(order=OuterRef("pk"), promised_date__isnull=False)
    return orders.filter(Q(promised_date__isnull=False) | Exists(line_promise))


def _needs_write(order: Order, risk: Risk) -> bool:
    if order.at_risk_since is None:
        return True
    return (order.revised_estimate, order.at_risk_reason) != (risk.estimate, risk.reason)


def _flag(order: Order, risk: Risk, now: datetime) -> bool:
    """Write the flag; tell the customer on first detection. True when newly flagged."""
    if order.at_risk_since is not None:
        order.revised_estimate, order.at_risk_reason = risk.estimate, risk.reason
        order.save(update_fields=["revised_estimate", "at_risk_reason", "updated_at"])
        return False
    order.at_risk_reason, order.at_risk_since, order.revised_estimate = risk.reason, now, risk.estimate
    order.save(update_fields=["at_risk_reason", "at_risk_since", "revised_estimate", "updated_at"])
    customer = order.customer
    touchpoint_record(
        customer=customer,
        kind=TouchpointKind.DELIVERY,
        # The warning reaches the customer on their preferred contact channel; the timeline
        # records it there (e-mail, SMS, or the app for push), as notification_send does.
        channel=TIMELINE_CHANNEL[customer.preferred_channel],
        summary=(
            f"Warned that order {order.number} will be late: promised {risk.promised:%d %b %Y}, "
            f"now expected {risk.estimate:%d %b %Y} ({RiskReason(risk.reason).label.lower()})"
        ),
        order_number=order.number,
        subject=order,
        occurred_at=now,
    )
    notify(
        customer=customer,
        event=EVENT,
        dedupe_key=f"order-delayed:{order.number}",
        context={
            "order": order,
            "promised_date": risk.promised,
            "revised_estimate": risk.estimate,
            "reason": risk.reason,
        },
    )
    return True


def _sweep_batch(ids: list[int], now: datetime) -> int:
    orders = with_fulfilment(with_promise(Order.objects.filter(pk__in=ids, status__in=OPEN_ORDER_STATUSES))).order_by(
        "pk"
    )
    due = [order.pk for order in orders if (risk := order_risk(order, now=now)) and _needs_write(order, risk)]
    if not due:
        return 0
    flagged = 0
    with transaction.atomic():
        locked = Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            pk__in=due, status__in=OPEN_ORDER_STATUSES
        )
        for order in with_fulfilment(locked).order_by("pk"):
            risk = order_risk(order, now=now)  # again, under the lock: it may have shipped meanwhile
            if risk is not None and _needs_write(order, risk):
                flagged += _flag(order, risk, now)
    return flagged


def delay_sweep(*, now: datetime | None = None) -> int:
    """Flag the open orders that will miss their promise and warn their customers once.
    Returns how many orders were newly flagged. Run by the periodic task every 30 minutes."""
    now = now or timezone.now()
    ids = list(Order.objects.filter(status__in=OPEN_ORDER_STATUSES).order_by("pk").values_list("pk", flat=True))
    return sum(_sweep_batch(ids[start : start + BATCH_SIZE], now) for start in range(0, len(ids), BATCH_SIZE))
