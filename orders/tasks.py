"""Periodic work of the orders app (scheduled by CELERY_BEAT_SCHEDULE): thin wrappers around
services that are safe to run twice and beside each other."""

from celery import shared_task

from orders.services import deliveries, pickups, risk


@shared_task(name="orders.tasks.delay_sweep", ignore_result=True)
def delay_sweep() -> int:
    """Warn customers of orders that will miss their promise, once."""
    return risk.delay_sweep()


@shared_task(name="orders.tasks.pickup_sweep", ignore_result=True)
def pickup_sweep() -> dict:
    """Remind before a pickup's deadline; close the ones nobody collected."""
    return pickups.pickups_sweep()


@shared_task(name="orders.tasks.delivery_reminders", ignore_result=True)
def delivery_reminders() -> int:
    """Tell customers what is coming before their delivery window."""
    return deliveries.delivery_reminders_send()
