"""Reads for alterations: the work queue and one work order, with what their rows show, its
history, and what can be ordered on a purchase."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.timezones import zone_or_utc
from core.workflow import transition_history
from installations.catalogue import covers
from installations.choices import OPEN_ALTERATION_STATUSES, AlterationStatus
from installations.models import Alteration, AlterationKind
from installations.selectors import qualified_associates
from orders.choices import PickupStatus
from orders.models import Order


def alteration_list():
    """Work orders with their kind, item, store, assignee, fee order and pickup (one query)."""
    return Alteration.objects.select_related(
        "kind",
        "customer",
        "location",
        "assigned_to__user",
        "order_line__product",
        "order_line__order",
        "service_order",
        "pickup",
    )


def alteration_kinds():
    """Active kinds with their service product; `skills` prefetched (the catalogue's list)."""
    return AlterationKind.objects.filter(is_active=True).select_related("service_product").prefetch_related("skills")


# --- the pages --------------------------------------------------------------------------------

# The queue's order: work to do first, then work waiting for its customer, then what is closed.
QUEUE_RANK = Case(
    When(status__in=OPEN_ALTERATION_STATUSES, then=Value(0)),
    When(status=AlterationStatus.READY, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def alteration_detail():
    """One work order with everything its page shows, in one query; never its pickup's code."""
    return alteration_list().select_related("requested_by").defer("pickup__code")


def alteration_queue(*, location=None, statuses=None, assigned_to=None, search: str = ""):
    """A workroom's queue: open work first by due date, then what is ready (or, with `statuses`,
    those states), optionally one associate's; `search` is a work order's number or the number of
    its purchase or fee order. One query per page."""
    rows = alteration_detail()
    if location is not None:
        rows = rows.filter(location=location)
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    if assigned_to is not None:
        rows = rows.filter(assigned_to=assigned_to)
    if search:
        rows = rows.filter(Q(number=search) | Q(order_line__order__number=search) | Q(service_order__number=search))
    return rows.annotate(rank=QUEUE_RANK).order_by("rank", "due_on", "id")


@dataclass
class QueueRow:
    """A work order as the queue shows it, with the dates of its store's calendar."""

    alteration: Alteration
    zone: ZoneInfo
    overdue: bool
    pickup_lapsed: bool  # ready, but its pickup expired or was called off: renew the pickup


def pickup_lapsed(alteration: Alteration) -> bool:
    """Ready, but its pickup expired or was called off (a handed-over one is the collection)."""
    return alteration.status == AlterationStatus.READY and (
        alteration.pickup is None or alteration.pickup.status not in (PickupStatus.READY, PickupStatus.COLLECTED)
    )


def queue_rows(alterations, now=None) -> list[QueueRow]:
    now = now or timezone.now()
    rows = []
    for alteration in alterations:
        zone = zone_or_utc(alteration.location.time_zone)
        overdue = alteration.status in OPEN_ALTERATION_STATUSES and alteration.due_on < timezone.localdate(now, zone)
        rows.append(QueueRow(alteration, zone, overdue, pickup_lapsed(alteration)))
    return rows


@dataclass
class Step:
    at: datetime
    who: object
    what: str


STEP_NAMES = {
    "measure": "Measured",
    "start": "Work started",
    "submit": "Submitted for the quality check",
    "rework": "Quality check failed",
    "approve": "Quality check passed: ready for pickup",
    "collect": "Collected",
    "cancel": "Cancelled",
}


def alteration_history(alteration: Alteration) -> list[Step]:
    """What happened, oldest first: the request, each step of the workflow (with its reason or
    note), each change of assignee and each new pickup, and who did it. Two queries."""
    steps = [Step(alteration.created_at, alteration.requested_by, "Requested")]
    for row in transition_history(alteration):
        what = STEP_NAMES.get(row.transition, row.to_state)
        steps.append(Step(row.at, row.actor, f"{what}: {row.reason}" if row.reason else what))
    previous = None
    versions = alteration.history.select_related("history_user", "assigned_to__user").order_by(
        "history_date", "history_id"
    )
    for row in versions:
        if row.assigned_to_id != (previous.assigned_to_id if previous else None):
            what = f"Assigned to {_name(row.assigned_to.user)}" if row.assigned_to else "Unassigned"
            steps.append(Step(row.history_date, row.history_user, what))
        elif previous is not None and previous.pickup_id and row.pickup_id != previous.pickup_id:
            steps.append(Step(row.history_date, row.history_user, "New pickup: a new code and deadline"))
        previous = row
    return sorted(steps, key=lambda step: step.at)


def _name(user) -> str:
    return user.get_full_name() or user.email


@dataclass
class Offer:
    """An alteration kind that can be ordered on a line of a purchase."""

    line: object
    kind: AlterationKind

    @property
    def value(self) -> str:
        return f"{self.line.pk}:{self.kind.pk}"


def order_for_alteration(number: str):
    """The purchase with its customer, lines and products, or None (two queries)."""
    return Order.objects.select_related("customer").prefetch_related("lines__product").filter(number=number).first()


def alteration_offers(order) -> list[Offer]:
    """Each alterable line of `order` still held with each active kind that covers its product (one query)."""
    kinds = list(AlterationKind.objects.filter(is_active=True).order_by("name", "id"))
    return [
        Offer(line, kind)
        for line in order.lines.all()
        if line.product.alterable and line.active_quantity > 0
        for kind in kinds
        if covers(kind, line.product)
    ]


def alteration_tailors(kind: AlterationKind, location):
    """Who can be given the work: associates of the store with every skill the kind needs."""
    return qualified_associates(kind, location).select_related("user").order_by("user__first_name", "pk")
