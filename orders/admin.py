"""Orders in the Django admin: managers look things up, settle refunds, escalate and cancel through
the same services as the API (actions below); derived figures and the ledger are read-only."""

from django.contrib import admin

from core.admin_tools import BigTableAdmin, HistoryAdmin, ReadOnlyInline, transition_action
from orders.models import (
    Carrier,
    Charge,
    Delivery,
    DeliveryException,
    DeliveryLine,
    Order,
    OrderLine,
    Pickup,
    PickupLine,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from orders.services.charges import charge_settle
from orders.services.deliveries import delivery_cancel
from orders.services.delivery_exceptions import exception_escalate
from orders.services.pickups import pickup_cancel


# Admin actions call services as service(obj, actor=..., reason=...): these adapters name the object.
def settle(charge, *, actor, reason):
    return charge_settle(charge=charge, actor=actor)


def escalate(exception, *, actor, reason):
    return exception_escalate(actor=actor, exception=exception, note=reason)


def cancel_delivery(delivery, *, actor, reason):
    return delivery_cancel(actor=actor, delivery=delivery, reason=reason)


def cancel_pickup(pickup, *, actor, reason):
    return pickup_cancel(actor=actor, pickup=pickup, reason=reason)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "product",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "promised_date",
        "quantity_shipped",
        "quantity_delivered",
        "quantity_cancelled",
    ]
    readonly_fields = fields


class ChargeInline(ReadOnlyInline):
    model = Charge
    fields = ["kind", "status", "amount", "currency", "reference", "note", "created_at", "settled_at"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(BigTableAdmin, HistoryAdmin):
    """Orders come from tills, web shops and the API (services keep the total, the ledger and the
    status): here they are read, and only the promise may be corrected."""

    list_display = ["number", "customer", "channel", "status", "total", "currency", "placed_at", "at_risk_reason"]
    list_filter = ["status", "channel", "fulfilment", "at_risk_reason", "source"]
    list_select_related = ["customer"]
    search_fields = ["=number", "=external_id", "=customer__number", "=customer__email"]
    readonly_fields = [
        "number",
        "customer",
        "channel",
        "source",
        "external_id",
        "location",
        "associate",
        "currency",
        "total",
        "placed_at",
        "fulfilment",
        "status",
        "at_risk_reason",
        "at_risk_since",
        "revised_estimate",
    ]
    fields = [*readonly_fields[:11], "service_level", "promised_date", *readonly_fields[11:]]
    inlines = [OrderLineInline, ChargeInline]

    def has_add_permission(self, request):
        return False


@admin.register(Charge)
class ChargeAdmin(BigTableAdmin):
    list_display = ["order", "kind", "status", "amount", "currency", "created_at", "settled_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["order"]
    search_fields = ["=order__number", "=reference"]
    readonly_fields = [f.name for f in Charge._meta.fields]
    actions = [transition_action(settle, label="Mark settled (the processor confirmed)")]

    def has_add_permission(self, request):
        return False


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    search_fields = ["code", "name"]

    def get_fields(self, request, obj=None):
        # The webhook secret is written here, never shown again.
        fields = ["code", "name", "tracking_url", "is_active"]
        return [*fields, "webhook_secret"] if obj is None else fields


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = readonly_fields = ["order_line", "quantity"]


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = readonly_fields = ["occurred_at", "status", "description", "place", "event_id", "received_at"]
    ordering = ["-occurred_at"]


@admin.register(Shipment)
class ShipmentAdmin(BigTableAdmin):
    list_display = ["number", "order", "carrier", "tracking_number", "status", "estimated_delivery", "shipped_at"]
    list_filter = ["status", "carrier", "service_level"]
    list_select_related = ["order", "carrier"]
    search_fields = ["=number", "=tracking_number", "=order__number"]
    readonly_fields = [f.name for f in Shipment._meta.fields]
    inlines = [ShipmentLineInline, TrackingEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(TrackingEvent)
class TrackingEventAdmin(BigTableAdmin):
    list_display = ["occurred_at", "carrier", "tracking_number", "status", "shipment", "received_at"]
    list_filter = ["status", "carrier", ("shipment", admin.EmptyFieldListFilter)]
    list_select_related = ["carrier", "shipment"]
    search_fields = ["=tracking_number", "=event_id"]
    readonly_fields = [f.name for f in TrackingEvent._meta.fields]

    def has_add_permission(self, request):
        return False


class DeliveryLineInline(ReadOnlyInline):
    model = DeliveryLine
    fields = readonly_fields = ["order_line", "quantity", "quantity_received", "condition"]


@admin.register(Delivery)
class DeliveryAdmin(BigTableAdmin, HistoryAdmin):
    list_display = ["number", "order", "customer", "window_start", "service", "status"]
    list_filter = ["status", "service"]
    list_select_related = ["order", "customer"]
    search_fields = ["=number", "=order__number", "=customer__number"]
    date_hierarchy = "window_start"
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryLineInline]
    actions = [transition_action(cancel_delivery, label="Cancel delivery")]

    def has_add_permission(self, request):
        return False


@admin.register(DeliveryException)
class DeliveryExceptionAdmin(BigTableAdmin, HistoryAdmin):
    """The queue, oldest first. Remedies (ship the rest, goodwill, free shipping) are given from
    the associate pages and the API, which ask for the amount or the new estimate."""

    list_display = ["opened_at", "kind", "status", "order", "customer", "remedy", "resolved_at"]
    list_filter = ["status", "kind", "remedy"]
    list_select_related = ["order", "customer"]
    search_fields = ["=order__number", "=customer__number"]
    ordering = ["opened_at", "id"]
    readonly_fields = [f.name for f in DeliveryException._meta.fields]
    actions = [transition_action(escalate, label="Escalate")]

    def has_add_permission(self, request):
        return False


class PickupLineInline(ReadOnlyInline):
    model = PickupLine
    fields = readonly_fields = ["order_line", "quantity"]


@admin.register(Pickup)
class PickupAdmin(BigTableAdmin, HistoryAdmin):
    """Never shows the pickup code: only its customer may see it."""

    list_display = ["number", "order", "location", "status", "ready_at", "expires_at", "collected_at"]
    list_filter = ["status", "location"]
    list_select_related = ["order", "location"]
    search_fields = ["=number", "=order__number", "=customer__number"]
    exclude = ["code"]
    readonly_fields = [f.name for f in Pickup._meta.fields if f.name != "code"]
    inlines = [PickupLineInline]
    actions = [transition_action(cancel_pickup, label="Cancel pickup")]

    def has_add_permission(self, request):
        return False
