"""Reads for alterations: the work queue and one work order, with what their rows show."""

from installations.models import Alteration, AlterationKind


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
