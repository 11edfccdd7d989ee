"""Shared enterprise tables (people, places, products, stock) and the cross-cutting tables
(timeline, notification outbox, idempotency keys, workflow history)."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from core.choices import (
    Channel,
    ContactChannel,
    LocationKind,
    NotificationStatus,
    Role,
    TouchpointKind,
)
from core.codes import customer_number
from core.timezones import validate_time_zone

CURRENCY_MAX_LENGTH = 3
TIME_ZONE_MAX_LENGTH = 64


class User(AbstractUser):
    """Anyone who signs in: staff (by role group) and customers of the retailer's app."""

    email = models.EmailField("email address", unique=True)

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles (group names), read once per request."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser and Role.ADMIN in roles:
            return True
        return not self.role_names.isdisjoint(roles)

    @property
    def is_staff_member(self) -> bool:
        """Staff in the business sense: holds any role. (Django's is_staff is admin-site access.)"""
        return self.is_superuser or self.has_role(*Role.values)


class Location(models.Model):
    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=LocationKind.choices)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Weekday to list of [open, close] in local time, e.g. {"mon": [["09:00", "18:00"]]}.',
    )
    open_24h = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=TIME_ZONE_MAX_LENGTH, default="UTC", validators=[validate_time_zone])
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "is_active"])]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="location_latitude_range"),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="location_longitude_range"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Skill(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AssociateProfile(models.Model):
    """What the business knows of a staff member beyond the login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="associate")
    employee_code = models.CharField(max_length=20, unique=True)
    home_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="associates")
    skills = models.ManyToManyField(Skill, blank=True, related_name="associates")
    approval_limit = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    approval_currency = models.CharField(max_length=CURRENCY_MAX_LENGTH, default="EUR")
    history = HistoricalRecords()

    class Meta:
        ordering = ["employee_code"]
        constraints = [
            models.CheckConstraint(condition=Q(approval_limit__gte=0), name="associate_approval_limit_non_negative")
        ]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.email} ({self.employee_code})"


class Customer(models.Model):
    """The single customer record every channel reads and writes."""

    number = models.CharField(max_length=12, unique=True, default=customer_number, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        help_text="The login of the retailer's customer app, when the customer has one.",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    alternate_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +31201234567")
    alternate_phone = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=TIME_ZONE_MAX_LENGTH, default="UTC", validators=[validate_time_zone])
    language = models.CharField(max_length=10, default="en")
    preferred_channel = models.CharField(max_length=10, choices=ContactChannel.choices, default=ContactChannel.EMAIL)
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_push = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(Lower("email"), name="customer_email_lower"),
            models.Index(fields=["phone"]),
            models.Index(fields=["family_name", "given_name", "id"]),
            models.Index(fields=["-created_at", "-id"], name="customer_newest"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="customer_email_unique"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.number})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def consents_to(self, channel: str) -> bool:
        return bool(getattr(self, f"consent_{channel}", False))


class CustomerAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=40, default="home")
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True), name="customer_one_default_address"
            )
        ]

    def __str__(self):
        return f"{self.line1}, {self.postcode} {self.city}"


class CustomerExternalId(models.Model):
    """The customer's id in another system (POS, e-commerce), for idempotent imports."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(max_length=30)
    external_id = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="customer_external_id_unique")]

    def __str__(self):
        return f"{self.source}:{self.external_id}"


class Category(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH, default="EUR")
    returnable = models.BooleanField(default=True)
    return_window_days = models.PositiveSmallIntegerField(default=30)
    installable = models.BooleanField(default=False)
    trainable = models.BooleanField(default=False)
    alterable = models.BooleanField(default=False)
    stocked = models.BooleanField(
        default=True,
        help_text="Kept on shelves and counted in inventory; off for a service sold, like an alteration's fee",
    )
    recyclable = models.BooleanField(default=False)
    resale_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
        help_text="What a returned unit in good condition is expected to fetch.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["category", "is_active"])]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=Q(resale_value__gte=0), name="product_resale_value_non_negative"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class Inventory(models.Model):
    """On-hand and reserved stock of one product at one location."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="inventory")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inventory"
        ordering = ["location_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="inventory_product_location_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_non_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=models.F("on_hand")),
                name="inventory_reserved_within_on_hand",
            ),
        ]

    def __str__(self):
        return f"{self.product_id}@{self.location_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Touchpoint(models.Model):
    """One customer-facing event; the customer timeline is this table, newest first."""

    # No single-column indexes on customer, location and subject_type: the composite indexes
    # below start with them and serve the same look-ups (one index less to write per event).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="touchpoints", db_index=False)
    kind = models.CharField(max_length=20, choices=TouchpointKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order_number = models.CharField(
        max_length=20, blank=True, help_text="The order this event belongs to (see docs/decisions/0001)."
    )
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    subject_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # No (customer, kind) index: one customer has hundreds of events at most, so a kind filter
        # walks touchpoint_customer_newest and skips; an index per event written is not free.
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="touchpoint_customer_newest"),
            models.Index(fields=["location", "-occurred_at"], name="touchpoint_location_newest"),
            models.Index(fields=["subject_type", "subject_id"], name="touchpoint_subject"),
            models.Index(fields=["order_number"], condition=~Q(order_number=""), name="touchpoint_order"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.summary}"


class Notification(models.Model):
    """The outbox: a message to one customer on one channel, sent after the writer commits."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=60)
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED)
    dedupe_key = models.CharField(max_length=200, unique=True)
    order_number = models.CharField(
        max_length=12, blank=True, help_text="The order the message is about, by number (see decision 0001)"
    )
    secrets = models.JSONField(
        default=list, blank=True, help_text="Codes in the message that only its customer may read; masked for staff"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the sweep may send a still-queued row again (backs off)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="notification_customer_newest"),
            models.Index(fields=["-created_at", "-id"], name="notification_newest"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="notification_queued"),
            models.Index(fields=["order_number"], condition=~Q(order_number=""), name="notification_order"),
        ]

    def __str__(self):
        return f"{self.event} → {self.channel} {self.recipient} ({self.status})"

    def masked(self, text: str) -> str:
        """`text` with this message's secrets blanked out, for anyone but its customer."""
        return mask_secrets(text, self.secrets)


def mask_secrets(text: str, secrets) -> str:
    """`text` with each of `secrets` blanked out (Notification.masked, and reads that have a
    message's secrets as plain values)."""
    for secret in secrets:
        text = text.replace(secret, "•" * 6)
    return text


class IdempotencyKey(models.Model):
    """A POST remembered per caller and key, so a retried request is answered, not repeated."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class StateTransition(models.Model):
    """Who moved which workflow object from which state to which, when and why."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.BigIntegerField()
    field = models.CharField(max_length=60, default="status")
    transition = models.CharField(max_length=60)
    from_state = models.CharField(max_length=40)
    to_state = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "-at"], name="transition_subject")]

    def __str__(self):
        return f"{self.subject_type_id}#{self.subject_id}: {self.from_state} → {self.to_state}"
