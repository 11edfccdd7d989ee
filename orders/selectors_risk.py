"""Reads of the delay warnings (the writes are in `orders.services.risk`)."""

from django.db.models import QuerySet

from orders.choices import OPEN_ORDER_STATUSES
from orders.models import Order


def orders_at_risk() -> QuerySet[Order]:
    """Open orders flagged as going to miss their promise, longest-flagged first: the queue an
    agent works through. Served by the partial index `order_at_risk`."""
    return (
        Order.objects.filter(at_risk_since__isnull=False, status__in=OPEN_ORDER_STATUSES)
        .select_related("customer")
        .order_by("at_risk_since", "id")
    )
