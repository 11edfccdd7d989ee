"""Services after the sale that need a person at a time: what can be booked (service types and the
skills they need), when associates work (weekly hours and absences), and the appointments.

Rows change through `installations.services` only; the models hold tables, constraints and indexes.
One rule lives in the database on PostgreSQL: an associate's holding appointments never overlap
(an exclusion constraint made by migration 0002; SQLite serialises writers and the booking
service checks under that lock).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.codes import readable_code
from core.models import CURRENCY_MAX_LENGTH, AssociateProfile, Category, Customer, Location, Product, Skill
from installations.choices import (
    HOLDING_STATUSES,
    AlterationStatus,
    AppointmentStatus,
    EnrolmentStatus,
    ServiceKind,
    ServicePlace,
    SessionStatus,
    TrainingPlace,
    TrainingRequestStatus,
)
from orders.models import OrderLine


class ServiceType(models.Model):
    """Something an associate does for a purchased product, for a product or a whole category."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ServiceKind.choices)
    place = models.CharField(max_length=10, choices=ServicePlace.choices, default=ServicePlace.HOME)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(15), MaxValueValidator(720)])
    travel_buffer_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(240)],
        help_text="Kept free before and after a home visit for the journey",
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="+", help_text="All of them are needed")
    fee = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH, default="EUR")
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords(m2m_fields=[skills])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=15), name="service_type_duration_min"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="service_type_fee_non_negative"),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(category__isnull=True), name="service_type_one_scope"
            ),
        ]

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    """A span an associate works on a weekday, in their home location's time zone."""

    associate = models.ForeignKey(AssociateProfile, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)], help_text="0 is Monday")
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["associate_id", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="working_hours_span"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday"),
        ]

    def __str__(self):
        return f"{self.associate_id}: day {self.weekday} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Absence(models.Model):
    """Time an associate is not there although their week says so (leave, sickness, training)."""

    associate = models.ForeignKey(AssociateProfile, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["associate", "ends_at"], name="absence_associate_ends")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="absence_span")]

    def __str__(self):
        return f"{self.associate_id} away {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


def appointment_number() -> str:
    return readable_code("A")


class Appointment(models.Model):
    """A service for a purchased product, by one associate, at the customer's address or a store.

    `starts_at`–`ends_at` is the job; `blocked_from`–`blocked_until` adds the travel buffers and is
    what must not overlap another holding appointment of the same associate. A requested
    appointment has neither associate nor times yet: the customer asked, the store schedules it."""

    number = models.CharField(max_length=12, unique=True, default=appointment_number, editable=False)
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="appointments")
    associate = models.ForeignKey(
        AssociateProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The store, or where the associate sets out from",
    )
    # A home visit copies the address: the customer's addresses may change after booking.
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    blocked_from = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    preferred = models.CharField(
        max_length=300, blank=True, help_text="When suits the customer, in their words (a request)"
    )
    status = FSMField(choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED, protected=True)
    checklist = models.JSONField(default=list, blank=True, help_text="At completion: [{item, done}]")
    notes = models.TextField(blank=True)
    signed_off_by = models.CharField(max_length=120, blank=True, help_text="Who signed for the work")
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(
                fields=["associate", "blocked_from"],
                name="appointment_holding",
                condition=Q(status__in=HOLDING_STATUSES),
            ),
            models.Index(fields=["location", "starts_at"], name="appointment_location_day"),
            models.Index(fields=["customer", "-starts_at"], name="appointment_customer"),
            # the reminder sweep walks scheduled appointments nobody was reminded of yet
            models.Index(
                fields=["starts_at", "id"],
                name="appointment_to_remind",
                condition=Q(status=AppointmentStatus.SCHEDULED, reminded_at__isnull=True),
            ),
            # the store's queue of requests to schedule, oldest first
            models.Index(
                fields=["location", "created_at", "id"],
                name="appointment_requests",
                condition=Q(status=AppointmentStatus.REQUESTED),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_span"),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("starts_at")) & Q(blocked_until__gte=F("ends_at")),
                name="appointment_blocked_covers_job",
            ),
            # requested, or cancelled before it got a time: no slot; otherwise a whole one
            models.CheckConstraint(
                condition=Q(status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.CANCELLED])
                | Q(
                    associate__isnull=False,
                    starts_at__isnull=False,
                    ends_at__isnull=False,
                    blocked_from__isnull=False,
                    blocked_until__isnull=False,
                ),
                name="appointment_has_slot_once_scheduled",
            ),
        ]

    def __str__(self):
        return self.number

    @transition(field=status, source=AppointmentStatus.REQUESTED, target=AppointmentStatus.SCHEDULED)
    def schedule(self, *, associate, slot: dict):
        self.associate = associate
        for name, value in slot.items():
            setattr(self, name, value)

    @transition(field=status, source=AppointmentStatus.SCHEDULED, target=AppointmentStatus.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=status, source=AppointmentStatus.IN_PROGRESS, target=AppointmentStatus.COMPLETED)
    def complete(self, *, at, checklist, notes, signed_off_by):
        self.completed_at, self.checklist, self.notes, self.signed_off_by = at, checklist, notes, signed_off_by

    @transition(
        field=status,
        source=[AppointmentStatus.REQUESTED, AppointmentStatus.SCHEDULED],
        target=AppointmentStatus.CANCELLED,
    )
    def cancel(self):
        pass

    @transition(field=status, source=AppointmentStatus.SCHEDULED, target=AppointmentStatus.NO_SHOW)
    def mark_no_show(self):
        pass


# --- training ---------------------------------------------------------------------------------


