"""Periodic work of the installations app (scheduled by CELERY_BEAT_SCHEDULE): thin wrappers
around services that are safe to run twice and beside each other."""

from celery import shared_task

from installations import services


@shared_task(name="installations.tasks.appointment_reminders", ignore_result=True)
def appointment_reminders() -> int:
    """Remind customers the day before their appointment, once."""
    return services.appointments_remind()
