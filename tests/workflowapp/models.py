"""A minimal workflow model (a repair ticket) that exercises core.workflow like a domain app would."""

from django.db import models
from django_fsm import FSMField, transition

from core.models import Customer


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        IN_PROGRESS = "in_progress"
        RESOLVED = "resolved"
        CANCELLED = "cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    status = FSMField(choices=Status.choices, default=Status.OPEN, protected=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("cancel_ticket", "Can cancel a ticket")]

    @transition(field=status, source=Status.OPEN, target=Status.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.RESOLVED)
    def resolve(self, *, at):
        self.resolved_at = at

    @transition(
        field=status,
        source=[Status.OPEN, Status.IN_PROGRESS],
        target=Status.CANCELLED,
        permission="workflowapp.cancel_ticket",
    )
    def cancel(self):
        pass