class TrainingCourse(models.Model):
    """What customers learn about a product or a category (espresso at home, cooking with steam)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(category__isnull=True), name="training_course_one_scope"
            )
        ]

    def __str__(self):
        return self.name


class TrainingSession(models.Model):
    """One sitting of a course, with its seats; when they are taken, customers wait in line."""

    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="sessions")
    place = models.CharField(max_length=10, choices=TrainingPlace.choices, default=TrainingPlace.STORE)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text="The store; for online and home, the organiser"
    )
    trainer = models.ForeignKey(
        AssociateProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="training_sessions"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["location", "starts_at"], name="training_session_location_day")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="training_session_span"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="training_session_capacity"),
        ]

    def __str__(self):
        return f"{self.course} {self.starts_at:%Y-%m-%d %H:%M}"


class Enrolment(models.Model):
    """A customer's seat in a session, or their place in its waiting list (first come, first
    promoted)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.PROTECT, related_name="enrolments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=EnrolmentStatus.choices)
    created_at = models.DateTimeField(default=timezone.now, help_text="Also the place in the waiting list")
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "status", "created_at"], name="enrolment_session_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "customer"],
                condition=~Q(status=EnrolmentStatus.CANCELLED),
                name="enrolment_once_per_session",
            )
        ]

    def __str__(self):
        return f"{self.customer_id} in {self.session_id} ({self.status})"


class TrainingRequest(models.Model):
    """A customer's "I need training" on a purchase, for an associate to follow up from a queue."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True, help_text="What the customer wants to learn")
    status = models.CharField(max_length=10, choices=TrainingRequestStatus.choices, default=TrainingRequestStatus.OPEN)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=500, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                name="training_request_queue",
                condition=Q(status=TrainingRequestStatus.OPEN),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line"], condition=Q(status=TrainingRequestStatus.OPEN), name="training_request_open_once"
            )
        ]

    def __str__(self):
        return f"Training wanted for line {self.order_line_id} ({self.status})"


# --- alterations ------------------------------------------------------------------------------


class AlterationKind(models.Model):
    """A kind of post-purchase work on an item (hemming, taking in, a made-to-measure fitting), with
    its turnaround and fee. The fee is sold as `service_product`, a product that is not stocked,
    so it goes through an order's lines and charges ledger like any sale."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    skills = models.ManyToManyField(Skill, blank=True, related_name="+", help_text="All of them are needed")
    turnaround_days = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(90)], help_text="Days from the request to ready for pickup"
    )
    fee = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH, default="EUR")
    service_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"stocked": False},
        help_text="The not-stocked product the fee is sold as",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords(m2m_fields=[skills])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="alteration_kind_fee_non_negative"),
            models.CheckConstraint(condition=Q(turnaround_days__lte=90), name="alteration_kind_turnaround"),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(category__isnull=True), name="alteration_kind_one_scope"
            ),
        ]

    def __str__(self):
        return self.name


def alteration_number() -> str:
    return readable_code("W")


class Alteration(models.Model):
    """A work order on a purchased item: what to do (specification, measurements), who does it, by
    when, what it costs (`service_order`, its fee's order), and its pickup once ready."""

    number = models.CharField(max_length=12, unique=True, default=alteration_number, editable=False)
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.ForeignKey(AlterationKind, on_delete=models.PROTECT, related_name="alterations")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text="Where the work is done and collected"
    )
    specification = models.TextField(help_text="What to do, in the customer's words and the tailor's")
    measurements = models.JSONField(default=dict, blank=True, help_text="{name: value}, e.g. inside leg: 78 cm")
    status = FSMField(choices=AlterationStatus.choices, default=AlterationStatus.REQUESTED, protected=True)
    assigned_to = models.ForeignKey(
        AssociateProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="alterations"
    )
    due_on = models.DateField(help_text="Ready by this day, in the location's calendar")
    fee = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH)
    service_order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="+", help_text="The fee's order and ledger"
    )
    pickup = models.ForeignKey(
        "orders.Pickup", on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="The latest"
    )
    quality_note = models.CharField(max_length=500, blank=True, help_text="The last quality check's finding")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    measured_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["location", "due_on"], name="alteration_location_due"),
            models.Index(fields=["assigned_to", "due_on"], name="alteration_assignee_due"),
            models.Index(fields=["customer", "-created_at"], name="alteration_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="alteration_fee_non_negative"),
        ]

    def __str__(self):
        return self.number

    @transition(
        field=status, source=[AlterationStatus.REQUESTED, AlterationStatus.MEASURED], target=AlterationStatus.MEASURED
    )
    def measure(self, *, measurements, at):
        self.measurements, self.measured_at = measurements, at

    @transition(field=status, source=AlterationStatus.MEASURED, target=AlterationStatus.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=status, source=AlterationStatus.IN_PROGRESS, target=AlterationStatus.QUALITY_CHECK)
    def submit(self):
        pass

    @transition(field=status, source=AlterationStatus.QUALITY_CHECK, target=AlterationStatus.IN_PROGRESS)
    def rework(self, *, note):
        self.quality_note = note

    @transition(field=status, source=AlterationStatus.QUALITY_CHECK, target=AlterationStatus.READY)
    def approve(self, *, note, at):
        self.quality_note, self.ready_at = note, at

    @transition(field=status, source=AlterationStatus.READY, target=AlterationStatus.COLLECTED)
    def collect(self, *, at):
        self.closed_at = at

    @transition(
        field=status, source=[AlterationStatus.REQUESTED, AlterationStatus.MEASURED], target=AlterationStatus.CANCELLED
    )
    def cancel(self, *, at):
        self.closed_at = at
