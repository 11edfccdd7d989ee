"""Reads shaped for the API and the pages, with the joins they need."""

from django.db import connection
from django.db.models import JSONField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.models import (
    AssociateProfile,
    Customer,
    CustomerAddress,
    Inventory,
    Notification,
    Touchpoint,
)


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.all()


def customer_list_rows() -> QuerySet[Customer]:
    """The customer list's columns only (the API list shows eight of seventeen)."""
    return Customer.objects.only(
        "id", "number", "given_name", "family_name", "email", "phone", "preferred_channel", "created_at"
    )


def customer_detail() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related(
        Prefetch("addresses", queryset=CustomerAddress.objects.order_by("-is_default", "id")), "external_ids"
    )


ADDRESS_COLUMNS = ("id", "label", "line1", "line2", "city", "postcode", "region", "country", "is_default")

# Built once in SQL: ORM expressions for the same JSON cost more to resolve and compile per request
# than the two queries they save. Coordinates as text keep the six decimals the API writes.
_ADDRESS_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_object(
               'id', a.id, 'label', a.label, 'line1', a.line1, 'line2', a.line2, 'city', a.city,
               'postcode', a.postcode, 'region', a.region, 'country', a.country, 'is_default', a.is_default,
               'latitude', a.latitude::text, 'longitude', a.longitude::text)
           ORDER BY a.is_default DESC, a.id)
    FROM core_customeraddress a WHERE a.customer_id = core_customer.id"""
_EXTERNAL_ID_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_object('source', e.source, 'external_id', e.external_id) ORDER BY e.id)
    FROM core_customerexternalid e WHERE e.customer_id = core_customer.id"""


def customer_record() -> QuerySet[Customer]:
    """The customer as the API shows it. On PostgreSQL in one query: the addresses and external ids
    come as JSON rows in the API's shape (`address_rows`, `external_id_rows`), which saves the two
    prefetch queries on the most-read record; elsewhere they are prefetched."""
    if connection.vendor != "postgresql":
        return customer_detail()
    return Customer.objects.annotate(
        address_rows=RawSQL(_ADDRESS_ROWS_SQL, (), output_field=JSONField()),  # noqa: S611 constant SQL, no input
        external_id_rows=RawSQL(_EXTERNAL_ID_ROWS_SQL, (), output_field=JSONField()),  # noqa: S611
    )


TIMELINE_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "channel",
    "occurred_at",
    "summary",
    "order_number",
    "subject_type_id",
    "subject_id",
    "associate__id",
    "associate__first_name",
    "associate__last_name",
    "location__id",
    "location__code",
    "location__name",
    "product__id",
    "product__sku",
    "product__name",
)


def timeline() -> QuerySet[Touchpoint]:
    """Touchpoints with what a timeline row shows (and no more: not the associate's password hash,
    not the location's opening hours), newest first."""
    return (
        Touchpoint.objects.select_related("associate", "location", "product")
        .only(*TIMELINE_COLUMNS)
        .order_by("-occurred_at", "-id")
    )


def customer_timeline(customer_id: int) -> QuerySet[Touchpoint]:
    """One customer's touchpoints, newest first (index touchpoint_customer_newest)."""
    return timeline().filter(customer_id=customer_id)


def location_touchpoints_today(location_id: int, tz) -> QuerySet[Touchpoint]:
    now = timezone.localtime(timezone.now(), tz)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Touchpoint.objects.filter(location_id=location_id, occurred_at__gte=start)
        .select_related("customer", "associate", "product")
        .order_by("-occurred_at", "-id")
    )


def inventory_list() -> QuerySet[Inventory]:
    return Inventory.objects.select_related("product", "location")


def associate_list() -> QuerySet[AssociateProfile]:
    return AssociateProfile.objects.select_related("user", "home_location").prefetch_related("skills", "user__groups")


def notification_list() -> QuerySet[Notification]:
    return Notification.objects.all()
