"""Selling transactions and what happens to them: lines, the charges ledger, shipments and their
tracking, home deliveries with their exceptions, and pickups.

Rows change through `orders.services` only; the models hold tables, constraints and indexes.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.choices import Channel
from core.codes import readable_code
from core.models import Customer, Location, Product
from orders.choices import (
    OPEN_ORDER_STATUSES,
    ChargeKind,
    ChargeStatus,
    DeliveryService,
    DeliveryStatus,
    ExceptionKind,
    ExceptionStatus,
    FulfilmentMethod,
    ItemCondition,
    OrderSource,
    OrderStatus,
    PickupStatus,
    Remedy,
    RiskReason,
    ServiceLevel,
    ShipmentStatus,
)


def order_number() -> str:
    return readable_code("R")


class Order(models.Model):
    number = models.CharField(max_length=12, unique=True, default=order_number, editable=False)
    # Indexed first in order_customer_newest, which serves every look-up by customer.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    source = models.CharField(max_length=12, choices=OrderSource.choices, blank=True)
    external_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The order's id in the selling system (POS, e-commerce); unique per source.",
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, default="EUR")
    total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), help_text="Sum of the lines; kept by the services."
    )
    placed_at = models.DateTimeField(default=timezone.now)
    fulfilment = models.CharField(max_length=10, choices=FulfilmentMethod.choices, default=FulfilmentMethod.CARRY_OUT)
    service_level = models.CharField(max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD)
    promised_date = models.DateField(
        null=True, blank=True, help_text="Delivery promised for the whole order; a line's own promise overrides it."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED, editable=False)
    # Set by the delay sweep when the order will miss its promise; cleared when it is fulfilled.
    at_risk_reason = models.CharField(max_length=20, choices=RiskReason.choices, blank=True, editable=False)
    at_risk_since = models.DateTimeField(null=True, blank=True, editable=False)
    revised_estimate = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # History rows are read by order (id) and date only; the copies of the other indexes only
    # slowed every write, the bulk import's most (one history row per order).
    history = HistoricalRecords(
        excluded_fields=["updated_at"], no_db_index=["number", "customer", "location", "associate"]
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        permissions = [("cancel_lines_order", "Can cancel units that have not shipped")]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_newest"),
            # sales of a period (the returns analytics' units sold)
            models.Index(fields=["placed_at"], name="order_placed"),
            # the delay sweep walks open orders that carry a promise
            models.Index(
                fields=["promised_date"],
                name="order_open_promise",
                condition=Q(status__in=OPEN_ORDER_STATUSES),
            ),
            models.Index(fields=["at_risk_since"], name="order_at_risk", condition=Q(at_risk_since__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.UniqueConstraint(
                fields=["source", "external_id"], name="order_external_id_unique", condition=~Q(external_id="")
            ),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    promised_date = models.DateField(null=True, blank=True)
    quantity_shipped = models.PositiveIntegerField(default=0, editable=False)
    quantity_delivered = models.PositiveIntegerField(default=0, editable=False)
    quantity_cancelled = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(discount__gte=0) & Q(tax__gte=0),
                name="order_line_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_shipped__lte=F("quantity") - F("quantity_cancelled"))
                & Q(quantity_delivered__lte=F("quantity") - F("quantity_cancelled")),
                name="order_line_fulfilment_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount + self.tax

    @property
    def unit_amount(self) -> Decimal:
        """What one unit costs after its share of the discount and tax (not rounded)."""
        return self.amount / self.quantity

    @property
    def active_quantity(self) -> int:
        return self.quantity - self.quantity_cancelled


class Charge(models.Model):
    """One entry of an order's charges ledger: append-only; a pending entry may settle once."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="charges", db_index=False)
    kind = models.CharField(max_length=20, choices=ChargeKind.choices)
    status = models.CharField(max_length=10, choices=ChargeStatus.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="+ the customer pays, - money goes back")
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=64, blank=True, help_text="The payment processor's or voucher's reference")
    shipment = models.ForeignKey("Shipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [models.Index(fields=["order", "id"], name="charge_order")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="charge_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(status=ChargeStatus.SETTLED, settled_at__isnull=False)
                | Q(status=ChargeStatus.PENDING, settled_at__isnull=True),
                name="charge_settled_at_with_status",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"


class Carrier(models.Model):
    """A parcel carrier that pushes tracking events to `webhooks/carriers/<code>/`."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    webhook_secret = models.CharField(
        max_length=128, help_text="Shared secret of the HMAC-SHA256 signature on the carrier's webhook calls."
    )
    tracking_url = models.CharField(
        max_length=200, blank=True, help_text="Public tracking page, with {tracking_number} where the number goes."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def shipment_number() -> str:
    return readable_code("S")


class Shipment(models.Model):
    number = models.CharField(max_length=12, unique=True, default=shipment_number, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments", db_index=False)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="shipments")
    service_level = models.CharField(max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=ShipmentStatus.choices, default=ShipmentStatus.INFO_RECEIVED)
    estimated_delivery = models.DateTimeField(null=True, blank=True)
    pickup_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set when it ships to a pickup point.",
    )
    shipped_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="When the newest applied event happened")

    class Meta:
        ordering = ["-shipped_at", "-id"]
        indexes = [models.Index(fields=["order", "shipped_at"], name="shipment_order")]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipment_tracking_unique"),
        ]

    def __str__(self):
        return f"{self.number} ({self.tracking_number})"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × line {self.order_line_id}"


class TrackingEvent(models.Model):
    """A carrier's event, applied once (unique per carrier and event id). Events for tracking
    numbers we do not know yet are kept with no shipment and matched when the shipment appears."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=64)
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, null=True, blank=True, related_name="events", db_index=False
    )
    status = models.CharField(max_length=24, choices=ShipmentStatus.choices)
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=300, blank=True)
    place = models.CharField(max_length=120, blank=True)
    estimated_delivery = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["shipment", "-occurred_at"], name="tracking_shipment_newest"),
            models.Index(
                fields=["carrier", "tracking_number"], name="tracking_unmatched", condition=Q(shipment__isnull=True)
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["carrier", "event_id"], name="tracking_event_once")]

    def __str__(self):
        return f"{self.tracking_number}: {self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"


