"""Filtersets of the core endpoints (query parameters of the list endpoints)."""

import django_filters as filters
from django.db.models import Exists, F, OuterRef
from django_filters.rest_framework import DjangoFilterBackend

from core.choices import Channel, TouchpointKind
from core.models import (
    AssociateProfile,
    Customer,
    CustomerExternalId,
    Inventory,
    Location,
    Notification,
    Product,
    Touchpoint,
)


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the filters: building a FilterSet
    and its form deep-copies every filter, a few milliseconds on every unfiltered list call."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or request.query_params.keys().isdisjoint(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    phone = filters.CharFilter(field_name="phone")
    external_id = filters.CharFilter(
        method="filter_external_id", help_text="source:id, e.g. pos:P-77 (the customer's id in another system)"
    )
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["number", "preferred_channel", "language"]

    def filter_external_id(self, queryset, name, value):
        source, _, external_id = value.partition(":")
        links = CustomerExternalId.objects.filter(customer=OuterRef("pk"), source=source, external_id=external_id)
        return queryset.filter(Exists(links))


class TimelineFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=TouchpointKind.choices)
    channel = filters.MultipleChoiceFilter(choices=Channel.choices)
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    order_number = filters.CharFilter()

    class Meta:
        model = Touchpoint
        fields = ["kind", "channel", "order_number"]


class LocationFilter(filters.FilterSet):
    class Meta:
        model = Location
        fields = ["kind", "open_24h", "is_active", "country", "city"]


class ProductFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="category__slug")

    class Meta:
        model = Product
        fields = [
            "category",
            "returnable",
            "installable",
            "trainable",
            "alterable",
            "recyclable",
            "stocked",
            "is_active",
        ]


class InventoryFilter(filters.FilterSet):
    sku = filters.CharFilter(field_name="product__sku")
    location_code = filters.CharFilter(field_name="location__code")
    available_below = filters.NumberFilter(method="filter_available_below")

    class Meta:
        model = Inventory
        fields = ["product", "location"]

    def filter_available_below(self, queryset, name, value):
        return queryset.alias(avail=F("on_hand") - F("reserved")).filter(avail__lt=value)


class AssociateFilter(filters.FilterSet):
    skill = filters.CharFilter(field_name="skills__code")

    class Meta:
        model = AssociateProfile
        fields = ["home_location"]


class NotificationFilter(filters.FilterSet):
    class Meta:
        model = Notification
        fields = ["customer", "status", "channel", "event"]
