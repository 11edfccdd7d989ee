"""Workflow services of the test Ticket, shaped like a domain app's (`<thing>_<verb>`)."""

from django.db import transaction

from core.workflow import transition_apply


def ticket_start(ticket, *, actor, reason=""):
    with transaction.atomic():
        return transition_apply(ticket, "start", actor=actor, reason=reason)


def ticket_cancel(ticket, *, actor, reason=""):
    with transaction.atomic():
        return transition_apply(ticket, "cancel", actor=actor, reason=reason)