def delivery_number() -> str:
    return readable_code("D")


class Delivery(models.Model):
    """A home-delivery appointment: the window, where, what is coming, and how it went."""

    number = models.CharField(max_length=12, unique=True, default=delivery_number, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="deliveries")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # The address is copied, not referenced: the customer's addresses can change after booking.
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    instructions = models.CharField(max_length=500, blank=True)
    service = models.CharField(max_length=12, choices=DeliveryService.choices, default=DeliveryService.STANDARD)
    status = FSMField(choices=DeliveryStatus.choices, default=DeliveryStatus.SCHEDULED, protected=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["window_start", "id"]
        indexes = [
            models.Index(fields=["customer", "-window_start"], name="delivery_customer"),
            models.Index(
                fields=["window_start"], name="delivery_scheduled", condition=Q(status=DeliveryStatus.SCHEDULED)
            ),
        ]
        constraints = [models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="delivery_window")]

    def __str__(self):
        return self.number

    @transition(field=status, source=DeliveryStatus.SCHEDULED, target=DeliveryStatus.DELIVERED)
    def deliver(self):
        pass

    @transition(field=status, source=DeliveryStatus.SCHEDULED, target=DeliveryStatus.PARTIALLY_DELIVERED)
    def deliver_partially(self):
        pass

    @transition(field=status, source=DeliveryStatus.SCHEDULED, target=DeliveryStatus.REFUSED)
    def refuse(self):
        pass

    @transition(field=status, source=DeliveryStatus.SCHEDULED, target=DeliveryStatus.CANCELLED)
    def cancel(self):
        pass


class DeliveryLine(models.Model):
    """What a delivery brings: planned when it is booked, counted when it is recorded."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_received = models.PositiveIntegerField(null=True, blank=True)
    condition = models.CharField(max_length=10, choices=ItemCondition.choices, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "order_line"], name="delivery_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="delivery_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__isnull=True) | Q(quantity_received__lte=F("quantity")),
                name="delivery_line_received_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × line {self.order_line_id}"


class DeliveryException(models.Model):
    """A delivery that did not go as promised (items missing, damaged, refused), until resolved."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="exceptions")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="delivery_exceptions")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ExceptionKind.choices)
    details = models.JSONField(default=list, help_text="Per line: order line, expected, received, condition")
    status = FSMField(choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN, protected=True)
    remedy = models.CharField(max_length=16, choices=Remedy.choices, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(
                fields=["opened_at", "id"],
                name="delivery_exception_queue",
                condition=Q(status__in=[ExceptionStatus.OPEN, ExceptionStatus.ESCALATED]),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.delivery_id}"

    @transition(field=status, source=[ExceptionStatus.OPEN, ExceptionStatus.ESCALATED], target=ExceptionStatus.RESOLVED)
    def resolve(self, *, remedy, note, at):
        self.remedy, self.resolution_note, self.resolved_at = remedy, note, at

    @transition(field=status, source=ExceptionStatus.OPEN, target=ExceptionStatus.ESCALATED)
    def escalate(self):
        pass


def pickup_number() -> str:
    return readable_code("P")


class Pickup(models.Model):
    """An order (or part of it) waiting at a store, locker or pickup point for its customer."""

    number = models.CharField(max_length=12, unique=True, default=pickup_number, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="pickups")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="pickups", db_index=False)
    code = models.CharField(
        max_length=20, unique=True, editable=False, help_text="One-time code; shown to its customer only"
    )
    status = FSMField(choices=PickupStatus.choices, default=PickupStatus.READY, protected=True)
    ready_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["code"])  # the code is the customer's alone

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [
            models.Index(fields=["location", "status", "expires_at"], name="pickup_location_waiting"),
            models.Index(fields=["expires_at"], name="pickup_ready_expiry", condition=Q(status=PickupStatus.READY)),
            models.Index(fields=["customer", "-ready_at"], name="pickup_customer"),
        ]

    def __str__(self):
        return self.number

    @transition(field=status, source=PickupStatus.READY, target=PickupStatus.COLLECTED)
    def collect(self, *, by, at):
        self.collected_by, self.collected_at, self.closed_at = by, at, at

    @transition(field=status, source=PickupStatus.READY, target=PickupStatus.EXPIRED)
    def expire(self, *, at):
        self.closed_at = at

    @transition(field=status, source=PickupStatus.READY, target=PickupStatus.CANCELLED)
    def cancel(self, *, at):
        self.closed_at = at


class PickupLine(models.Model):
    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    holds_stock = models.BooleanField(
        default=True,
        editable=False,
        help_text="Its units were reserved on the shelf when it was made ready (a stocked product then)",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["pickup", "order_line"], name="pickup_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="pickup_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × line {self.order_line_id}"
