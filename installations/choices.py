"""Enumerations of the installations app, and the tables that go with them."""

from django.db import models


class ServiceKind(models.TextChoices):
    INSTALLATION = "installation", "Installation"
    ASSEMBLY = "assembly", "Assembly"


class ServicePlace(models.TextChoices):
    HOME = "home", "At the customer's address"
    STORE = "store", "In store"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested, no time yet"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Customer not there"


# Appointments that hold their associate's time: no two of one associate may overlap.
HOLDING_STATUSES = (AppointmentStatus.SCHEDULED, AppointmentStatus.IN_PROGRESS)
# Appointments that take one of the units bought: asked for, held, or done.
UNIT_TAKING_STATUSES = (AppointmentStatus.REQUESTED, *HOLDING_STATUSES, AppointmentStatus.COMPLETED)


class TrainingPlace(models.TextChoices):
    STORE = "store", "In store"
    HOME = "home", "At home"
    ONLINE = "online", "Online"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", "Enrolled"
    WAITLISTED = "waitlisted", "On the waiting list"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    ABSENT = "absent", "Did not come"


# Enrolments that take a seat, and those that wait for one.
SEATED_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.ATTENDED, EnrolmentStatus.ABSENT)


class TrainingRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for an associate"
    ARRANGED = "arranged", "Arranged"
    DECLINED = "declined", "Declined"


class AlterationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    MEASURED = "measured", "Measured"
    IN_PROGRESS = "in_progress", "In progress"
    QUALITY_CHECK = "quality_check", "Quality check"
    READY = "ready", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    CANCELLED = "cancelled", "Cancelled"


# Work orders still to be finished: what the work queue and the calendar's due dates show.
OPEN_ALTERATION_STATUSES = (
    AlterationStatus.REQUESTED,
    AlterationStatus.MEASURED,
    AlterationStatus.IN_PROGRESS,
    AlterationStatus.QUALITY_CHECK,
)
