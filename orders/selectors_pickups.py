"""Reads of pickups for the API: staff lists (never the code), the customer's own pickups, "due
today" in each location's time zone, and what to suggest at the counter when a pickup is handed over.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from core.models import Inventory, Location, Product
from core.timezones import zone_or_utc
from orders.choices import PickupStatus
from orders.models import OrderLine, Pickup, PickupLine

# Columns of the staff list: everything but the code (so it cannot leak by a serializer's mistake)
# and the related rows' long tails (opening hours, customer addresses).
PICKUP_LIST_COLUMNS = (
    "id",
    "number",
    "status",
    "ready_at",
    "expires_at",
    "reminded_at",
    "collected_at",
    "closed_at",
    "order__id",
    "order__number",
    "customer__id",
    "customer__number",
    "customer__given_name",
    "customer__family_name",
    "location__id",
    "location__code",
    "location__name",
    "location__kind",
    "location__time_zone",
    "collected_by__id",
    "collected_by__first_name",
    "collected_by__last_name",
    "collected_by__email",
)


def _item_count():
    units = PickupLine.objects.filter(pickup=OuterRef("pk")).values("pickup").annotate(n=Sum("quantity")).values("n")
    return Subquery(units, output_field=IntegerField())


def _lines():
    return Prefetch("lines", queryset=PickupLine.objects.select_related("order_line__product").order_by("id"))


def pickup_list() -> QuerySet[Pickup]:
    """Pickups as staff lists them: one query per page whatever its size, no code column."""
    return (
        Pickup.objects.select_related("order", "customer", "location", "collected_by")
        .only(*PICKUP_LIST_COLUMNS)
        .annotate(items=_item_count())
    )


def pickup_detail() -> QuerySet[Pickup]:
    """One pickup for staff, with its lines; the code stays out of the row."""
    return pickup_list().prefetch_related(_lines())


def customer_pickup_list() -> QuerySet[Pickup]:
    """Pickups as their customer sees them, with the code, where to collect and what: for the
    customer's app only, which filters them to the signed-in customer (index pickup_customer)."""
    return Pickup.objects.select_related("order", "location").prefetch_related(_lines()).order_by("-ready_at", "-id")


def local_day(now: datetime, zone) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of `now`'s calendar day in `zone`, as aware datetimes (a DST day
    is 23 or 25 hours long, so the end is the next midnight, not start + 24 h)."""
    today = timezone.localtime(now, zone).date()
    return (
        datetime.combine(today, time.min, tzinfo=zone),
        datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone),
    )


def due_today_q(now: datetime | None = None) -> Q:
    """Ready pickups whose deadline falls on today's date where they wait (the location's time zone,
    so "today" at a store in Lisbon and one in Helsinki are different hours). One small query for
    the time zones in use; the filter itself is one condition per zone."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for name in Location.objects.order_by().values_list("time_zone", flat=True).distinct():
        start, end = local_day(now, zone_or_utc(name))
        condition |= Q(location__time_zone=name, expires_at__gte=start, expires_at__lt=end)
    return Q(status=PickupStatus.READY) & condition


# --- Suggestions at hand-over ---------------------------------------------------------------

SERVICE_FLAGS = (("installable", "installation"), ("trainable", "training"), ("alterable", "alteration"))
SERVICE_TITLES = {"installation": "Book installation", "training": "Book training", "alteration": "Book alteration"}
SAME_CATEGORY, BOUGHT_CATEGORY = 0, 1
REASONS = {SAME_CATEGORY: "same_category", BOUGHT_CATEGORY: "category_bought_before"}


@dataclass(frozen=True)
class ProductSuggestion:
    product: Product
    available: int
    reason: str


@dataclass(frozen=True)
class ServiceSuggestion:
    service: str  # installation, training or alteration
    title: str
    product: Product  # the collected product the service is for


@dataclass(frozen=True)
class Suggestions:
    products: list[ProductSuggestion]
    services: list[ServiceSuggestion]


def pickup_suggestions(pickup: Pickup, limit: int = 5) -> Suggestions:
    """What the associate can offer while handing the pickup over: one query, plus one for the
    pickup's lines when they were not prefetched.

    Products: active products in stock at the pickup's location (available = on hand - reserved > 0)
    from the categories of what is being collected or of what the customer bought before, never a
    product the customer has bought already (on any order, cancelled units aside) or is collecting.
    Ranked by relevance first: (0) same category as a collected product, then (1) a category the
    customer bought from before; within each, cheapest first, then name and id so the order is
    stable. At most `limit` products.

    Services: for each collected product that can be installed, trained on or altered (its
    Product flags), booking that service, in the order of the pickup's lines.
    """
    collected = _collected_products(pickup)
    if not collected:
        return Suggestions([], [])
    collected_ids = [p.pk for p in collected]
    collected_categories = sorted({p.category_id for p in collected})
    bought = OrderLine.objects.filter(order__customer_id=pickup.customer_id, quantity__gt=F("quantity_cancelled"))
    rows = (
        Inventory.objects.filter(location_id=pickup.location_id, product__is_active=True)
        .annotate(available_units=F("on_hand") - F("reserved"))
        .filter(available_units__gt=0)
        .filter(
            Q(product__category_id__in=collected_categories)
            | Exists(bought.filter(product__category_id=OuterRef("product__category_id")))
        )
        .exclude(product_id__in=collected_ids)
        .exclude(Exists(bought.filter(product_id=OuterRef("product_id"))))
        .annotate(
            tier=Case(
                When(product__category_id__in=collected_categories, then=Value(SAME_CATEGORY)),
                default=Value(BOUGHT_CATEGORY),
                output_field=IntegerField(),
            )
        )
        .select_related("product__category")
        .order_by("tier", "product__price", "product__name", "product_id")[:limit]
    )
    products = [ProductSuggestion(row.product, row.available_units, REASONS[row.tier]) for row in rows]
    services = [
        ServiceSuggestion(service, f"{SERVICE_TITLES[service]}: {product.name}", product)
        for product in collected
        for flag, service in SERVICE_FLAGS
        if getattr(product, flag)
    ]
    return Suggestions(products, services)


def _collected_products(pickup: Pickup) -> list[Product]:
    """The products being collected, once each, in the order of the pickup's lines: from the
    prefetched lines when the caller loaded them (the detail endpoint), else in one query."""
    cache = getattr(pickup, "_prefetched_objects_cache", {})
    if "lines" in cache:
        lines = cache["lines"]
    else:
        lines = PickupLine.objects.filter(pickup=pickup).select_related("order_line__product").order_by("id")
    products = {}
    for line in lines:
        products.setdefault(line.order_line.product_id, line.order_line.product)
    return list(products.values())
