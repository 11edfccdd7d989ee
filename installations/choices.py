"""Enumerations of the installations app, and the tables that go with them."""

from django.db import models


class ServiceKind(models.TextChoices):
    INSTALLATION = "installation", "Installation"
    ASSEMBLY = "assembly", "Assembly"


class ServicePlace(models.TextChoices):
    HOME = "home", "At the customer's address"
    STORE = "store", "In store"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Customer not there"


# Appointments that hold their associate's time: no two of one associate may overlap.
HOLDING_STATUSES = (AppointmentStatus.SCHEDULED, AppointmentStatus.IN_PROGRESS)
