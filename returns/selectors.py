"""Reads of the returns app: lists and details with what they show, and the managers' analytics."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery, Sum

from orders.models import OrderLine
from returns.choices import ACTIVE_RETURN_STATUSES, RETAILER_FAULT_REASONS, Disposition, Resolution, ReturnStatus
from returns.models import InspectedItem, ReturnLine, ReturnRequest

SERIAL_RETURNER_MIN = 3
TOP = 20


def return_list():
    return ReturnRequest.objects.select_related("order", "customer", "drop_off_location")


def return_list_with_units():
    """The list with the units announced per return, summed per row (not by grouping the whole
    list, which would aggregate every return before the page is cut)."""
    lines = ReturnLine.objects.filter(return_request=OuterRef("pk")).values("return_request")
    units = lines.annotate(n=Sum("quantity"))
    return return_list().annotate(units=Subquery(units.values("n")))


def return_detail():
    lines = ReturnLine.objects.select_related("order_line__product", "exchange_product").prefetch_related(
        Prefetch("inspections", queryset=InspectedItem.objects.order_by("id"))
    )
    return ReturnRequest.objects.select_related(
        "order", "customer", "drop_off_location", "received_location", "exchange_order"
    ).prefetch_related(Prefetch("lines", queryset=lines))


@dataclass(frozen=True)
class Analytics:
    returns: int
    units_sold: int
    units_returned: int
    return_rate: Decimal
    value_refunded: Decimal
    value_credited: Decimal
    value_exchanged: Decimal
    value_recovered: Decimal
    units_inspected: int
    units_kept_from_landfill: int
    landfill_diversion: Decimal
    by_product: list[dict]
    by_reason: list[dict]
    serial_returners: list[dict]


def _percent(part, whole) -> Decimal:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01")) if whole else Decimal("0.00")


def _given_back(resolved) -> dict:
    """What resolved returns gave back, by what the customer chose: money to their payment, store
    credit (the returned value; a voucher's bonus is the retailer's gift), value carried to an
    exchange."""
    total = Decimal("0")
    sums = resolved.aggregate(
        refunded=Sum("refunded_amount", filter=Q(resolution=Resolution.REFUND), default=total),
        credited=Sum("refunded_amount", filter=Q(resolution=Resolution.STORE_CREDIT), default=total),
        exchanged=Sum("refunded_amount", filter=Q(resolution=Resolution.EXCHANGE), default=total),
    )
    return {
        "value_refunded": sums["refunded"],
        "value_credited": sums["credited"],
        "value_exchanged": sums["exchanged"],
    }


def returns_analytics(*, since, until, location=None, currency: str = "EUR") -> Analytics:
    """The period [since, until): units sold by orders placed in it (at `location` when given),
    returns requested in it (received at `location`), money refunded by returns resolved in it
    and value recovered and landfill avoided by units inspected in it. A fixed number of aggregate
    queries whatever the period's size, each filtered on an indexed period column (orders'
    placed_at, returns' created_at and resolved_at, inspections' inspected_at)."""
    sold = OrderLine.objects.filter(order__placed_at__gte=since, order__placed_at__lt=until, order__currency=currency)
    requests = ReturnRequest.objects.filter(
        created_at__gte=since, created_at__lt=until, currency=currency, status__in=ACTIVE_RETURN_STATUSES
    )
    resolved = ReturnRequest.objects.filter(
        resolved_at__gte=since, resolved_at__lt=until, currency=currency, status=ReturnStatus.RESOLVED
    )
    inspected = InspectedItem.objects.filter(
        inspected_at__gte=since, inspected_at__lt=until, return_line__return_request__currency=currency
    )
    if location is not None:
        sold = sold.filter(order__location=location)
        requests = requests.filter(Q(received_location=location) | Q(drop_off_location=location))
        resolved = resolved.filter(received_location=location)
        inspected = inspected.filter(location=location)
    returned_lines = ReturnLine.objects.filter(return_request__in=requests)
    units = F("quantity")

    sold_by_product = dict(
        sold.values("product")
        .annotate(units=Sum(F("quantity") - F("quantity_cancelled")))
        .values_list("product", "units")
        .order_by()
    )
    by_product = list(
        returned_lines.values("product", sku=F("product__sku"))
        .annotate(units=Sum(units), returns=Count("return_request", distinct=True), value=Sum("value"))
        .order_by("-units", "sku")[:TOP]
    )
    for row in by_product:
        row["units_sold"] = sold_by_product.get(row["product"], 0)
        row["return_rate"] = _percent(row["units"], row["units_sold"])
    by_reason = list(
        returned_lines.values("reason").annotate(units=Sum(units), value=Sum("value")).order_by("-units", "reason")
    )
    serial = list(
        returned_lines.exclude(reason__in=RETAILER_FAULT_REASONS)
        .values(customer=F("return_request__customer"), number=F("return_request__customer__number"))
        .annotate(returns=Count("return_request", distinct=True), units=Sum(units))
        .filter(returns__gte=SERIAL_RETURNER_MIN)
        .order_by("-returns", "-units", "number")[:TOP]
    )
    inspected_totals = inspected.aggregate(
        units=Sum("quantity", default=0),
        kept=Sum("quantity", filter=~Q(disposition=Disposition.LANDFILL), default=0),
        recovered=Sum("recovered_value", default=Decimal("0")),
    )
    units_sold = sum(sold_by_product.values())
    units_returned = sum(row["units"] for row in by_reason)  # every returned line has one reason
    return Analytics(
        returns=requests.count(),
        units_sold=units_sold,
        units_returned=units_returned,
        return_rate=_percent(units_returned, units_sold),
        **_given_back(resolved),
        value_recovered=inspected_totals["recovered"],
        units_inspected=inspected_totals["units"],
        units_kept_from_landfill=inspected_totals["kept"],
        landfill_diversion=_percent(inspected_totals["kept"], inspected_totals["units"]),
        by_product=by_product,
        by_reason=by_reason,
        serial_returners=serial,
    )
