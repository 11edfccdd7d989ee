"""Reads of deliveries and their exceptions, with the joins the API and pages need (a fixed
number of queries per list, whatever its length)."""

from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from core.choices import Role
from core.timezones import zone_or_utc
from orders.choices import ChargeKind, ExceptionStatus, Remedy
from orders.models import Charge, Delivery, DeliveryException, DeliveryLine

QUEUE_STATUSES = (ExceptionStatus.OPEN, ExceptionStatus.ESCALATED)


def _lines() -> Prefetch:
    return Prefetch("lines", queryset=DeliveryLine.objects.select_related("order_line__product").order_by("id"))


def delivery_list() -> QuerySet[Delivery]:
    """Deliveries with their order, customer and lines (products included)."""
    return Delivery.objects.select_related("order", "customer").prefetch_related(_lines())


def deliveries_of_customer(customer) -> QuerySet[Delivery]:
    """One customer's deliveries, newest window first (index delivery_customer)."""
    return delivery_list().filter(customer=customer).order_by("-window_start", "-id")


def day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The day from midnight to midnight in a time zone (23 or 25 hours on DST changes)."""
    zone = zone_or_utc(zone_name)
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


def deliveries_on_day(day: date, *, location=None, customer=None) -> QuerySet[Delivery]:
    """Deliveries whose window opens on `day`: of orders sold at `location` (the day in its time
    zone), or of one customer (the day in theirs), earliest first."""
    zone = location.time_zone if location is not None else customer.time_zone if customer is not None else "UTC"
    start, end = day_bounds(day, zone)
    rows = delivery_list().filter(window_start__gte=start, window_start__lt=end)
    if location is not None:
        rows = rows.filter(order__location=location)
    if customer is not None:
        rows = rows.filter(customer=customer)
    return rows.order_by("window_start", "id")


def exception_list() -> QuerySet[DeliveryException]:
    """Exceptions with their delivery (and its lines), order and customer, and whether the
    order's free shipping was given already (a remedy that can be used once per order)."""
    given = Charge.objects.filter(order=OuterRef("order_id"), kind=ChargeKind.FREE_SHIPPING)
    return (
        DeliveryException.objects.select_related("delivery", "order", "customer")
        .prefetch_related(
            Prefetch("delivery__lines", queryset=DeliveryLine.objects.select_related("order_line__product"))
        )
        .annotate(free_shipping_given=Exists(given))
    )


def exception_queue() -> QuerySet[DeliveryException]:
    """What is waiting for someone: open and escalated exceptions, oldest first."""
    return exception_list().filter(status__in=QUEUE_STATUSES).order_by("opened_at", "id")


def may_give_goodwill(actor, currency: str) -> bool:
    """Admins, and staff with an approval limit above zero in the order's currency."""
    if actor.has_role(Role.ADMIN):
        return True
    profile = getattr(actor, "associate", None)
    return profile is not None and profile.approval_limit > 0 and profile.approval_currency == currency


def remedies_at_hand(exception: DeliveryException, actor) -> list[str]:
    """The remedies `actor` may use on this exception now (none once it is resolved)."""
    if exception.status == ExceptionStatus.RESOLVED:
        return []
    remedies = [Remedy.SHIP_REST.value]
    if may_give_goodwill(actor, exception.order.currency):
        remedies.append(Remedy.GOODWILL_CREDIT.value)
    given = getattr(exception, "free_shipping_given", None)
    if given is None:
        given = Charge.objects.filter(order_id=exception.order_id, kind=ChargeKind.FREE_SHIPPING).exists()
    if not given:
        remedies.append(Remedy.FREE_SHIPPING.value)
    return remedies
