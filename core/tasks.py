"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task

from core import events
from core.services import idempotency, notifications


@shared_task(name="core.tasks.notification_send", ignore_result=True)
def notification_send_task(notification_id: int) -> None:
    notifications.notification_send(notification_id=notification_id)


@shared_task(name="core.tasks.notifications_sweep", ignore_result=True)
def notifications_sweep() -> int:
    return notifications.notifications_sweep()


@shared_task(name="core.tasks.idempotency_keys_purge", ignore_result=True)
def idempotency_keys_purge() -> int:
    return idempotency.idempotency_keys_purge()


@shared_task(
    name="core.tasks.event_deliver",
    ignore_result=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
)
def event_deliver_task(event: str, handler_path: str, payload: dict) -> None:
    events.deliver(event, handler_path, payload)
